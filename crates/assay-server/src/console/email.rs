//! `/preferences`: which e-mails the signed-in person receives; and `/unsubscribe/{token}`,
//! where every e-mail's unsubscribe link leads — a page that confirms with one button, and the
//! one-click `POST` mail clients send themselves (RFC 8058). The link's token is the proof, so
//! neither needs a session.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use assay_service::email::KINDS;

use super::{ConsoleError, Flash, Layout, OrPage, Viewer, render};
use crate::AppState;

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencesPage {
    layout: Layout,
    csrf: String,
    address: String,
    /// (kind, what it is about, received)
    kinds: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /preferences`.
pub(crate) async fn preferences(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<DoneQuery>,
) -> Result<Response, ConsoleError> {
    let prefs = state.service.email_preferences(&viewer.who).await.or_page(&viewer, "/")?;
    let mut layout = viewer.layout("/preferences");
    if query.done.as_deref() == Some("saved") {
        layout.flash = Some(Flash {
            error: false,
            title: "Saved.".into(),
            detail: "Your e-mail preferences are saved.".into(),
            fields: Vec::new(),
        });
    }
    let kinds = prefs.kinds.iter().map(|k| (k.kind, k.about, k.receive)).collect();
    Ok(render(&PreferencesPage { layout, csrf: viewer.csrf.clone(), address: prefs.address, kinds }))
}

/// `POST /preferences`: the `receive` checkboxes (a repeated field) say what to keep.
pub(crate) async fn save_preferences(
    State(state): State<AppState>,
    viewer: Viewer,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let csrf = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default();
    viewer.check(csrf)?;
    let receive: Vec<&str> = pairs.iter().filter(|(k, _)| k == "receive").map(|(_, v)| v.as_str()).collect();
    let off: Vec<String> =
        KINDS.iter().map(|(kind, _)| *kind).filter(|kind| !receive.contains(kind)).map(str::to_owned).collect();
    state.service.set_email_preferences(&viewer.who, &off).await.or_page(&viewer, "/preferences")?;
    Ok(Redirect::to("/preferences?done=saved").into_response())
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    layout: Layout,
    token: String,
    /// The kind the link is for (`None`: every kind).
    kind: Option<String>,
    about: Option<&'static str>,
    /// Whose e-mail it is; `None`: the link is not valid.
    address: Option<String>,
    /// After the button: the kinds now off.
    done: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct KindQuery {
    #[serde(default)]
    kind: Option<String>,
}

fn about(kind: Option<&str>) -> Option<&'static str> {
    KINDS.iter().find(|(k, _)| Some(*k) == kind).map(|(_, about)| *about)
}

/// `GET /unsubscribe/{token}?kind=`: who and what, and a button (mail scanners follow links;
/// only the `POST` changes anything).
pub(crate) async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<KindQuery>,
) -> Response {
    let layout = Layout { now: state.service.now(), ..Layout::default() };
    let address = match state.service.unsubscribe_address(&token).await {
        Ok(address) => address,
        Err(e) => return ConsoleError::failed(e.into(), layout, "/".into()).into_response(),
    };
    let status = if address.is_some() { StatusCode::OK } else { StatusCode::NOT_FOUND };
    let about = about(query.kind.as_deref());
    let page = UnsubscribePage { layout, token, kind: query.kind, about, address, done: None };
    (status, render(&page)).into_response()
}

/// `POST /unsubscribe/{token}?kind=`: turn the kind off — from the page's button, or from a
/// mail client's one-click request (`List-Unsubscribe=One-Click`).
pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<KindQuery>,
) -> Response {
    let layout = Layout { now: state.service.now(), ..Layout::default() };
    match state.service.unsubscribe(&token, query.kind.as_deref()).await {
        Ok(done) => {
            let about = about(query.kind.as_deref());
            let page = UnsubscribePage {
                layout,
                token,
                kind: query.kind,
                about,
                address: Some(done.address),
                done: Some(done.opted_out),
            };
            render(&page)
        }
        Err(e) => ConsoleError::failed(e.into(), layout, "/".into()).into_response(),
    }
}
