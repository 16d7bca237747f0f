//! The web console, in-process: sessions and cookies, CSRF and same-origin checks, partner
//! isolation, pagination and the reviewer's waiver forms. The browser tests (`browser.rs`)
//! drive the same pages in Chromium.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use super::{App, app, example};

pub(crate) struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub html: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// The value of the page's first `name="csrf"` hidden field.
    fn csrf(&self) -> String {
        let at = self.html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token");
        let rest = &self.html[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

impl App {
    pub(crate) async fn page(&self, method: Method, path: &str, cookie: Option<&str>, form: Option<&str>) -> Page {
        let mut request = Request::builder().method(method).uri(path).header(header::HOST, "127.0.0.1:8420");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, format!("assay_session={cookie}"));
        }
        let body = match form {
            Some(form) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(form.to_owned())
            }
            None => Body::empty(),
        };
        self.page_request(request.body(body).unwrap()).await
    }

    async fn page_request(&self, request: Request<Body>) -> Page {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page { status, headers, html: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// Sign in with `token`; the session secret from the cookie.
    pub(crate) async fn sign_in(&self, token: &str) -> String {
        let page = self.page(Method::POST, "/signin", None, Some(&format!("token={token}"))).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
        let cookie = page.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
        cookie.split(';').next().unwrap().strip_prefix("assay_session=").unwrap().to_owned()
    }

    async fn csrf_of(&self, cookie: &str) -> String {
        self.page(Method::GET, "/listings", Some(cookie), None).await.csrf()
    }
}

#[tokio::test]
async fn signing_in_sets_a_hardened_session_cookie_and_signing_out_ends_it() {
    let app = app().await;
    // Without a session every page sends the visitor to sign in, and back afterwards.
    let page = app.page(Method::GET, "/listings?q=a", None, None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/signin?next=%2Flistings%3Fq%3Da");
    assert_eq!(app.page(Method::GET, "/", None, None).await.location(), "/signin");

    let signin = app.page(Method::GET, "/signin", None, None).await;
    assert_eq!(signin.status, StatusCode::OK);
    assert!(signin.html.contains("<label for=\"token\">API token"), "the field is labelled");
    let csp = signin.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(signin.headers[header::CACHE_CONTROL], "no-store");

    // A wrong token: 401, the form again, no cookie.
    let wrong = app.page(Method::POST, "/signin", None, Some("token=assay_0000")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
    assert!(wrong.html.contains("That token was not accepted"));

    // The right one: a cookie script cannot read, sent only to this site, not over plain HTTP
    // marked Secure (the browser would drop it); back to where the visitor was going.
    let form = format!("token={}&next=%2Flistings%3Fq%3Da", app.acme);
    let ok = app.page(Method::POST, "/signin", None, Some(&form)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/listings?q=a");
    let cookie = ok.headers[header::SET_COOKIE].to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{attribute} missing from {cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(!cookie.contains(&app.acme), "the cookie holds a session, not the API token");
    // Served over TLS (behind a proxy that says so), the cookie is Secure.
    let request = Request::post("/signin")
        .header(header::HOST, "console.example")
        .header("x-forwarded-proto", "https")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={}", app.reviewer)))
        .unwrap();
    let tls = app.page_request(request).await;
    assert!(tls.headers[header::SET_COOKIE].to_str().unwrap().contains("; Secure"));
    assert_eq!(tls.location(), "/queue", "reviewers start at the queue");
    // A redirect target off the site is ignored.
    let evil = format!("token={}&next=https%3A%2F%2Fevil.example%2F", app.acme);
    assert_eq!(app.page(Method::POST, "/signin", None, Some(&evil)).await.location(), "/listings");

    let session = app.sign_in(&app.acme).await;
    let listings = app.page(Method::GET, "/listings", Some(&session), None).await;
    assert_eq!(listings.status, StatusCode::OK);
    assert!(listings.html.contains("Your standing"));
    // Signing out needs the form's token; then the session is gone for good.
    let csrf = listings.csrf();
    assert_eq!(app.page(Method::POST, "/signout", Some(&session), Some("csrf=x")).await.status, StatusCode::FORBIDDEN);
    let out = app.page(Method::POST, "/signout", Some(&session), Some(&format!("csrf={csrf}"))).await;
    assert_eq!((out.status, out.location()), (StatusCode::SEE_OTHER, "/signin"));
    assert!(out.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(app.page(Method::GET, "/listings", Some(&session), None).await.location(), "/signin?next=%2Flistings");
}

#[tokio::test]
async fn every_form_needs_the_sessions_csrf_token_and_this_origin() {
    let app = app().await;
    let session = app.sign_in(&app.acme).await;
    let csrf = app.csrf_of(&session).await;
    let other = app.sign_in(&app.acme).await;
    let other_csrf = app.csrf_of(&other).await;
    assert_ne!(csrf, other_csrf, "each session has its own token");

    let create = |token: &str| format!("csrf={token}&slug=acme-stock-sync&name=Stock");
    for bad in [String::new(), other_csrf.clone(), "0".repeat(64)] {
        let page = app.page(Method::POST, "/listings", Some(&session), Some(&create(&bad))).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "csrf {bad:?}");
        assert!(page.html.contains("The form has expired"));
    }
    // The right token from another site's page is refused too.
    for (name, value) in [("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")] {
        let request = Request::post("/listings")
            .header(header::HOST, "127.0.0.1:8420")
            .header(name, value)
            .header(header::COOKIE, format!("assay_session={session}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(create(&csrf)))
            .unwrap();
        let page = app.page_request(request).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(page.html.contains("Cross-site request refused"));
    }
    // Sign-in itself (no session yet) is protected by the origin check.
    let request = Request::post("/signin")
        .header("sec-fetch-site", "cross-site")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={}", app.acme)))
        .unwrap();
    assert_eq!(app.page_request(request).await.status, StatusCode::FORBIDDEN);
    // Nothing was created by the refused forms.
    assert!(app.store.listing("acme-stock-sync").await.unwrap().is_none());

    let made = app.page(Method::POST, "/listings", Some(&session), Some(&create(&csrf))).await;
    assert_eq!(
        (made.status, made.location()),
        (StatusCode::SEE_OTHER, "/listings/acme-stock-sync?done=created#submit")
    );
    // A multipart submission carries the token too.
    let manifest = example("clean");
    let boundary = "console-boundary";
    let body = |token: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"manifest\"\r\n\r\n{manifest}\r\n--{boundary}--\r\n"
        )
    };
    let submit = |token: &str| {
        Request::post("/listings/acme-stock-sync/versions")
            .header(header::HOST, "127.0.0.1:8420")
            .header(header::COOKIE, format!("assay_session={session}"))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body(token)))
            .unwrap()
    };
    assert_eq!(app.page_request(submit("nope")).await.status, StatusCode::FORBIDDEN);
    assert!(app.store.version("acme-stock-sync", "1.4.0").await.unwrap().is_none());
    let submitted = app.page_request(submit(&csrf)).await;
    assert_eq!(submitted.location(), "/listings/acme-stock-sync/versions/1.4.0?done=submitted");
    let page = app.page(Method::GET, submitted.location(), Some(&session), None).await;
    assert!(page.html.contains("http-equiv=\"refresh\""), "the page follows the running checks");
    assert!(page.html.contains("The version was submitted"));
    // With scripts, the page long-polls itself instead: `?wait=` answers once the verdict is in.
    assert!(page.html.contains("<noscript><meta http-equiv=\"refresh\""), "refreshing is for pages without scripts");
    assert!(page.html.contains("data-await-verdict"));
    let path = "/listings/acme-stock-sync/versions/1.4.0?wait=20";
    let (waited, reviewed) = tokio::join!(app.page(Method::GET, path, Some(&session), None), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.service.review_next().await.unwrap()
    });
    assert!(reviewed.is_some(), "the review ran while the page waited");
    assert_eq!(waited.status, StatusCode::OK);
    assert!(!waited.html.contains("data-await-verdict"), "the page waited for the verdict: {}", waited.html);
    assert!(waited.html.contains("awaiting_review"));
}

#[tokio::test]
async fn partners_are_isolated_in_the_console() {
    let app = app().await;
    let (slug, version) = app.reviewed("http-urls").await;
    let acme = app.sign_in(&app.acme).await;
    let globex = app.sign_in(&app.globex).await;

    let owner = app.page(Method::GET, &format!("/listings/{slug}/versions/{version}"), Some(&acme), None).await;
    assert_eq!(owner.status, StatusCode::OK);
    assert!(owner.html.contains("urls.https"));

    // Another partner gets exactly what a missing listing gets: 404, nothing of the listing.
    let missing = app.page(Method::GET, "/listings/no-such-listing", Some(&globex), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let theirs = app.page(Method::GET, &format!("/listings/{slug}"), Some(&globex), None).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.html.replace(&slug, "no-such-listing"), missing.html, "the answers differ");
    for path in [format!("/listings/{slug}/versions/{version}"), "/webhooks/1".to_owned()] {
        let page = app.page(Method::GET, &path, Some(&globex), None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!page.html.contains("urls.https") && !page.html.contains("Example"), "{path} leaks: {}", page.html);
    }
    let listings = app.page(Method::GET, "/listings", Some(&globex), None).await;
    assert!(!listings.html.contains(&slug), "another partner's listing is not listed");
    // Forms of another partner's listing are refused the same way, and partners cannot decide.
    let csrf = app.csrf_of(&globex).await;
    let form = format!("csrf={csrf}&action=approve&note=mine+now");
    let decide = format!("/listings/{slug}/versions/{version}/decision");
    // (A partner may not decide at all: the role refusal, 403, whoever owns the version.)
    assert_eq!(app.page(Method::POST, &decide, Some(&globex), Some(&form)).await.status, StatusCode::FORBIDDEN);
    let waiver = format!("csrf={csrf}&note=mine");
    let expire = format!("/listings/{slug}/waivers/1/expire");
    assert_eq!(app.page(Method::POST, &expire, Some(&globex), Some(&waiver)).await.status, StatusCode::FORBIDDEN);
    let manifest = format!(
        "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --b\r\nContent-Disposition: form-data; name=\"manifest\"\r\n\r\n{}\r\n--b--\r\n",
        example("http-urls")
    );
    let request = Request::post(format!("/listings/{slug}/versions"))
        .header(header::HOST, "127.0.0.1:8420")
        .header(header::COOKIE, format!("assay_session={globex}"))
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=b")
        .body(Body::from(manifest))
        .unwrap();
    let submitted = app.page_request(request).await;
    assert_eq!(submitted.status, StatusCode::NOT_FOUND, "submitting to another partner's listing");
    let acme_csrf = app.csrf_of(&acme).await;
    let form = format!("csrf={acme_csrf}&action=approve&note=self-approval");
    assert_eq!(app.page(Method::POST, &decide, Some(&acme), Some(&form)).await.status, StatusCode::FORBIDDEN);
    for page in ["/queue", "/packs"] {
        assert_eq!(app.page(Method::GET, page, Some(&acme), None).await.status, StatusCode::FORBIDDEN, "{page}");
    }
    assert_eq!(app.store.version(&slug, &version).await.unwrap().unwrap().state.as_str(), "changes_requested");
}

#[tokio::test]
async fn listings_come_a_page_at_a_time() {
    let app = app().await;
    let store = &app.store;
    let acme = store.ensure_partner("test", "acme", &[]).await.unwrap();
    for i in 0..120 {
        store.create_listing("test", acme, &format!("app-{i:03}"), &format!("App {i}")).await.unwrap();
    }
    let session = app.sign_in(&app.reviewer).await;
    let first = app.page(Method::GET, "/listings", Some(&session), None).await;
    assert!(first.html.contains("All listings <span class=\"muted\">(120)</span>"));
    assert_eq!(first.html.matches("data-row-link").count(), 50);
    assert!(first.html.contains("app-049") && !first.html.contains("app-050"));
    assert!(first.html.contains("href=\"/listings?q=&#38;after=app-049\" rel=\"next\""), "{}", first.html);
    let third = app.page(Method::GET, "/listings?q=&after=app-099", Some(&session), None).await;
    assert_eq!(third.html.matches("data-row-link").count(), 20);
    assert!(!third.html.contains("rel=\"next\""));
    // A prefix narrows the list, served by the same index.
    let some = app.page(Method::GET, "/listings?q=app-11", Some(&session), None).await;
    assert_eq!(some.html.matches("data-row-link").count(), 10);
}

#[tokio::test]
async fn a_listings_audit_trail_comes_a_page_at_a_time() {
    let app = app().await;
    let store = &app.store;
    let acme = store.ensure_partner("test", "acme", &[]).await.unwrap();
    store.create_listing("test", acme, "app", "App").await.unwrap();
    // Another listing whose slug starts with this one's: none of its events belong here.
    store.create_listing("test", acme, "app-2", "App 2").await.unwrap();
    for patch in 0..59 {
        let version = format!("1.0.{patch}");
        for slug in ["app", "app-2"] {
            let submission = assay_store::Submission { slug, version: &version, manifest: "", checks: &[] };
            store.submit_version("test", &submission).await.unwrap();
        }
    }
    let session = app.sign_in(&app.reviewer).await;
    let newest = app.page(Method::GET, "/listings/app", Some(&session), None).await;
    assert_eq!(newest.status, StatusCode::OK);
    let trail = |page: &Page| page.html[page.html.find("id=\"audit\"").unwrap()..].to_owned();
    let first = trail(&newest);
    assert_eq!(first.matches("<code>version.submit</code>").count(), 50, "newest first, 50 a page");
    assert!(first.contains("listing:app@1.0.58") && !first.contains("listing:app@1.0.8<"), "{first}");
    assert!(!first.contains("listing:app-2"), "only this listing's events");
    assert!(!first.contains("Newest events"));
    let at = first.find("rel=\"next\"").expect("a link to older events");
    let href = &first[first[..at].rfind("href=\"").unwrap() + 6..at - 2];
    assert!(href.starts_with("/listings/app?before=") && href.ends_with("#audit"), "{href}");
    let older = app.page(Method::GET, href.trim_end_matches("#audit"), Some(&session), None).await;
    let second = trail(&older);
    assert_eq!(second.matches("<code>version.submit</code>").count(), 9, "{second}");
    assert_eq!(second.matches("<code>listing.create</code>").count(), 1);
    assert!(second.contains("listing:app@1.0.0<") && !second.contains("listing:app@1.0.9<"));
    assert!(second.contains("Newest events") && !second.contains("rel=\"next\""), "the oldest page");
}

#[tokio::test]
async fn a_reviewer_decides_and_waives_from_the_version_page() {
    let app = app().await;
    let (slug, version) = app.reviewed("http-urls").await;
    let reviewer = app.sign_in(&app.reviewer).await;
    let path = format!("/listings/{slug}/versions/{version}");
    let page = app.page(Method::GET, &path, Some(&reviewer), None).await;
    assert_eq!(page.status, StatusCode::OK);
    // Findings grouped by severity, each pointing at its line of the manifest.
    assert!(page.html.contains("<span class=\"badge sev-error\">error</span>"), "{}", page.html);
    assert!(page.html.contains("<code>/urls/homepage</code>") || page.html.contains("<code>/urls/"));
    assert!(page.html.contains("href=\"#L"), "a finding links to its manifest line");
    assert!(page.html.contains("<span id=\"L1\">slug = "));
    assert!(page.html.contains("No earlier version was approved"));
    assert!(page.html.contains("Checks and resource usage") && page.html.contains("urls.https"));
    assert!(page.html.contains("No decision is open in state <strong>changes_requested</strong>"));

    // Without a note the decision is refused, and the version is unchanged.
    let csrf = page.csrf();
    let decide = format!("{path}/decision");
    let refused =
        app.page(Method::POST, &decide, Some(&reviewer), Some(&format!("csrf={csrf}&action=approve&note=+"))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("A note is required"));

    // Grant a waiver for the failing rule, then expire it; both are in the audit trail.
    let expires = super::in_days(30);
    let form = format!(
        "csrf={csrf}&rule_id=urls.https&versions=%3D{version}&expires={expires}&justification=Legacy+host+moves+next+month"
    );
    let granted = app.page(Method::POST, &format!("/listings/{slug}/waivers"), Some(&reviewer), Some(&form)).await;
    assert_eq!(granted.location(), format!("/listings/{slug}?done=waived#waivers"));
    let waived = app.page(Method::GET, &path, Some(&reviewer), None).await;
    assert!(waived.html.contains("waived by #1"));
    assert!(waived.html.contains("badge verdict-pass"), "the waiver lets the verdict pass");
    let expire = format!("/listings/{slug}/waivers/1/expire");
    let ended =
        app.page(Method::POST, &expire, Some(&reviewer), Some(&format!("csrf={csrf}&note=host+not+moved"))).await;
    assert_eq!(ended.location(), format!("/listings/{slug}?done=expired#waivers"));
    let listing = app.page(Method::GET, &format!("/listings/{slug}"), Some(&reviewer), None).await;
    assert!(listing.html.contains("<span class=\"badge\">expired</span>"));
    assert!(listing.html.contains("<code>waiver.expire</code>") && listing.html.contains("waiver 1; host not moved"));
    let failing = app.page(Method::GET, &path, Some(&reviewer), None).await;
    assert!(failing.html.contains("badge verdict-fail"), "the expired waiver no longer covers the finding");

    // The partner sees the findings with their remediation, and no decision buttons.
    let partner = app.sign_in(&app.acme).await;
    let seen = app.page(Method::GET, &path, Some(&partner), None).await;
    for decision in ["approve", "request_changes", "reject", "certify"] {
        assert!(!seen.html.contains(&format!("value=\"{decision}\"")), "partners get no decision buttons");
    }
    assert!(seen.html.contains("value=\"withdraw\""), "their own move: withdraw what was sent back");
    assert!(seen.html.contains("<strong>Fix:</strong>"), "findings come with their remediation");

    // A clean version waits for a decision: approve it with a note the partner then reads.
    let other = example("clean").replace("slug = \"acme-stock-sync\"", "slug = \"acme-clean\"");
    let (clean, v1) = app.reviewed_manifest(other.clone()).await;
    let clean_path = format!("/listings/{clean}/versions/{v1}");
    let waiting = app.page(Method::GET, &clean_path, Some(&reviewer), None).await;
    assert!(waiting.html.contains("name=\"note\" required"), "a decision needs a note");
    assert!(waiting.html.contains("value=\"approve\"") && !waiting.html.contains("value=\"certify\""));
    let form = format!("csrf={csrf}&action=approve&note=Looks+good%2C+thanks");
    let decided = app.page(Method::POST, &format!("{clean_path}/decision"), Some(&reviewer), Some(&form)).await;
    assert_eq!(decided.location(), format!("{clean_path}?done=approve"));
    let seen = app.page(Method::GET, &clean_path, Some(&partner), None).await;
    assert!(seen.html.contains("badge state-approved") && seen.html.contains("Looks good, thanks"));
    let approved = app.page(Method::GET, &clean_path, Some(&reviewer), None).await;
    assert!(approved.html.contains("value=\"certify\"") && !approved.html.contains("value=\"approve\""));

    // The next version is shown against the approved one, line by line.
    let next = other.replace("version = \"1.4.0\"", "version = \"1.4.1\"").replace(
        "summary = \"Keep stock levels in sync across every warehouse, store and sales channel\"",
        "summary = \"Keep stock levels in sync across every warehouse and sales channel\"",
    );
    let submitted = app.submit(&clean, &app.acme, &next, &[]).await;
    assert_eq!(submitted.status, StatusCode::ACCEPTED, "{}", submitted.body);
    app.service.review_next().await.unwrap().unwrap();
    let page = app.page(Method::GET, &format!("/listings/{clean}/versions/1.4.1"), Some(&reviewer), None).await;
    assert!(page.html.contains(&format!("Compared with <a href=\"/listings/{clean}/versions/1.4.0\">1.4.0</a>")));
    assert!(page.html.contains("<span class=\"del\">- version = &#34;1.4.0&#34;</span>"), "{}", page.html);
    assert!(page.html.contains("<span class=\"add\">+ version = &#34;1.4.1&#34;</span>"));
    assert!(
        page.html.contains("+ summary = &#34;Keep stock levels in sync across every warehouse and sales channel&#34;")
    );
}

#[tokio::test]
async fn every_page_shows_what_it_is_for() {
    let app = app().await;
    // A listing with the partner's own integration check (one that floods the platform).
    let manifest = example("clean");
    let created = app
        .call(
            Method::POST,
            "/v1/listings",
            Some(&app.acme),
            Some(serde_json::json!({"slug": "acme-stock-sync", "name": "Stock"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let flood = assay_builtin::artifact("hostile_platform_flood.wasm");
    let submitted = app.submit("acme-stock-sync", &app.acme, &manifest, &[("flood.wasm", &flood)]).await;
    assert_eq!(submitted.status, StatusCode::ACCEPTED, "{}", submitted.body);
    app.service.review_next().await.unwrap().unwrap();
    let notice =
        serde_json::json!({"kind": "feature", "summary": "Restock forecasts arrive", "effective": super::in_days(60)});
    let published = app.call(Method::POST, "/v1/listings/acme-stock-sync/notices", Some(&app.acme), Some(notice)).await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);
    let sunset = super::in_days(400);
    let deprecation = serde_json::json!({"listing": "acme-stock-sync", "versions": "<1.0.0", "deprecated_from": super::in_days(1),
        "sunset": sunset, "summary": "0.x goes", "action_required": "Upgrade to 1.x"});
    let scheduled = app.call(Method::POST, "/v1/deprecations", Some(&app.acme), Some(deprecation)).await;
    assert_eq!(scheduled.status, StatusCode::CREATED, "{}", scheduled.body);

    let partner = app.sign_in(&app.acme).await;
    let version = app.page(Method::GET, "/listings/acme-stock-sync/versions/1.4.0", Some(&partner), None).await;
    assert!(
        version.html.contains("Integration check transcript: <code>hostile.platform-flood</code>"),
        "{}",
        version.html
    );
    assert!(version.html.contains("<td><code>get-shop</code></td>") || version.html.contains("<td><code>list-"));
    let notices = app.page(Method::GET, "/notices", Some(&partner), None).await;
    assert!(notices.html.contains("Restock forecasts arrive") && notices.html.contains("0.x goes"));
    assert!(notices.html.contains(&format!("<strong>{sunset}</strong>")), "the sunset is a fix-by date");
    let calendar = app.page(Method::GET, "/deprecations", Some(&partner), None).await;
    assert!(calendar.html.contains("<code>&#60;1.0.0</code>") && calendar.html.contains(&sunset), "{}", calendar.html);

    // A webhook endpoint: its secret once, in the answer to the form, then never again.
    let csrf = app.csrf_of(&partner).await;
    let form = format!("csrf={csrf}&url=https%3A%2F%2Fhooks.acme.example%2Fassay&events=");
    let registered = app.page(Method::POST, "/webhooks", Some(&partner), Some(&form)).await;
    assert_eq!(registered.status, StatusCode::CREATED);
    assert!(registered.html.contains("whsec_"));
    let list = app.page(Method::GET, "/webhooks", Some(&partner), None).await;
    assert!(list.html.contains("https://hooks.acme.example/assay") && !list.html.contains("whsec_"));
    let log = app.page(Method::GET, "/webhooks/1", Some(&partner), None).await;
    assert!(log.html.contains("Delivery log") && log.html.contains("pending"));

    // A rule pack in shadow: its rollout and blast radius.
    let admin = app.service.authenticate(&app.admin).await.unwrap();
    let manifest = assay_builtin::PACK_TOML.replace("version = \"0.1.0\"", "version = \"0.2.0\"");
    let upload = assay_service::PackUpload { manifest, files: assay_builtin::files() };
    app.service.publish_pack(&admin, upload).await.unwrap();
    let staff = app.sign_in(&app.reviewer).await;
    let packs = app.page(Method::GET, "/packs", Some(&staff), None).await;
    assert!(packs.html.contains("href=\"/packs/assay-builtin/0.2.0\"") && packs.html.contains("<td>shadow</td>"));
    let pack = app.page(Method::GET, "/packs/assay-builtin/0.2.0", Some(&staff), None).await;
    assert!(pack.html.contains("Blast radius by rule"), "{}", pack.html);
}

/// Staff decide on partners in the console: revoking `certify` removes the mark and says so;
/// the decision is in the history with its rationale and its owner. Members see their
/// organisation; only owners and admins get the forms.
#[tokio::test]
async fn admins_decide_on_partners_and_owners_manage_members_in_the_console() {
    let app = app().await;
    let (slug, version) = app.reviewed("clean").await;
    let grant = app
        .call(
            Method::POST,
            "/v1/partners/acme/capabilities",
            Some(&app.admin),
            Some(serde_json::json!({"grant": ["certify"], "rationale": "ok"})),
        )
        .await;
    assert_eq!(grant.status, StatusCode::OK, "{}", grant.body);
    let decide = format!("/v1/listings/{slug}/versions/{version}/decisions");
    for action in ["approve", "certify"] {
        let reply = app
            .call(Method::POST, &decide, Some(&app.reviewer), Some(serde_json::json!({"action": action, "note": "n"})))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    let staff = app.sign_in(&app.admin).await;
    let partners = app.page(Method::GET, "/partners", Some(&staff), None).await;
    assert_eq!(partners.status, StatusCode::OK);
    assert!(partners.html.contains("<td>acme</td><td>certify, checks, list</td>"), "{}", partners.html);
    let csrf = partners.csrf();
    let no_why = format!("csrf={csrf}&partner=acme&decision=revoke%3Acertify&rationale=");
    let refused = app.page(Method::POST, "/partners/decisions", Some(&staff), Some(&no_why)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.html);
    let form = format!("csrf={csrf}&partner=acme&decision=revoke%3Acertify&rationale=Audit+lapsed");
    let decided = app.page(Method::POST, "/partners/decisions", Some(&staff), Some(&form)).await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.html);
    assert!(decided.html.contains(&format!("Certified mark removed from {slug}@{version}")), "{}", decided.html);
    assert!(
        decided.html.contains("capabilities=checks,list (was certify,checks,list): Audit lapsed"),
        "{}",
        decided.html
    );
    let path = format!("/v1/listings/{slug}/versions/{version}");
    assert_eq!(app.call(Method::GET, &path, Some(&app.acme), None).await.body["certified"], false);

    // A reviewer sees the partners but decides nothing; a partner is not shown the page's form.
    let reviewer = app.sign_in(&app.reviewer).await;
    let seen = app.page(Method::GET, "/partners", Some(&reviewer), None).await;
    assert!(seen.html.contains("acme") && !seen.html.contains("action=\"/partners/decisions\""), "{}", seen.html);
    let forged = format!("csrf={}&partner=acme&decision=grant%3Acertify&rationale=x", seen.csrf());
    let forbidden = app.page(Method::POST, "/partners/decisions", Some(&reviewer), Some(&forged)).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    // acme's owner (a service account here) manages members: an invitation link, once.
    let owner = app.sign_in(&app.acme).await;
    let members = app.page(Method::GET, "/members", Some(&owner), None).await;
    assert!(members.html.contains("Members of acme"), "{}", members.html);
    let form = format!("csrf={}&email=dev%40acme.test&role=developer", members.csrf());
    let invited = app.page(Method::POST, "/members/invitations", Some(&owner), Some(&form)).await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.html);
    assert!(invited.html.contains("dev@acme.test is invited") && invited.html.contains("/invitations/assay_"));
}

/// A person chooses which e-mails they receive on the E-mail page (a service account has no
/// such page in its navigation); the form needs the session's CSRF token.
#[tokio::test]
async fn people_choose_which_emails_they_receive_in_the_console() {
    use assay_store::{NewToken, NewUser, TokenOwner};
    let app = app().await;
    let acme = app.store.partner_by_name("acme").await.unwrap().unwrap().id;
    let role = assay_service::Role::Developer;
    let new = NewUser { email: "dev@acme.test", name: "Dev", partner: Some(acme), role };
    let user = app.store.create_user("test", &new).await.unwrap();
    let token = NewToken { name: "laptop", owner: TokenOwner::User(user.id), scopes: role.scopes(), ttl_secs: 3600 };
    let (token, _) = app.store.issue_token("test", &token).await.unwrap();
    let session = app.sign_in(&token).await;
    let page = app.page(Method::GET, "/preferences", Some(&session), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("href=\"/preferences\" aria-current=\"page\""), "in the navigation");
    assert!(page.html.contains("dev@acme.test"));
    assert_eq!(page.html.matches(" checked>").count(), assay_service::email::KINDS.len(), "every kind is on at first");

    let refused = app.page(Method::POST, "/preferences", Some(&session), Some("csrf=x&receive=verdict")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let form = format!("csrf={}&receive=verdict&receive=decision", page.csrf());
    let saved = app.page(Method::POST, "/preferences", Some(&session), Some(&form)).await;
    assert_eq!((saved.status, saved.location()), (StatusCode::SEE_OTHER, "/preferences?done=saved"));
    let after = app.page(Method::GET, "/preferences?done=saved", Some(&session), None).await;
    assert!(after.html.contains("Your e-mail preferences are saved."));
    assert_eq!(after.html.matches(" checked>").count(), 2, "{}", after.html);
    let prefs = app.call(Method::GET, "/v1/me/email-preferences", Some(&token), None).await;
    let off: Vec<&str> = prefs.body["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["receive"] == false)
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(off.len(), assay_service::email::KINDS.len() - 2, "{}", prefs.body);
    assert!(!off.contains(&"verdict") && !off.contains(&"decision"));

    // A service account's console has no e-mail page to go to.
    let account = app.sign_in(&app.acme).await;
    let listings = app.page(Method::GET, "/listings", Some(&account), None).await;
    assert!(!listings.html.contains("href=\"/preferences\""));
}

/// The partner releases its approved version from the version page; the button is the
/// partner's, not the reviewer's, and needs the session's CSRF token.
#[tokio::test]
async fn a_partner_releases_its_approved_version_from_the_version_page() {
    let app = app().await;
    let (slug, version) = app.reviewed("clean").await;
    let reviewer = app.service.authenticate(&app.reviewer).await.unwrap();
    app.service.decide(&reviewer, &slug, &version, assay_service::Action::Approve, "ok").await.unwrap();
    let page = format!("/listings/{slug}/versions/{version}");
    let staff = app.sign_in(&app.reviewer).await;
    assert!(!app.page(Method::GET, &page, Some(&staff), None).await.html.contains("value=\"release\""));
    let partner = app.sign_in(&app.acme).await;
    let shown = app.page(Method::GET, &page, Some(&partner), None).await;
    assert!(shown.html.contains("value=\"release\"") && shown.html.contains("value=\"withdraw\""), "{}", shown.html);
    let refused = app.page(Method::POST, &format!("{page}/moves"), Some(&partner), Some("csrf=x&action=release")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let form = format!("csrf={}&action=release", shown.csrf());
    let moved = app.page(Method::POST, &format!("{page}/moves"), Some(&partner), Some(&form)).await;
    assert_eq!((moved.status, moved.location()), (StatusCode::SEE_OTHER, format!("{page}?done=released").as_str()));
    let after = app.page(Method::GET, &format!("{page}?done=released"), Some(&partner), None).await;
    assert!(after.html.contains("state-published") && after.html.contains("it is live"), "{}", after.html);
}
