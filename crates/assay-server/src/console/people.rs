//! `/tokens`: the signed-in person's API tokens — list, create (the secret shown once, in the
//! answer to the form), revoke — through the same service calls as `/v1/tokens`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use assay_service::{Scope, TokenRequest};

use super::{ConsoleError, OrPage, Viewer, render, when};
use crate::AppState;

struct TokenRow {
    id: i64,
    name: String,
    state: &'static str,
    scopes: String,
    expires: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: super::Layout,
    csrf: String,
    rows: Vec<TokenRow>,
    /// A token just created: (id, name, secret), shown once.
    created: Option<(i64, String, String)>,
    /// The scopes the viewer may give a token.
    scopes: Vec<&'static str>,
}

async fn tokens_page(
    state: &AppState,
    viewer: &Viewer,
    created: Option<(i64, String, String)>,
) -> Result<TokensPage, ConsoleError> {
    let tokens = state.service.tokens(&viewer.who, false, false).await.or_page(viewer, "/")?;
    let now = state.service.now();
    let rows = tokens
        .iter()
        .filter(|t| t.name != "console")
        .map(|t| TokenRow {
            id: t.id,
            name: t.name.clone(),
            state: match (t.revoked_at, t.expires_at, t.replaced_by) {
                (Some(_), _, _) => "revoked",
                (None, Some(at), _) if at <= now => "expired",
                (None, _, Some(_)) => "rotated",
                _ => "live",
            },
            scopes: t.scopes.encode().replace(',', ", "),
            expires: t.expires_at.map_or_else(|| "never".into(), when),
            last_used: t.last_used_at.map_or_else(|| "never".into(), when),
        })
        .collect();
    Ok(TokensPage {
        layout: viewer.layout("/tokens"),
        csrf: viewer.csrf.clone(),
        rows,
        created,
        scopes: viewer.who.scopes.iter().map(Scope::as_str).collect(),
    })
}

/// `GET /tokens`.
pub(crate) async fn tokens(State(state): State<AppState>, viewer: Viewer) -> Result<Response, ConsoleError> {
    Ok(render(&tokens_page(&state, &viewer, None).await?))
}

/// The create form: a name, days, and the `scope` checkboxes (a repeated field).
struct TokenForm {
    csrf: String,
    name: String,
    days: Option<u32>,
    scope: Vec<String>,
}

/// `POST /tokens`: create one of the viewer's own tokens; the answer shows its secret once.
pub(crate) async fn create_token(
    State(state): State<AppState>,
    viewer: Viewer,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    // `Form` keeps one value per field; the scopes are a repeated one.
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let form = TokenForm {
        csrf: field("csrf").unwrap_or_default(),
        name: field("name").unwrap_or_default(),
        days: field("days").and_then(|d| d.trim().parse().ok()),
        scope: pairs.iter().filter(|(k, _)| k == "scope").map(|(_, v)| v.clone()).collect(),
    };
    viewer.check(&form.csrf)?;
    let scopes = form.scope.iter().filter_map(|s| s.parse::<Scope>().ok()).collect();
    let request = TokenRequest { name: form.name, scopes, expires_in_days: form.days, service_account: false };
    let (secret, token) = state.service.create_token(&viewer.who, &request).await.or_page(&viewer, "/tokens")?;
    let page = tokens_page(&state, &viewer, Some((token.id, token.name.clone(), secret))).await?;
    Ok((StatusCode::CREATED, render(&page)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// `POST /tokens/{id}/revoke`.
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    state.service.revoke_token(&viewer.who, id).await.or_page(&viewer, "/tokens")?;
    Ok(axum::response::Redirect::to("/tokens").into_response())
}
