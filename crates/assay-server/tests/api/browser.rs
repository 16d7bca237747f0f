//! The web console in a real browser: Debian's headless Chromium, driven over WebDriver
//! (chromedriver) against `assay`'s router on a real socket, with a worker running reviews.
//!
//! A partner signs in, creates a listing and submits a version by pasting its manifest; a
//! reviewer signs in, finds it in the queue, opens it with the keyboard and approves it with a
//! note; another partner signs in and cannot open the first partner's pages. Screenshots of the
//! main pages are written to `target/tmp/console-screenshots/`.
//!
//! chromedriver comes from `ASSAY_TEST_CHROMEDRIVER`, else `/usr/bin/chromedriver`. CI
//! installs Debian's `chromium` and `chromium-driver` and sets the variable; without either,
//! the test says so and passes only outside CI.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use super::{App, Receiver, Role, ServerConfig, app, example, person_token, router, slug_of};

const CHROMEDRIVER_VAR: &str = "ASSAY_TEST_CHROMEDRIVER";

/// chromedriver, killed when the test ends however it ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Option<PathBuf> {
    let path = std::env::var_os(CHROMEDRIVER_VAR).map(PathBuf::from).or_else(|| {
        let default = PathBuf::from("/usr/bin/chromedriver");
        default.exists().then_some(default)
    });
    if path.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium-driver and set {CHROMEDRIVER_VAR} so the browser tests run"
        );
        eprintln!("skipping the browser test: no chromedriver (install chromium-driver or set {CHROMEDRIVER_VAR})");
    }
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_driver(path: &PathBuf) -> (Driver, String) {
    let port = free_port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", path.display()));
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (driver, format!("http://127.0.0.1:{port}"))
}

async fn browser(webdriver: &str, profile: &std::path::Path) -> Client {
    let binary = std::env::var("ASSAY_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": binary,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(capabilities).connect(webdriver).await.expect("a Chromium session")
}

/// Screenshots of the main pages, kept as test artifacts.
fn shot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    std::fs::write(shot_dir().join(format!("{name}.png")), png).unwrap();
}

async fn sign_in(client: &Client, base: &str, token: &str) {
    client.goto(&format!("{base}/")).await.unwrap();
    assert!(client.current_url().await.unwrap().path().ends_with("/signin"), "signed-out visitors sign in first");
    client.find(Locator::Css("input#token")).await.unwrap().send_keys(token).await.unwrap();
    client.find(Locator::Css("form[action='/signin'] button[type=submit]")).await.unwrap().click().await.unwrap();
}

async fn sign_out(client: &Client) {
    client.find(Locator::Css("form[action='/signout'] button")).await.unwrap().click().await.unwrap();
    expect_path(client, "/signin", "signing out").await;
}

/// The browser arrives at `path` (a click's navigation may still be under way); if it does not,
/// say what page it shows instead.
async fn expect_path(client: &Client, path: &str, why: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut url = client.current_url().await.unwrap();
    while url.path() != path && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        url = client.current_url().await.unwrap();
    }
    if url.path() != path {
        let main = match client.find(Locator::Css("main")).await {
            Ok(main) => main.text().await.unwrap_or_default(),
            Err(_) => client.source().await.unwrap_or_default(),
        };
        panic!("{why}: expected {path}, at {url}:\n{main}");
    }
}

/// The text of the first element matching `css`. The version page reloads itself when its
/// checks finish (its script long-polls it), and a click's navigation may still be under way, so the element
/// found can be replaced before its text is read: find it again until the page holds still.
async fn text_of(client: &Client, css: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let read = async { client.find(Locator::Css(css)).await?.text().await };
        match read.await {
            Ok(text) => return text,
            Err(e)
                if (e.is_stale_element_reference() || e.is_no_such_element() || replaced_under_us(&e))
                    && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("reading {css}: {e}"),
        }
    }
}

/// Chromium's other word for a stale element: an element found in the document a navigation
/// just replaced is reported as an "unknown error" from its inspector, not as stale.
fn replaced_under_us(e: &fantoccini::error::CmdError) -> bool {
    e.to_string().contains("does not belong to the document")
}

async fn heading(client: &Client) -> String {
    text_of(client, "h1").await
}

/// Wait until the page's heading contains `text` (a click's navigation may still be under way).
async fn until_heading(client: &Client, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = heading(client).await;
        if now.contains(text) || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Wait until the page's heading contains `text`, the page refreshing itself meanwhile (the
/// version page does while its checks run; nothing here reloads it).
async fn wait_for_heading(client: &Client, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = heading(client).await;
        if now.contains(text) {
            return now;
        }
        assert!(Instant::now() < deadline, "the heading never said {text:?}; last: {now:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn serve(app: &App) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let worker = app.service.clone();
    tokio::spawn(async move { worker.run_worker(std::future::pending()).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_submits_and_a_reviewer_approves_in_a_real_browser() {
    let Some(driver_path) = chromedriver() else { return };
    let app = app().await;
    let base = serve(&app).await;
    let (_driver, webdriver) = start_driver(&driver_path).await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&webdriver, profile.path()).await;
    let result = walkthrough(&app, &client, &base).await;
    client.close().await.unwrap();
    result.unwrap();
}

async fn walkthrough(app: &App, client: &Client, base: &str) -> Result<(), fantoccini::error::CmdError> {
    // The partner: sign in, create the listing, paste the manifest, submit.
    client.goto(&format!("{base}/signin")).await?;
    screenshot(client, "sign-in").await;
    sign_in(client, base, &app.acme).await;
    expect_path(client, "/listings", "partners start at their listings").await;
    assert!(client.source().await?.contains("Your standing"));
    client.find(Locator::Css("input#slug")).await?.send_keys("acme-stock-sync").await?;
    client.find(Locator::Css("input#name")).await?.send_keys("Acme Stock Sync").await?;
    client.find(Locator::Css("form[method=post][action='/listings'] button")).await?.click().await?;
    expect_path(client, "/listings/acme-stock-sync", "a new listing opens its page").await;
    client.find(Locator::Css("textarea#manifest")).await?.send_keys(&example("clean")).await?;
    screenshot(client, "partner-submit").await;
    client.find(Locator::Css("form[enctype='multipart/form-data'] button[type=submit]")).await?.click().await?;
    expect_path(client, "/listings/acme-stock-sync/versions/1.4.0", "a submission opens its version").await;
    // The worker reviews it; the page's script long-polls until the verdict is in and then shows
    // it (the no-script refresh does not run in a browser with scripts).
    let h1 = wait_for_heading(client, "awaiting_review").await;
    assert!(h1.starts_with("acme-stock-sync@1.4.0"), "{h1}");
    assert!(client.source().await?.contains("Checks and resource usage"));
    screenshot(client, "partner-version").await;
    sign_out(client).await;

    // The reviewer: the queue shows it with its waiting time; open it from the keyboard.
    sign_in(client, base, &app.reviewer).await;
    expect_path(client, "/queue", "reviewers start at the queue").await;
    let row = client.find(Locator::Css("a[data-row-link]")).await?;
    assert_eq!(row.text().await?, "acme-stock-sync@1.4.0");
    assert!(text_of(client, "[data-since]").await.ends_with(" s"));
    screenshot(client, "reviewer-queue").await;
    client.find(Locator::Css("body")).await?.send_keys("j").await?;
    let focused = client.active_element().await?;
    assert_eq!(focused.text().await?, "acme-stock-sync@1.4.0", "`j` moves to the first row");
    focused.send_keys(&fantoccini::key::Key::Enter).await?;
    expect_path(client, "/listings/acme-stock-sync/versions/1.4.0", "Enter opens the row").await;
    // A decision needs a note: the browser will not send the form without one.
    client.find(Locator::Css("button[value=approve]")).await?.click().await?;
    assert!(heading(client).await.contains("awaiting_review"), "no note, no decision");
    client.find(Locator::Css("textarea#note")).await?.send_keys("Clear copy and justified scopes.").await?;
    client.find(Locator::Css("button[value=approve]")).await?.click().await?;
    let h1 = until_heading(client, "approved").await;
    assert!(h1.contains("approved"), "{h1}");
    assert!(text_of(client, ".flash").await.contains("approved"));
    screenshot(client, "reviewer-version").await;
    client.goto(&format!("{base}/listings/acme-stock-sync")).await?;
    let trail = text_of(client, "section[aria-labelledby=audit]").await;
    assert!(trail.contains("version.approve") && trail.contains("Clear copy and justified scopes."), "{trail}");
    screenshot(client, "listing").await;
    client.goto(&format!("{base}/packs")).await?;
    screenshot(client, "rule-packs").await;
    client.goto(&format!("{base}/deprecations")).await?;
    screenshot(client, "deprecations").await;
    sign_out(client).await;

    // Another partner: the listing does not exist as far as it can tell.
    sign_in(client, base, &app.globex).await;
    expect_path(client, "/listings", "partners start at their listings").await;
    let listings = client.source().await?;
    assert!(!listings.contains("acme-stock-sync"), "another partner's listing is not listed");
    for path in ["/listings/acme-stock-sync", "/listings/acme-stock-sync/versions/1.4.0"] {
        client.goto(&format!("{base}{path}")).await?;
        assert_eq!(heading(client).await, "Not found", "{path}");
        let page = client.source().await?;
        assert!(!page.contains("Acme Stock Sync") && !page.contains("approved"), "{path} leaks");
    }
    screenshot(client, "other-partner-not-found").await;
    // The first thing the keyboard reaches is the skip link.
    client.goto(&format!("{base}/listings")).await?;
    client.find(Locator::Css("body")).await?.send_keys(&fantoccini::key::Key::Tab).await?;
    assert_eq!(client.active_element().await?.text().await?, "Skip to content");
    sign_out(client).await;
    Ok(())
}

/// A partner manages a webhook endpoint in the console: sends a test event and sees it
/// delivered with the endpoint's health, pauses it (a test message waits) and resumes it (the
/// message goes out), and rotates the secret (the page shows the new one once; the next message
/// verifies with it and carries a signature for each live secret).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_pauses_rotates_and_tests_a_webhook_endpoint_in_a_real_browser() {
    let Some(driver_path) = chromedriver() else { return };
    let mut app = app().await;
    let config = assay_service::WebhookConfig { allow_private: true, ..Default::default() };
    let outbound = assay_core::address::Outbound { allow_local: true };
    let sender = std::sync::Arc::new(assay_server::webhooks::HttpSender::new(outbound, Duration::from_secs(5)));
    app.service = app.service.clone().with_webhooks(sender, config);
    app.router = assay_server::router(app.service.clone(), assay_server::ServerConfig::default());
    let dispatcher = app.service.clone();
    tokio::spawn(async move { dispatcher.run_dispatcher(Duration::from_millis(200), std::future::pending()).await });
    let (receiver, url) = Receiver::start(0).await;
    let created = app.call(axum::http::Method::POST, "/v1/webhooks", Some(&app.acme), Some(json!({"url": url}))).await;
    let id = created.body["id"].as_i64().unwrap();
    let base = serve(&app).await;
    let (_driver, webdriver) = start_driver(&driver_path).await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&webdriver, profile.path()).await;
    let result = manage_endpoint(&app, &client, &base, id, &receiver).await;
    client.close().await.unwrap();
    result.unwrap();
}

/// Wait until the receiver has `n` messages.
async fn received(receiver: &Receiver, n: usize) -> Vec<(axum::http::HeaderMap, String)> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let seen = receiver.seen();
        if seen.len() >= n {
            return seen;
        }
        assert!(Instant::now() < deadline, "the receiver got {} of {n} messages", seen.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click(client: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    client.find(Locator::Css(css)).await?.click().await
}

async fn manage_endpoint(
    app: &App,
    client: &Client,
    base: &str,
    id: i64,
    receiver: &Receiver,
) -> Result<(), fantoccini::error::CmdError> {
    sign_in(client, base, &app.acme).await;
    expect_path(client, "/listings", "partners start at their listings").await;
    client.goto(&format!("{base}/webhooks")).await?;
    assert!(text_of(client, "tbody").await.contains("healthy"));
    client.find(Locator::Css(&format!("a[href='/webhooks/{id}']"))).await?.click().await?;
    expect_path(client, &format!("/webhooks/{id}"), "an endpoint opens its page").await;
    assert_eq!(text_of(client, "[data-last-success]").await, "never");

    // A test event: queued, delivered, and the endpoint's health says so.
    click(client, &format!("form[action='/webhooks/{id}/test'] button")).await?;
    assert!(
        until_text(client, "[data-flash]", "Test message").await.contains("Test message"),
        "the page says it was queued"
    );
    let seen = received(receiver, 1).await;
    let body: serde_json::Value = serde_json::from_str(&seen[0].1).unwrap();
    assert_eq!(body["type"], "webhook.test");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        client.goto(&format!("{base}/webhooks/{id}")).await?;
        if text_of(client, "[data-last-success]").await != "never" {
            break;
        }
        assert!(Instant::now() < deadline, "the delivery never showed in the endpoint's health");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text_of(client, "table").await.contains("HTTP 204"), "the delivery log shows the attempt");

    // Pause with a reason: a test message waits while it is paused.
    client.find(Locator::Css("input#reason")).await?.send_keys("moving the receiver").await?;
    click(client, &format!("form[action='/webhooks/{id}/pause'] button")).await?;
    assert_eq!(until_text(client, "[data-health]", "paused").await, "paused");
    assert!(text_of(client, "[data-paused]").await.contains("moving the receiver"));
    screenshot(client, "webhook-paused").await;
    // The page already shows the pause's flash: wait for the test's to replace it.
    click(client, &format!("form[action='/webhooks/{id}/test'] button")).await?;
    assert!(until_text(client, "[data-flash]", "Test message").await.contains("Test message"));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(app.store.message_counts(id).await.unwrap().0, 1, "the message waits while the endpoint is paused");
    assert_eq!(receiver.seen().len(), 1);
    click(client, &format!("form[action='/webhooks/{id}/resume'] button")).await?;
    assert_eq!(until_text(client, "[data-health]", "healthy").await, "healthy");
    received(receiver, 2).await;

    // Rotate the secret: shown once; the next message verifies with it and is signed twice.
    click(client, &format!("form[action='/webhooks/{id}/rotate-secret'] button")).await?;
    let secret = text_of(client, ".secret").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(client.source().await?.contains("still signs until"), "the page says how long the old secret signs");
    screenshot(client, "webhook-rotated").await;
    click(client, &format!("form[action='/webhooks/{id}/test'] button")).await?;
    let seen = received(receiver, 3).await;
    let (headers, body) = &seen[2];
    let signatures = headers["webhook-signature"].to_str().unwrap();
    assert_eq!(signatures.split(' ').count(), 2, "one signature per live secret: {signatures}");
    standardwebhooks::Webhook::new(&secret).unwrap().verify(body.as_bytes(), headers).expect("the new secret verifies");
    client.goto(&format!("{base}/webhooks/{id}")).await?;
    screenshot(client, "webhook-endpoint").await;
    sign_out(client).await;
    Ok(())
}

/// The OpenID provider the sign-in tests use: node-oidc-provider (OpenID Certified) from
/// `tests/oidc` (`npm ci` there; CI does), on a loopback port, killed when the test ends.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
    if dir.join("node_modules/oidc-provider").is_dir() {
        return Some(dir);
    }
    assert!(std::env::var_os("CI").is_none(), "CI must run `npm ci` in {} so the sign-in tests run", dir.display());
    eprintln!("skipping the sign-in test: run `npm ci` in {}", dir.display());
    None
}

async fn start_provider(dir: &std::path::Path, redirect: &str) -> Provider {
    use std::io::BufRead as _;
    let port = free_port();
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .arg(port.to_string())
        .arg(redirect)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting node");
    let stdout = child.stdout.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout).lines().map_while(Result::ok).any(|line| line == "ready")
    });
    let provider = Provider { child, issuer: format!("http://127.0.0.1:{port}") };
    let ready = tokio::time::timeout(Duration::from_secs(30), ready).await;
    assert!(matches!(ready, Ok(Ok(true))), "the OpenID provider did not start");
    provider
}

/// The provider's own pages: its development login (any password) and its consent.
async fn sign_in_at_provider(client: &Client, email: &str) {
    let login = client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("input[name=login]")).await;
    login.expect("the provider's login form").send_keys(email).await.unwrap();
    client.find(Locator::Css("input[name=password]")).await.unwrap().send_keys("any password").await.unwrap();
    client.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    let consent =
        client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("input[value=consent]")).await;
    if consent.is_ok() {
        client.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    }
}

/// An owner is invited by an admin and joins by signing in through a real OpenID provider (code
/// flow with PKCE, the ID token checked against the provider's keys); the invitation then works
/// no more, someone who is no member is turned away, and a callback that names no sign-in of
/// this browser is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_owner_signs_in_through_the_openid_provider() {
    use assay_server::oidc::{Oidc, OidcConfig};
    let Some(driver_path) = chromedriver() else { return };
    let Some(dir) = provider_dir() else { return };
    let app = app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let provider = start_provider(&dir, &format!("{base}/signin/oidc/callback")).await;
    let oidc_config = OidcConfig {
        issuer: provider.issuer.clone(),
        client_id: "assay".into(),
        client_secret: Some("assay-test-secret".into()),
        public_url: base.clone(),
    };
    let oidc = Oidc::discover(&oidc_config).await.expect("discovery");
    let config = assay_server::ServerConfig { oidc: Some(oidc), public_url: Some(base.clone()), ..Default::default() };
    let router = assay_server::router(app.service.clone(), config);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // The admin invites acme's owner; the link is the invitation.
    let invited = app
        .call(
            axum::http::Method::POST,
            "/v1/organisations/acme/invitations",
            Some(&app.admin),
            Some(json!({"email": "Olu.Okafor@acme.test", "role": "owner"})),
        )
        .await;
    assert_eq!(invited.status, axum::http::StatusCode::CREATED, "{}", invited.body);
    let link = format!("{base}{}", invited.body["url"].as_str().unwrap().trim_start_matches(&base));

    let (_driver, webdriver) = start_driver(&driver_path).await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&webdriver, profile.path()).await;
    let result = async {
        client.goto(&link).await?;
        assert_eq!(heading(&client).await, "Invitation");
        let text = text_of(&client, "main").await;
        assert!(text.contains("olu.okafor@acme.test") && text.contains("acme") && text.contains("owner"), "{text}");
        screenshot(&client, "invitation").await;
        client.find(Locator::Css("a[href^='/signin/oidc?invitation=']")).await?.click().await?;
        sign_in_at_provider(&client, "olu.okafor@acme.test").await;
        expect_path(&client, "/listings", "an owner lands on their listings").await;
        let who = text_of(&client, "header").await;
        assert!(who.contains("Olu Okafor <olu.okafor@acme.test> (acme) · owner"), "{who}");

        // The owner creates a token in the console; it works through the API, as them.
        client.goto(&format!("{base}/tokens")).await?;
        client.find(Locator::Css("input#name")).await?.send_keys("ci").await?;
        client.find(Locator::Css("form[action='/tokens'] button[type=submit]")).await?.click().await?;
        let secret = text_of(&client, "#new-token").await;
        screenshot(&client, "tokens").await;
        assert!(secret.starts_with("assay_"), "{secret}");
        let created = app
            .call(
                axum::http::Method::POST,
                "/v1/listings",
                Some(&secret),
                Some(json!({"slug": "olus-app", "name": "Olu's app"})),
            )
            .await;
        assert_eq!(created.status, axum::http::StatusCode::CREATED, "{}", created.body);
        let timeline = app.call(axum::http::Method::GET, "/v1/listings/olus-app/timeline", Some(&secret), None).await;
        assert_eq!(timeline.body[0]["actor"], "Olu Okafor <olu.okafor@acme.test> (acme)", "{}", timeline.body);
        // With it the owner submits a version; a reviewer approves and certifies it.
        let manifest = example("clean").replace(&slug_of(&example("clean")), "olus-app");
        let submitted = app.submit("olus-app", &secret, &manifest, &[]).await;
        assert_eq!(submitted.status, axum::http::StatusCode::ACCEPTED, "{}", submitted.body);
        let version = submitted.body["version"].as_str().unwrap().to_owned();
        app.service.review_next().await.unwrap().unwrap();
        let grant = json!({"grant": ["certify"], "rationale": "Security review passed"});
        let granted =
            app.call(axum::http::Method::POST, "/v1/partners/acme/capabilities", Some(&app.admin), Some(grant)).await;
        assert_eq!(granted.status, axum::http::StatusCode::OK, "{}", granted.body);
        let decide = format!("/v1/listings/olus-app/versions/{version}/decisions");
        for action in ["approve", "certify"] {
            let body = json!({"action": action, "note": "Meets the bar"});
            let reply = app.call(axum::http::Method::POST, &decide, Some(&app.reviewer), Some(body)).await;
            assert_eq!(reply.status, axum::http::StatusCode::OK, "{}", reply.body);
        }
        client.find(Locator::Css("form[action$='/revoke'] button")).await?.click().await?;
        // The page is /tokens before and after: wait for the table to say so.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !text_of(&client, "main").await.contains("revoked") {
            assert!(Instant::now() < deadline, "the token never showed as revoked");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let revoked = app.call(axum::http::Method::GET, "/v1/me", Some(&secret), None).await;
        assert_eq!(revoked.body["code"], "token_revoked", "{}", revoked.body);

        // The invitation worked once.
        client.goto(&link).await?;
        let text = text_of(&client, "main").await;
        assert!(text.contains("used already"), "{text}");

        // The owner invites a developer from the console; the developer joins through the provider.
        client.goto(&format!("{base}/members")).await?;
        assert_eq!(heading(&client).await, "Members of acme");
        client.find(Locator::Css("input#email")).await?.send_keys("dev@acme.test").await?;
        client.find(Locator::Css("select#role")).await?.select_by_value("developer").await?;
        client.find(Locator::Css("form[action='/members/invitations'] button")).await?.click().await?;
        let dev_link = text_of(&client, "#invitation-link").await;
        screenshot(&client, "members").await;
        assert!(dev_link.starts_with(&format!("{base}/invitations/assay_")), "{dev_link}");
        sign_out_at(&client, &base).await;
        client.goto(&provider.issuer).await?;
        client.delete_all_cookies().await?;
        client.goto(&dev_link).await?;
        client.find(Locator::Css("a[href^='/signin/oidc?invitation=']")).await?.click().await?;
        sign_in_at_provider(&client, "dev@acme.test").await;
        expect_path(&client, "/listings", "a developer lands on their listings").await;
        let who = text_of(&client, "header").await;
        assert!(who.contains("Dev <dev@acme.test> (acme) · developer"), "{who}");
        client.goto(&format!("{base}/members")).await?;
        assert!(
            client.find(Locator::Css("form[action='/members/invitations']")).await.is_err(),
            "developers do not invite"
        );

        // An admin revokes acme's `certify` in the console: the mark goes, with a notice.
        sign_out_at(&client, &base).await;
        sign_in(&client, &base, &app.admin).await;
        expect_path(&client, "/queue", "staff land on the queue").await;
        client.goto(&format!("{base}/partners")).await?;
        client.find(Locator::Css("select#partner")).await?.select_by_value("acme").await?;
        client.find(Locator::Css("select#decision")).await?.select_by_value("revoke:certify").await?;
        client.find(Locator::Css("input#rationale")).await?.send_keys("Security review lapsed").await?;
        client.find(Locator::Css("form[action='/partners/decisions'] button")).await?.click().await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut text = text_of(&client, "main").await;
        while !text.contains("Certified mark removed") && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            text = text_of(&client, "main").await;
        }
        assert!(text.contains(&format!("Certified mark removed from olus-app@{version}")), "{text}");
        screenshot(&client, "partners").await;
        let path = format!("/v1/listings/olus-app/versions/{version}");
        let reply = app.call(axum::http::Method::GET, &path, Some(&app.reviewer), None).await;
        assert_eq!(reply.body["certified"], false, "{}", reply.body);
        let notices =
            app.call(axum::http::Method::GET, "/v1/listings/olus-app/notices", Some(&app.reviewer), None).await;
        assert!(notices.body[0]["summary"].as_str().unwrap().contains("Security review lapsed"), "{}", notices.body);
        // The audit trail names each person.
        let trail =
            app.call(axum::http::Method::GET, "/v1/listings/olus-app/timeline", Some(&app.reviewer), None).await;
        let actors: Vec<&str> = trail.body.as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap()).collect();
        assert!(actors.contains(&"Olu Okafor <olu.okafor@acme.test> (acme)"), "{actors:?}");
        assert!(actors.contains(&"admin (service account, platform staff)"), "{actors:?}");

        // Someone the provider knows but no organisation here is turned away.
        sign_out_at(&client, &base).await;
        client.goto(&provider.issuer).await?;
        client.delete_all_cookies().await?;
        client.goto(&format!("{base}/signin")).await?;
        client.find(Locator::Css("a#oidc-signin")).await?.click().await?;
        sign_in_at_provider(&client, "stranger@elsewhere.test").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut text = text_of(&client, "main").await;
        while !text.contains("not a member") && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            text = text_of(&client, "main").await;
        }
        assert!(text.contains("stranger@elsewhere.test is not a member"), "{text}");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    client.close().await.unwrap();
    result.unwrap();

    // The callback names a sign-in this browser started, once.
    let http: ureq::Agent = ureq::Agent::config_builder().max_redirects(0).http_status_as_error(false).build().into();
    let start = http.get(format!("{base}/signin/oidc")).call().unwrap();
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/auth?", provider.issuer)), "{location}");
    assert!(location.contains("code_challenge_method=S256") && location.contains("nonce="), "{location}");
    let state = location.split("state=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let without_cookie = http.get(format!("{base}/signin/oidc/callback?code=x&state={state}")).call().unwrap();
    assert_eq!(without_cookie.status(), 400);
    let mut body = without_cookie.into_body();
    assert!(body.read_to_string().unwrap().contains("started in another browser"));
    let replayed = http.get(format!("{base}/signin/oidc/callback?code=x&state={state}")).call().unwrap();
    assert_eq!(replayed.status(), 400);
    assert!(replayed.into_body().read_to_string().unwrap().contains("expired or was used already"));
}

async fn sign_out_at(client: &Client, base: &str) {
    client.goto(&format!("{base}/listings")).await.unwrap();
    sign_out(client).await;
}

/// A real ID token from `provider` for `client_id`, with `nonce`: the browser signs `email` in at
/// the provider's authorization endpoint, comes back to `redirect` with a code (assay's callback
/// refuses it, not knowing the state, and leaves the code unused), and the code is exchanged at
/// the token endpoint.
async fn id_token_from(
    client: &Client,
    provider: &Provider,
    client_id: &str,
    basic: &str,
    redirect: &str,
    nonce: &str,
    email: &str,
) -> String {
    let (challenge, verifier) = openidconnect::PkceCodeChallenge::new_random_sha256();
    let redirect_q: String = form_urlencoded::byte_serialize(redirect.as_bytes()).collect();
    let url = format!(
        "{}/auth?client_id={client_id}&response_type=code&scope=openid%20email&redirect_uri={redirect_q}\
         &nonce={nonce}&state=test&code_challenge={}&code_challenge_method=S256",
        provider.issuer,
        challenge.as_str()
    );
    client.goto(&provider.issuer).await.unwrap();
    client.delete_all_cookies().await.unwrap();
    client.goto(&url).await.unwrap();
    sign_in_at_provider(client, email).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        let at = client.current_url().await.unwrap();
        if at.as_str().starts_with(redirect)
            && let Some((_, code)) = at.query_pairs().find(|(k, _)| k == "code")
        {
            break code.into_owned();
        }
        assert!(Instant::now() < deadline, "the provider never sent the browser back with a code; at {at}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let http: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", verifier.secret().as_str()),
    ];
    let mut answer = http
        .post(format!("{}/token", provider.issuer))
        .header("Authorization", format!("Basic {basic}"))
        .send_form(form)
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
    body["id_token"].as_str().unwrap_or_else(|| panic!("no ID token: {body}")).to_owned()
}

/// ID tokens are checked against the provider's keys, issuer, audience and nonce: a token for
/// another client, from another provider (another issuer and other keys), with another nonce or
/// with a changed signature is refused; the genuine one passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_tokens_for_another_client_issuer_nonce_or_signature_are_refused() {
    use assay_server::oidc::{Oidc, OidcConfig};
    let Some(driver_path) = chromedriver() else { return };
    let Some(dir) = provider_dir() else { return };
    let app = app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let redirect = format!("{base}/signin/oidc/callback");
    let ours = start_provider(&dir, &redirect).await;
    let theirs = start_provider(&dir, &redirect).await;
    let oidc = Oidc::discover(&OidcConfig {
        issuer: ours.issuer.clone(),
        client_id: "assay".into(),
        client_secret: Some("assay-test-secret".into()),
        public_url: base.clone(),
    })
    .await
    .unwrap();
    let config = assay_server::ServerConfig { oidc: Some(oidc.clone()), ..Default::default() };
    let router = assay_server::router(app.service.clone(), config);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let (_driver, webdriver) = start_driver(&driver_path).await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&webdriver, profile.path()).await;
    const ASSAY: &str = "YXNzYXk6YXNzYXktdGVzdC1zZWNyZXQ="; // assay:assay-test-secret
    const OTHER: &str = "b3RoZXI6b3RoZXItdGVzdC1zZWNyZXQ="; // other:other-test-secret
    let genuine = id_token_from(&client, &ours, "assay", ASSAY, &redirect, "n-1", "ada@example.test").await;
    let for_other = id_token_from(&client, &ours, "other", OTHER, &redirect, "n-2", "ada@example.test").await;
    let from_theirs = id_token_from(&client, &theirs, "assay", ASSAY, &redirect, "n-3", "ada@example.test").await;
    client.close().await.unwrap();

    assert_eq!(oidc.verify_serialized(&genuine, "n-1").as_deref(), Ok("ada@example.test"));
    let refusal = |token: &str, nonce: &str| oidc.verify_serialized(token, nonce).unwrap_err();
    let audience = refusal(&for_other, "n-2");
    assert!(audience.to_lowercase().contains("audience"), "{audience}");
    let issuer = refusal(&from_theirs, "n-3");
    assert!(issuer.to_lowercase().contains("issuer"), "{issuer}");
    let nonce = refusal(&genuine, "another nonce");
    assert!(nonce.to_lowercase().contains("nonce"), "{nonce}");
    // Flip one character of the signature.
    let (signed, signature) = genuine.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{signed}.{first}{}", &signature[1..]);
    let signature_error = refusal(&forged, "n-1");
    assert!(signature_error.to_lowercase().contains("signature"), "{signature_error}");
    eprintln!("refused:\n  {audience}\n  {issuer}\n  {nonce}\n  {signature_error}");
}

/// The exception path in a real browser: the partner asks for an exception from a finding on
/// its version page, a reviewer grants it for less time than asked, and the partner sees the
/// finding waived with its expiry, and the register lists it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_asks_for_an_exception_and_a_reviewer_grants_it_in_a_real_browser() {
    let Some(driver_path) = chromedriver() else { return };
    let app = app().await;
    let (slug, version) = app.reviewed("http-urls").await;
    let base = serve(&app).await;
    let (_driver, webdriver) = start_driver(&driver_path).await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&webdriver, profile.path()).await;
    let result = exception_path(&app, &client, &base, &slug, &version).await;
    client.close().await.unwrap();
    result.unwrap();
}

async fn exception_path(
    app: &App,
    client: &Client,
    base: &str,
    slug: &str,
    version: &str,
) -> Result<(), fantoccini::error::CmdError> {
    let page = format!("/listings/{slug}/versions/{version}");
    sign_in(client, base, &app.acme).await;
    expect_path(client, "/listings", "partners start at their listings").await;
    client.goto(&format!("{base}{page}")).await?;
    assert!(heading(client).await.contains("changes_requested"));
    // Open the first finding's request form, say why, ask for 60 days.
    client.find(Locator::Css("details.exception-request summary")).await?.click().await?;
    client
        .find(Locator::Css("details.exception-request textarea[name=justification]"))
        .await?
        .send_keys("The CDN moves to https in March.")
        .await?;
    let asked_until =
        (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 60)).to_zoned(jiff::tz::TimeZone::UTC).date();
    let until = client.find(Locator::Css("details.exception-request input[name=until]")).await?;
    // A date input takes typed digits in the browser's locale order; set its value directly.
    client
        .execute(
            "arguments[0].value = arguments[1];",
            vec![serde_json::to_value(&until)?, json!(asked_until.to_string())],
        )
        .await?;
    screenshot(client, "partner-exception-request").await;
    client.find(Locator::Css("details.exception-request button[type=submit]")).await?.click().await?;
    expect_done(client, "exception_requested").await;
    assert!(text_of(client, ".flash").await.contains("exception request"), "the partner is told");
    let asked = text_of(client, "section[aria-labelledby=exceptions]").await;
    assert!(
        asked.contains("requested") && asked.contains("urls.https") && asked.contains(&asked_until.to_string()),
        "{asked}"
    );
    sign_out(client).await;

    // The reviewer grants it for 30 days, from the same page.
    sign_in(client, base, &app.reviewer).await;
    expect_path(client, "/queue", "reviewers start at the queue").await;
    client.goto(&format!("{base}/exceptions")).await?;
    let register = text_of(client, "main").await;
    assert!(register.contains(&format!("{slug}@{version}")) && register.contains("requested"), "{register}");
    // The register filters by partner and by rule.
    client.goto(&format!("{base}/exceptions?partner=globex")).await?;
    let none = text_of(client, "main").await;
    assert!(none.contains("No exceptions of globex") && !none.contains(&format!("{slug}@")), "{none}");
    client.goto(&format!("{base}/exceptions?partner=acme&rule=copy.placeholder")).await?;
    assert!(text_of(client, "main").await.contains("No exceptions for copy.placeholder of acme"));
    client.goto(&format!("{base}/exceptions?partner=acme")).await?;
    client.find(Locator::Css(&format!("a[href='{page}#exceptions']"))).await?.click().await?;
    expect_path(client, &page, "the register links to the version").await;
    let granted_until =
        (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 30)).to_zoned(jiff::tz::TimeZone::UTC).date();
    client.find(Locator::Css("textarea[name=rationale]")).await?.send_keys("The migration is booked; 30 days.").await?;
    let field = client.find(Locator::Css("form[action^='/exceptions/'] input[name=until]")).await?;
    client
        .execute(
            "arguments[0].value = arguments[1];",
            vec![serde_json::to_value(&field)?, json!(granted_until.to_string())],
        )
        .await?;
    client.find(Locator::Css("button[value=grant]")).await?.click().await?;
    expect_done(client, "exception_decided").await;
    assert!(text_of(client, ".flash").await.contains("decided"));
    screenshot(client, "reviewer-exception-granted").await;
    sign_out(client).await;

    // The partner sees the finding waived, with the date it lapses, and the verdict passing.
    sign_in(client, base, &app.acme).await;
    expect_path(client, "/listings", "partners start at their listings").await;
    client.goto(&format!("{base}{page}")).await?;
    let finding = text_of(client, "article.finding").await;
    assert!(finding.contains("waived by #") && finding.contains(&format!("until {granted_until}")), "{finding}");
    let exceptions = text_of(client, "section[aria-labelledby=exceptions]").await;
    assert!(exceptions.contains("live") && exceptions.contains("The migration is booked"), "{exceptions}");
    assert!(text_of(client, "main").await.contains("Verdict now: pass"));
    screenshot(client, "partner-exception-live").await;
    sign_out(client).await;
    Ok(())
}

/// Issue 18's path in a real browser, with every step e-mailed through a real SMTP server on
/// loopback: a partner asks for an exception and a reviewer grants it for 30 days; on another
/// version a reviewer puts it on hold with a reason the partner sees, they exchange messages
/// (and the reviewer's internal note stays with staff), the reviewer rejects it, the partner
/// appeals, the reviewer who decided is refused the hearing and a second reviewer overturns it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_appeals_talks_and_waits_on_a_hold_with_every_step_emailed_in_a_real_browser() {
    let Some(driver_path) = chromedriver() else { return };
    let Some(sink) = super::email::Sink::start() else { return };
    let mut app = app().await;
    let config = assay_service::EmailConfig { public_url: "http://assay.test".into(), ..Default::default() };
    app.service = app.service.clone().with_mailer(super::email::mailer(sink.port), config);
    app.router = router(app.service.clone(), ServerConfig::default());
    let ada = person_token(&app.store, "ada@acme.test", "Ada Lovelace", Some("acme"), Role::Owner).await;
    let rita = person_token(&app.store, "rita@platform.test", "Rita Reviewer", None, Role::Reviewer).await;
    let sam = person_token(&app.store, "sam@platform.test", "Sam Second", None, Role::Reviewer).await;
    let (slug, version) = app.reviewed("http-urls").await;
    let (other, other_version) = app.reviewed_manifest(example("clean").replace(&slug, "acme-appeal")).await;
    app.service.dispatch_emails().await.unwrap();
    sink.drain(Duration::from_secs(1)); // the reviews' e-mails; this test is about what follows
    let base = serve(&app).await;
    let (_driver, webdriver) = start_driver(&driver_path).await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&webdriver, profile.path()).await;
    let mut result = exception_path(&app, &client, &base, &slug, &version).await;
    if result.is_ok() {
        let people = People { ada: &ada, rita: &rita, sam: &sam };
        result = appeal_path(&client, &base, &people, &other, &other_version).await;
    }
    client.close().await.unwrap();
    result.unwrap();

    // Each step reached the people it concerns by e-mail, and the internal note reached no one.
    app.service.dispatch_emails().await.unwrap();
    let mails = sink.drain(Duration::from_secs(2));
    let subjects = |address: &str| -> Vec<String> {
        use super::email::{header, to};
        mails.iter().filter(|m| to(m) == address).map(|m| header(m, "subject").to_owned()).collect()
    };
    let (to_ada, to_sam) = (subjects("ada@acme.test"), subjects("sam@platform.test"));
    for expected in [
        format!("Your exception to urls.https on {slug} {version} was granted"),
        format!("{other} {other_version} is on hold: waiting for a test account"),
        format!("{other} {other_version} is no longer on hold"),
        format!("The reviewers wrote about {other} {other_version}"),
        format!("{other} {other_version} was rejected"),
        format!("Your appeal for {other} {other_version} succeeded: the version is approved"),
    ] {
        assert!(to_ada.contains(&expected), "{expected} to ada: {to_ada:#?}");
    }
    for expected in [
        format!("{slug} {version} asks for an exception to urls.https"),
        format!("{other} {other_version}: a message from the partner"),
        format!("{other} {other_version}: the partner appeals the reject decision"),
    ] {
        assert!(to_sam.contains(&expected), "{expected} to sam: {to_sam:#?}");
    }
    assert!(mails.iter().all(|m| !m.to_string().contains("INTERNAL")), "{mails:#?}");
}

struct People<'a> {
    ada: &'a str,
    rita: &'a str,
    sam: &'a str,
}

async fn appeal_path(
    client: &Client,
    base: &str,
    people: &People<'_>,
    slug: &str,
    version: &str,
) -> Result<(), fantoccini::error::CmdError> {
    let page = format!("/listings/{slug}/versions/{version}");
    // The reviewer asks a question, notes something for staff, and waits on the partner.
    sign_in(client, base, people.rita).await;
    expect_path(client, "/queue", "reviewers start at the queue").await;
    client.goto(&format!("{base}{page}")).await?;
    assert!(text_of(client, ".queue-place").await.contains("No reviewer has it yet"));
    client.find(Locator::Css("button[value=claim]")).await?.click().await?;
    expect_done(client, "claimed").await;
    assert!(text_of(client, ".queue-place").await.contains("Reviewer: Rita Reviewer"));
    client.find(Locator::Css("textarea#message")).await?.send_keys("Which account should we test with?").await?;
    client.find(Locator::Css("form[action$='/messages'] button[type=submit]")).await?.click().await?;
    expect_done(client, "message_posted").await;
    client.goto(&format!("{base}{page}")).await?;
    client.find(Locator::Css("textarea#message")).await?.send_keys("INTERNAL: their vault link looks odd").await?;
    client.find(Locator::Css("input[name=internal]")).await?.click().await?;
    client.find(Locator::Css("form[action$='/messages'] button[type=submit]")).await?.click().await?;
    expect_done(client, "message_posted").await;
    client.find(Locator::Css("input#hold-reason")).await?.send_keys("waiting for a test account").await?;
    client.find(Locator::Css("button[value=place]")).await?.click().await?;
    expect_done(client, "hold_placed").await;
    assert!(text_of(client, ".hold").await.contains("waiting for a test account"));
    // The queue, filtered to what is hers: the version, on hold, with its time left.
    client.goto(&format!("{base}/queue?assignee=me")).await?;
    let mine = text_of(client, "main table").await;
    assert!(mine.contains(slug) && mine.contains("on hold") && mine.contains("left"), "{mine}");
    screenshot(client, "reviewer-queue-mine").await;
    sign_out(client).await;

    // The partner sees the hold with its reason and the question, never the note, and answers.
    sign_in(client, base, people.ada).await;
    expect_path(client, "/listings", "partners start at their listings").await;
    client.goto(&format!("{base}{page}")).await?;
    let hold = text_of(client, ".hold").await;
    assert!(hold.contains("On hold:") && hold.contains("waiting for a test account"), "{hold}");
    let place = text_of(client, ".queue-place").await;
    assert!(place.contains("In the review queue: 1 of") && place.contains("expected by"), "{place}");
    assert!(!place.contains("Rita"), "who reviews it is staff's to know: {place}");
    let conversation = text_of(client, "section[aria-labelledby=conversation]").await;
    assert!(conversation.contains("Which account should we test with?"), "{conversation}");
    assert!(!conversation.contains("INTERNAL"), "{conversation}");
    screenshot(client, "partner-on-hold").await;
    client
        .find(Locator::Css("textarea#message"))
        .await?
        .send_keys("reviewer@acme.test; the password is in the vault")
        .await?;
    client.find(Locator::Css("form[action$='/messages'] button[type=submit]")).await?.click().await?;
    expect_done(client, "message_posted").await;
    assert!(text_of(client, ".flash").await.contains("message was posted"));
    sign_out(client).await;

    // The reviewer reads the answer, releases the hold and rejects the version.
    sign_in(client, base, people.rita).await;
    expect_path(client, "/queue", "reviewers start at the queue").await;
    client.goto(&format!("{base}{page}")).await?;
    let conversation = text_of(client, "section[aria-labelledby=conversation]").await;
    assert!(
        conversation.contains("password is in the vault") && conversation.contains("internal note"),
        "{conversation}"
    );
    client.find(Locator::Css("button[value=release]")).await?.click().await?;
    expect_done(client, "hold_released").await;
    client.find(Locator::Css("textarea#note")).await?.send_keys("The test account does not sign in.").await?;
    client.find(Locator::Css("button[value=reject]")).await?.click().await?;
    expect_done(client, "reject").await;
    assert!(until_heading(client, "rejected").await.contains("rejected"));
    sign_out(client).await;

    // The partner appeals.
    sign_in(client, base, people.ada).await;
    expect_path(client, "/listings", "partners start at their listings").await;
    client.goto(&format!("{base}{page}")).await?;
    client.find(Locator::Css("details.appeal-request summary")).await?.click().await?;
    client
        .find(Locator::Css("textarea#statement"))
        .await?
        .send_keys("The account signs in; 2FA was off for you.")
        .await?;
    client.find(Locator::Css("details.appeal-request button[type=submit]")).await?.click().await?;
    expect_done(client, "appeal_filed").await;
    assert!(text_of(client, ".flash").await.contains("appeal was filed"));
    assert!(text_of(client, "section[aria-labelledby=appeals]").await.contains("open"));
    sign_out(client).await;

    // The reviewer who decided may not hear it.
    sign_in(client, base, people.rita).await;
    expect_path(client, "/queue", "reviewers start at the queue").await;
    client.goto(&format!("{base}{page}")).await?;
    client.find(Locator::Css("textarea[id^=hearing-]")).await?.send_keys("I was wrong").await?;
    client.find(Locator::Css("button[value=overturn]")).await?.click().await?;
    let refused = until_text(client, "main", "other than").await;
    assert!(refused.contains("other than") && refused.contains("HTTP 403"), "{refused}");
    sign_out(client).await;

    // A second reviewer overturns it: the version is approved.
    sign_in(client, base, people.sam).await;
    expect_path(client, "/queue", "reviewers start at the queue").await;
    client.goto(&format!("{base}{page}")).await?;
    client.find(Locator::Css("textarea[id^=hearing-]")).await?.send_keys("It signs in; approved.").await?;
    client.find(Locator::Css("button[value=overturn]")).await?.click().await?;
    expect_done(client, "appeal_decided").await;
    assert!(text_of(client, ".flash").await.contains("appeal was decided"));
    assert!(until_heading(client, "approved").await.contains("approved"));
    screenshot(client, "reviewer-appeal-overturned").await;
    sign_out(client).await;

    // The partner reads the outcome and its rationale.
    sign_in(client, base, people.ada).await;
    expect_path(client, "/listings", "partners start at their listings").await;
    client.goto(&format!("{base}{page}")).await?;
    let appeals = text_of(client, "section[aria-labelledby=appeals]").await;
    assert!(appeals.contains("overturned") && appeals.contains("It signs in; approved."), "{appeals}");
    assert!(appeals.contains("Sam Second"), "{appeals}");
    screenshot(client, "partner-appeal-overturned").await;
    sign_out(client).await;
    Ok(())
}

/// The browser arrives back at a page with `?done={code}`: the form it submitted succeeded (a
/// form posts from a page to the same page, so the path alone does not say the navigation is
/// over).
async fn expect_done(client: &Client, code: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let done = format!("done={code}");
    loop {
        let url = client.current_url().await.unwrap();
        if url.query().is_some_and(|q| q.contains(&done)) {
            return;
        }
        if Instant::now() > deadline {
            let main = text_of(client, "main").await;
            panic!("expected {done}, at {url}:\n{main}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of the first element matching `css` once it contains `needle` (or after 10 s).
async fn until_text(client: &Client, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = text_of(client, css).await;
        if text.contains(needle) || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
