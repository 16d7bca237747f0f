//! Signing in and out, the session behind every page, CSRF, and the headers every console
//! response carries.
//!
//! - A browser signs in with an API token (`POST /signin`) and gets a random session secret in
//!   the `assay_session` cookie: `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when the
//!   console is served over TLS (`ServerConfig::secure_cookies`, or a proxy's
//!   `X-Forwarded-Proto: https`). The store keeps only the secret's hash; the token itself is
//!   never stored in the browser.
//! - Every form carries a CSRF token derived from the session secret (which script cannot read),
//!   checked in constant time. Every POST must also come from this origin (`Sec-Fetch-Site`, or
//!   `Origin` against `Host`); that is the sign-in form's protection, which has no session yet.
//! - With an OpenID provider configured, `GET /signin/oidc` starts the authorization code flow
//!   with PKCE (the state kept server-side, bound to the browser by the `assay_oidc` cookie) and
//!   `GET /signin/oidc/callback` finishes it ([`crate::oidc`]); `GET /invitations/{secret}`
//!   shows an invitation and how to accept it.
//! - Responses carry a strict Content-Security-Policy (no inline script or style), refuse
//!   framing, and pages are `no-store`.

use assay_api::ProblemCode;
use axum::Form;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use assay_service::{Principal, ServiceError};

use super::{ConsoleError, Flash, Layout, ViewerInfo, render, staff};
use crate::AppState;
use crate::problem::ApiError;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "assay_session";

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The signed-in caller of a console page.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    /// Who, exactly as an API token would say.
    pub who: Principal,
    session: String,
    /// The token every form of this session carries.
    pub csrf: String,
    now: i64,
}

impl Viewer {
    /// The page frame for this viewer, with `current` marked in the navigation.
    pub(crate) fn layout(&self, current: &'static str) -> Layout {
        let label = format!("{} · {}", self.who.actor, self.who.role);
        Layout {
            viewer: Some(ViewerInfo {
                label,
                csrf: self.csrf.clone(),
                staff: staff(&self.who),
                person: self.who.user.is_some(),
            }),
            current,
            flash: None,
            now: self.now,
            refresh: false,
        }
    }

    /// Refuse a form whose CSRF token is not this session's.
    pub(crate) fn check(&self, csrf: &str) -> Result<(), ConsoleError> {
        let (a, b) = (csrf.as_bytes(), self.csrf.as_bytes());
        let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if same {
            Ok(())
        } else {
            Err(ConsoleError::failed(
                ApiError::titled(
                    ProblemCode::Forbidden,
                    "The form has expired",
                    "the form did not come from this session (it may be from before you last signed in); \
                     reload the page and send it again",
                ),
                self.layout(""),
                "/".into(),
            ))
        }
    }
}

/// The CSRF token of a session: derived from the secret only the HttpOnly cookie holds.
fn csrf_of(session: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"assay console csrf\0");
    hash.update(session.as_bytes());
    hex::encode(hash.finalize())
}

fn session_of(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

/// The value of the cookie `name`, if the request carries it.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // After signing in, come back here; a form's target is no place to land, its page is.
        let next = if parts.method == Method::GET {
            parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned()
        } else {
            "/".to_owned()
        };
        let Some(session) = session_of(&parts.headers) else { return Err(ConsoleError::SignIn { next }) };
        let who = match state.service.session(&session).await {
            Ok(who) => who,
            Err(ServiceError::Unauthenticated) => return Err(ConsoleError::SignIn { next }),
            Err(e) => {
                return Err(ConsoleError::failed(e.into(), Layout::default(), "/".into()));
            }
        };
        tracing::Span::current().record("actor", who.actor.as_str());
        Ok(Viewer { who, csrf: csrf_of(&session), session, now: state.service.now() })
    }
}

/// A page anyone may read: the viewer when signed in, else `None` (not a redirect to sign in).
impl axum::extract::OptionalFromRequestParts<AppState> for Viewer {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        match <Viewer as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(viewer) => Ok(Some(viewer)),
            Err(ConsoleError::SignIn { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Every console request: POSTs must come from this origin, and every response gets the
/// security headers.
pub(crate) async fn guard(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD && !same_origin(request.headers()) {
        tracing::warn!(path = %request.uri().path(), "cross-origin form post refused");
        let error = ApiError::titled(
            ProblemCode::Forbidden,
            "Cross-site request refused",
            "forms are accepted only from the console's own pages",
        );
        let page = ConsoleError::failed(error, Layout::default(), "/".into());
        return with_headers(page.into_response());
    }
    with_headers(next.run(request).await)
}

/// Whether a state-changing request came from the console's own origin. Browsers send
/// `Sec-Fetch-Site`; older ones at least `Origin`. A request with neither is not from a browser
/// page (a script or a test client), which CSRF is not about.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

pub(crate) fn with_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Whether the browser reached us over TLS (directly, or through a proxy that says so).
fn over_tls(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

fn set_cookie(value: String, max_age_secs: i64, secure: bool) -> (header::HeaderName, HeaderValue) {
    cookie_header(COOKIE, value, "/", max_age_secs, secure)
}

/// `Set-Cookie` for an `HttpOnly`, `SameSite=Lax` cookie.
fn cookie_header(
    name: &'static str,
    value: String,
    path: &'static str,
    max_age_secs: i64,
    secure: bool,
) -> (header::HeaderName, HeaderValue) {
    let cookie = Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path(path)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    let value = HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""));
    (header::SET_COOKIE, value)
}

/// Where a principal starts: reviewers at the queue, partners at their listings.
fn start_page(who: &Principal) -> &'static str {
    if staff(who) { "/queue" } else { "/listings" }
}

/// Only paths on this site are places to go back to after signing in.
fn safe_next(next: &str) -> Option<&str> {
    let ok =
        next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") && !next.contains(['\r', '\n']);
    ok.then_some(next)
}

/// `/`: the start page for a signed-in viewer, else sign-in.
pub(crate) async fn home(viewer: Viewer) -> Redirect {
    Redirect::to(start_page(&viewer.who))
}

#[derive(askama::Template)]
#[template(path = "signin.html")]
struct SignInPage {
    layout: Layout,
    next: String,
    /// The OpenID provider's issuer, when people can sign in through one.
    provider: Option<String>,
}

impl SignInPage {
    fn new(state: &AppState, flash: Option<Flash>, next: String) -> SignInPage {
        let layout = Layout { now: state.service.now(), flash, ..Layout::default() };
        SignInPage { layout, next, provider: state.config.oidc.as_ref().map(|o| o.issuer.clone()) }
    }

    /// The sign-in page with an error at the top, answered with `status`.
    fn refused(state: &AppState, status: StatusCode, title: &str, detail: String) -> Response {
        let flash = Flash { error: true, title: title.into(), detail, fields: Vec::new() };
        (status, render(&SignInPage::new(state, Some(flash), String::new()))).into_response()
    }
}

/// The cookie that binds a sign-in through the provider to the browser that started it.
const OIDC_COOKIE: &str = "assay_oidc";

#[derive(Debug, Deserialize)]
pub(crate) struct OidcStart {
    #[serde(default)]
    next: String,
    /// An invitation's secret, to accept it by signing in.
    #[serde(default)]
    invitation: Option<String>,
}

/// `GET /signin/oidc`: start signing in through the OpenID provider (authorization code with
/// PKCE): keep the state, nonce and verifier server-side under the state, bind them to this
/// browser with a cookie, and send the browser to the provider.
pub(crate) async fn oidc_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<OidcStart>,
) -> Response {
    let Some(oidc) = state.config.oidc.clone() else {
        return SignInPage::refused(
            &state,
            StatusCode::NOT_FOUND,
            "Signing in through a provider is not configured here.",
            "Sign in with an API token, or ask an administrator to configure [oidc].".into(),
        );
    };
    let authorization = oidc.authorize();
    let browser = openidconnect::CsrfToken::new_random().secret().clone();
    let sign_in = assay_service::SignIn {
        browser_hash: hex::encode(Sha256::digest(browser.as_bytes())),
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        next: safe_next(&query.next).unwrap_or("").to_owned(),
        invitation_hash: query.invitation.as_deref().map(assay_service::signin::secret_hash),
    };
    if let Err(e) = state.service.begin_sign_in(&authorization.state, &sign_in).await {
        return ConsoleError::failed(e.into(), Layout::default(), "/signin".into()).into_response();
    }
    let cookie = oidc_cookie(browser, assay_service::signin::SIGN_IN_SECS, over_tls(&state, &headers));
    ([cookie], Redirect::to(&authorization.url)).into_response()
}

fn oidc_cookie(value: String, max_age_secs: i64, secure: bool) -> (header::HeaderName, HeaderValue) {
    cookie_header(OIDC_COOKIE, value, "/signin/oidc", max_age_secs, secure)
}

#[derive(Debug, Deserialize)]
pub(crate) struct OidcCallback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// `GET /signin/oidc/callback`: the provider sends the browser back with a code. The state
/// must name a sign-in this browser started (once), the code is exchanged with the PKCE
/// verifier, the ID token validated; then the person's console session opens — a member by
/// e-mail address, or an invitee joining.
pub(crate) async fn oidc_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<OidcCallback>,
) -> Response {
    let Some(oidc) = state.config.oidc.clone() else {
        return SignInPage::refused(&state, StatusCode::NOT_FOUND, "Not configured.", String::new());
    };
    if let Some(error) = &query.error {
        let detail = query.error_description.clone().unwrap_or_else(|| error.clone());
        return SignInPage::refused(&state, StatusCode::UNAUTHORIZED, "The provider did not sign you in.", detail);
    }
    let (Some(code), Some(returned_state)) = (&query.code, &query.state) else {
        return SignInPage::refused(
            &state,
            StatusCode::BAD_REQUEST,
            "The provider's answer is incomplete.",
            "Sign in again.".into(),
        );
    };
    let sign_in = match state.service.take_sign_in(returned_state).await {
        Ok(Some(sign_in)) => sign_in,
        Ok(None) => {
            return SignInPage::refused(
                &state,
                StatusCode::BAD_REQUEST,
                "This sign-in expired or was used already.",
                "Sign in again.".into(),
            );
        }
        Err(e) => return ConsoleError::failed(e.into(), Layout::default(), "/signin".into()).into_response(),
    };
    let browser = cookie_value(&headers, OIDC_COOKIE).map(|b| hex::encode(Sha256::digest(b.as_bytes())));
    if browser.as_deref() != Some(sign_in.browser_hash.as_str()) {
        return SignInPage::refused(
            &state,
            StatusCode::BAD_REQUEST,
            "This sign-in was started in another browser.",
            "Sign in again from this one.".into(),
        );
    }
    let identity = match oidc.finish(code, &sign_in.nonce, &sign_in.pkce_verifier).await {
        Ok(identity) => identity,
        Err(why) => {
            tracing::warn!(%why, "OpenID sign-in refused");
            return SignInPage::refused(&state, StatusCode::UNAUTHORIZED, "The sign-in could not be verified.", why);
        }
    };
    let ttl = state.config.session_ttl.as_secs().try_into().unwrap_or(i64::MAX);
    match state.service.open_person_session(&identity, sign_in.invitation_hash.as_deref(), ttl).await {
        Ok((session, who)) => {
            let to = safe_next(&sign_in.next).unwrap_or(start_page(&who)).to_owned();
            let secure = over_tls(&state, &headers);
            let cookies = [set_cookie(session, ttl, secure), oidc_cookie(String::new(), 0, secure)];
            (axum::response::AppendHeaders(cookies), Redirect::to(&to)).into_response()
        }
        Err(ServiceError::Forbidden(why)) => {
            SignInPage::refused(&state, StatusCode::FORBIDDEN, "You cannot sign in here yet.", why)
        }
        Err(e) => ConsoleError::failed(e.into(), Layout::default(), "/signin".into()).into_response(),
    }
}

#[derive(askama::Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    secret: String,
    invitation: Option<assay_service::Invitation>,
    /// Why it cannot be accepted, if it cannot.
    problem: Option<String>,
    provider: Option<String>,
}

/// `GET /invitations/{secret}`: what the invitation is, and a way to accept it by signing in.
pub(crate) async fn invitation(
    State(state): State<AppState>,
    axum::extract::Path(secret): axum::extract::Path<String>,
) -> Response {
    let now = state.service.now();
    let invitation = match state.service.invitation(&secret).await {
        Ok(invitation) => invitation,
        Err(e) => return ConsoleError::failed(e.into(), Layout::default(), "/signin".into()).into_response(),
    };
    let problem = match &invitation {
        None => Some("This invitation does not exist. Ask for a new one.".to_owned()),
        Some(i) if i.accepted_at.is_some() => Some("This invitation was used already; it works once.".to_owned()),
        Some(i) if i.expires_at <= now => Some("This invitation has expired. Ask for a new one.".to_owned()),
        Some(_) => None,
    };
    let status = if problem.is_some() { StatusCode::GONE } else { StatusCode::OK };
    let provider = state.config.oidc.as_ref().map(|o| o.issuer.clone());
    let layout = Layout { now, ..Layout::default() };
    (status, render(&InvitationPage { layout, secret, invitation, problem, provider })).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
}

/// `GET /signin`.
pub(crate) async fn signin_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<NextQuery>,
) -> Response {
    if let Some(session) = session_of(&headers)
        && let Ok(who) = state.service.session(&session).await
    {
        return Redirect::to(safe_next(&query.next).unwrap_or(start_page(&who))).into_response();
    }
    render(&SignInPage::new(&state, None, query.next))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    token: String,
    #[serde(default)]
    next: String,
}

/// `POST /signin`: trade a token for a session cookie.
pub(crate) async fn signin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let ttl = state.config.session_ttl.as_secs().try_into().unwrap_or(i64::MAX);
    match state.service.open_session(&form.token, ttl).await {
        Ok((session, who)) => {
            let to = safe_next(&form.next).unwrap_or(start_page(&who)).to_owned();
            let cookie = set_cookie(session, ttl, over_tls(&state, &headers));
            ([cookie], Redirect::to(&to)).into_response()
        }
        Err(ServiceError::Unauthenticated) => {
            let flash = Flash {
                error: true,
                title: "That token was not accepted.".into(),
                detail: "Check that you pasted the whole token, starting with `assay_`.".into(),
                fields: Vec::new(),
            };
            (StatusCode::UNAUTHORIZED, render(&SignInPage::new(&state, Some(flash), form.next))).into_response()
        }
        Err(e) => ConsoleError::failed(e.into(), Layout::default(), "/signin".into()).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /signout`: end the session and forget the cookie.
pub(crate) async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Viewer,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    if let Err(e) = state.service.close_session(&viewer.session).await {
        return Err(ConsoleError::failed(e.into(), viewer.layout(""), "/".into()));
    }
    let cookie = set_cookie(String::new(), 0, over_tls(&state, &headers));
    Ok(([cookie], Redirect::to("/signin")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_places_to_return_to() {
        assert_eq!(safe_next("/listings/acme"), Some("/listings/acme"));
        for bad in
            ["https://evil.example/", "//evil.example/", "/\\evil.example", "", "listings", "/a\r\nSet-Cookie: x"]
        {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn posts_from_another_site_are_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8420"));
        assert!(same_origin(&headers), "a client without browser headers");
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:8420"));
        assert!(same_origin(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&headers));
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&headers));
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&headers));
    }

    #[test]
    fn the_csrf_token_is_the_sessions_own() {
        assert_eq!(csrf_of("assay_a"), csrf_of("assay_a"));
        assert_ne!(csrf_of("assay_a"), csrf_of("assay_b"));
        assert_eq!(csrf_of("assay_a").len(), 64);
    }
}
