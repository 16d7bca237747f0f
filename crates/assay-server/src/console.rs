//! The web console: server-rendered pages for reviewers and partners at `/`.
//!
//! Every page is HTML from an [askama] template (compile-time checked, escaped by default) and
//! works without JavaScript; `console.js` only adds conveniences (keyboard moves, live waiting
//! times, no double submits). Handlers are glue over the same [`assay_service::Service`] calls
//! as the API, with the same [`Principal`](assay_service::Principal), so partner isolation and
//! every permission are exactly the API's.
//!
//! - [`session`]: sign-in with an API token → a session cookie (HttpOnly, SameSite=Lax, Secure
//!   over TLS), the CSRF token every form carries, the same-origin check on every POST, sign-out,
//!   and the security headers of every console response.
//! - [`review`]: the queue, a version's page (findings by severity with their manifest lines,
//!   the diff against the last approved version, resource usage, integration transcripts),
//!   decisions and waivers.
//! - [`listings`]: listings a page at a time, a listing's page (versions, waivers, notices,
//!   audit trail), creating listings and submitting versions.
//! - [`lifecycle`]: rule packs and their blast radius, the deprecation calendar, notices and
//!   fix-by dates, webhook endpoints and their delivery logs.
//! - [`conversation`]: messages, holds and appeals on the version page.
//! - [`exceptions`]: asking for an exception from a finding, deciding it on the version page,
//!   and the register at `/exceptions`.
//! - [`email`]: e-mail preferences, and the unsubscribe page every e-mail links to.
//! - [`rules`]: the active pack's rules and their documentation (Markdown rendered with raw
//!   HTML shown as text), public: a finding's help link lands there.

mod conversation;
mod email;
mod exceptions;
mod lifecycle;
mod listings;
mod people;
mod review;
mod rules;
mod session;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use assay_service::{Principal, Role};

use crate::AppState;
use crate::problem::ApiError;

pub(crate) use session::Viewer;

/// The console's routes (not part of the OpenAPI document).
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let max_upload = state.config.max_upload_bytes;
    let pages = Router::new()
        .route("/", get(session::home))
        .route("/signin", get(session::signin_page).post(session::signin))
        .route("/signin/oidc", get(session::oidc_start))
        .route("/signin/oidc/callback", get(session::oidc_callback))
        .route("/invitations/{secret}", get(session::invitation))
        .route("/signout", post(session::signout))
        .route("/queue", get(review::queue))
        .route("/listings", get(listings::index).post(listings::create))
        .route("/listings/{slug}", get(listings::show))
        .route("/listings/{slug}/versions/{version}", get(review::version))
        .route("/listings/{slug}/versions/{version}/decision", post(review::decide))
        .route("/listings/{slug}/waivers", post(review::grant_waiver))
        .route("/listings/{slug}/versions/{version}/exceptions", post(exceptions::request))
        .route("/listings/{slug}/versions/{version}/moves", post(review::move_version))
        .route("/exceptions", get(exceptions::register))
        .route("/exceptions/{id}/decision", post(exceptions::decide))
        .route("/listings/{slug}/versions/{version}/messages", post(conversation::post_message))
        .route("/listings/{slug}/versions/{version}/hold", post(conversation::hold_form))
        .route("/listings/{slug}/versions/{version}/appeals", post(conversation::file_appeal))
        .route("/appeals/{id}/decision", post(conversation::decide_appeal))
        .route("/listings/{slug}/versions/{version}/assignee", post(review::assign))
        .route("/listings/{slug}/waivers/{id}/expire", post(review::expire_waiver))
        .route("/rules", get(rules::index))
        .route("/rules/{id}", get(rules::show))
        .route("/packs", get(lifecycle::packs))
        .route("/packs/{name}/{version}", get(lifecycle::pack))
        .route("/deprecations", get(lifecycle::deprecations))
        .route("/notices", get(lifecycle::notices))
        .route("/webhooks", get(lifecycle::webhooks).post(lifecycle::register_webhook))
        .route("/webhooks/{id}", get(lifecycle::webhook))
        .route("/webhooks/{id}/{action}", post(lifecycle::webhook_action))
        .route("/webhooks/{id}/messages/{message}/redeliver", post(lifecycle::redeliver_webhook))
        .route("/tokens", get(people::tokens).post(people::create_token))
        .route("/preferences", get(email::preferences).post(email::save_preferences))
        .route("/members", get(people::members))
        .route("/partners", get(people::partners))
        .route("/partners/decisions", post(people::decide))
        .route("/members/invitations", post(people::invite))
        .route("/members/{email}/remove", post(people::remove_member))
        .route("/tokens/{id}/revoke", post(people::revoke_token))
        .route_layer(axum::extract::DefaultBodyLimit::max(state.config.max_body_bytes))
        .route("/listings/{slug}/versions", post(listings::submit))
        .route("/listings/{slug}/settings", post(listings::settings))
        .route_layer(axum::extract::DefaultBodyLimit::max(max_upload))
        .layer(axum::middleware::from_fn(session::guard));
    // Unsubscribe links work without a session, and mail clients' one-click requests come from
    // their servers: the link's token is the proof, so no same-origin check.
    let unsubscribe = Router::new()
        .route("/unsubscribe/{token}", get(email::unsubscribe_page).post(email::unsubscribe))
        .layer(axum::middleware::map_response(|response: Response| async { session::with_headers(response) }));
    pages.merge(unsubscribe).route("/assets/console.css", get(css)).route("/assets/console.js", get(js))
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", include_str!("../assets/console.css"))
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../assets/console.js"))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// What every page's frame shows: who is signed in, where they are, a message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    pub viewer: Option<ViewerInfo>,
    pub current: &'static str,
    pub flash: Option<Flash>,
    /// Seconds since the Unix epoch, by the service's clock (live waiting times count from it).
    pub now: i64,
    /// Reload the page every few seconds (a version whose checks are running).
    pub refresh: bool,
}

/// The signed-in principal as the frame shows it.
#[derive(Debug, Clone)]
pub(crate) struct ViewerInfo {
    pub label: String,
    pub csrf: String,
    pub staff: bool,
    /// A person (not a service account): they have e-mail preferences.
    pub person: bool,
}

/// A message at the top of a page.
#[derive(Debug, Clone, Default)]
pub(crate) struct Flash {
    pub error: bool,
    pub title: String,
    pub detail: String,
    pub fields: Vec<(String, String)>,
}

/// One entry of the main navigation.
#[derive(Debug, Clone)]
pub(crate) struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

impl Layout {
    pub(crate) fn nav(&self) -> Vec<NavItem> {
        let staff = self.viewer.as_ref().is_some_and(|v| v.staff);
        let items: &[(&str, &str)] = if staff {
            &[
                ("/queue", "Queue"),
                ("/listings", "Listings"),
                ("/exceptions", "Exceptions"),
                ("/packs", "Rule packs"),
                ("/rules", "Rules"),
                ("/deprecations", "Deprecations"),
                ("/notices", "Notices"),
                ("/partners", "Partners"),
                ("/members", "Members"),
                ("/tokens", "Tokens"),
                ("/preferences", "E-mail"),
            ]
        } else {
            &[
                ("/listings", "Listings"),
                ("/exceptions", "Exceptions"),
                ("/notices", "Notices"),
                ("/deprecations", "Deprecations"),
                ("/rules", "Rules"),
                ("/webhooks", "Webhooks"),
                ("/members", "Members"),
                ("/tokens", "Tokens"),
                ("/preferences", "E-mail"),
            ]
        };
        let person = self.viewer.as_ref().is_some_and(|v| v.person);
        items
            .iter()
            .filter(|(href, _)| person || *href != "/preferences")
            .map(|(href, label)| NavItem { href, label, current: *href == self.current })
            .collect()
    }
}

/// Confirmations after a successful form, by a fixed code in the redirect's query (`?done=`):
/// a link cannot put words of its own on a page.
pub(crate) fn done_flash(code: Option<&str>) -> Option<Flash> {
    let detail = match code? {
        "submitted" => "The version was submitted; its checks are running.",
        "created" => "The listing was created. Submit its first version below.",
        "approve" => "The version was approved.",
        "request_changes" => "Changes were requested; the partner sees your note.",
        "reject" => "The version was rejected.",
        "certify" => "The version was certified.",
        "waived" => "The waiver was granted.",
        "expired" => "The waiver was expired; its findings count again.",
        "released" => "The version is released: it is live.",
        "withdrawn" => "The version is withdrawn.",
        "auto_release_on" => "Approved versions of this listing now go live at once.",
        "auto_release_off" => "Approved versions of this listing now wait for you to release them.",
        "rolled_back" => "Rolled back: this version is live again, and the newer ones are withdrawn.",
        "exception_requested" => {
            "Your exception request is with the platform's reviewers; you will hear of their decision."
        }
        "exception_decided" => "The exception was decided; the partner is told.",
        "exception_confirming" => "Granted once: an exception to a blocker needs a second reviewer to confirm it.",
        "message_posted" => "Your message was posted.",
        "hold_placed" => "The version is on hold; the partner sees the reason.",
        "hold_released" => "The hold is released; the review clock runs again.",
        "appeal_filed" => "Your appeal was filed; a reviewer other than the one who decided hears it.",
        "appeal_decided" => "The appeal was decided; the partner is told.",
        "claimed" => "You have this version: it shows as yours in the queue.",
        "unassigned" => "No one has this version now.",
        _ => return None,
    };
    Some(Flash { error: false, title: "Done.".into(), detail: detail.into(), fields: Vec::new() })
}

/// Render a page.
pub(crate) fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => axum::response::Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered; it has been logged").into_response()
        }
    }
}

/// A page that could not be shown: an HTML error page, or the sign-in page for a visitor
/// without a session.
#[derive(Debug)]
pub(crate) enum ConsoleError {
    /// No (live) session: sign in, then come back to `next`.
    SignIn { next: String },
    /// The request failed; the page says why, in the API's words.
    Failed(Box<Failure>),
}

/// Why a page could not be shown, and where to go back to.
#[derive(Debug)]
pub(crate) struct Failure {
    error: ApiError,
    layout: Layout,
    back: String,
}

impl ConsoleError {
    /// The error page for `error`, framed by `layout`, linking back to `back`.
    pub(crate) fn failed(error: ApiError, layout: Layout, back: String) -> ConsoleError {
        ConsoleError::Failed(Box::new(Failure { error, layout, back }))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    title: &'a str,
    detail: &'a str,
    fields: Vec<(String, String)>,
    back: &'a str,
    back_label: &'a str,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            ConsoleError::SignIn { next } => {
                let query = if next == "/" { String::new() } else { format!("?next={}", urlencode(&next)) };
                Redirect::to(&format!("/signin{query}")).into_response()
            }
            ConsoleError::Failed(failure) => {
                let Failure { error, layout, back } = *failure;
                let (status, title, detail, fields) = error.parts();
                let back_label = if back == "/" { "Back to the console" } else { "Back" };
                let page =
                    ErrorPage { layout, status: status.as_u16(), title, detail, fields, back: &back, back_label };
                (status, render(&page)).into_response()
            }
        }
    }
}

/// Turn a service failure into the console's error page.
pub(crate) trait OrPage<T> {
    /// Fail with an error page framed for `viewer`, linking back to `back`.
    fn or_page(self, viewer: &Viewer, back: &str) -> Result<T, ConsoleError>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, viewer: &Viewer, back: &str) -> Result<T, ConsoleError> {
        self.map_err(|e| ConsoleError::failed(e.into(), viewer.layout(""), back.to_owned()))
    }
}

/// Whether a principal is platform staff (reviewer or admin).
pub(crate) fn staff(who: &Principal) -> bool {
    matches!(who.role, Role::Reviewer | Role::Admin)
}

/// Unix seconds as `2026-11-30 19:40 UTC`.
pub(crate) fn when(at: i64) -> String {
    jiff::Timestamp::from_second(at).map_or_else(|_| at.to_string(), |t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
}

/// A duration in seconds, as people say it.
pub(crate) fn waited(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..90 => format!("{s} s"),
        90..5400 => format!("{} min", (s + 30) / 60),
        5400..172_800 => format!("{} h", (s + 1800) / 3600),
        _ => format!("{} days", (s + 43_200) / 86_400),
    }
}

/// A byte count, as people read it.
pub(crate) fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// Percent-encode a query value.
pub(crate) fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(super::waited(5), "5 s");
        assert_eq!(super::waited(600), "10 min");
        assert_eq!(super::waited(7200), "2 h");
        assert_eq!(super::waited(3 * 86_400), "3 days");
        assert_eq!(super::bytes(2048), "2.0 KiB");
        assert_eq!(super::urlencode("/listings?q=a b"), "%2Flistings%3Fq%3Da+b");
    }
}
