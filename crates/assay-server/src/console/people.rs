//! `/tokens`: the signed-in person's API tokens — list, create (the secret shown once, in the
//! answer to the form), revoke — and `/members`: their organisation's members, with invitations
//! and removal for owners and admins; the same service calls as `/v1/tokens` and
//! `/v1/organisations/…`.

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
            state: t.state(now),
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
struct MemberRow {
    email: String,
    name: String,
    role: &'static str,
    joined: String,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    layout: super::Layout,
    csrf: String,
    /// The organisation's name as paths say it: `staff` or the partner's.
    organisation: String,
    rows: Vec<MemberRow>,
    /// Whether the viewer may add, invite and remove.
    manage: bool,
    /// The roles a member of this organisation can have.
    roles: &'static [&'static str],
    /// An invitation just made: (address, link), shown once.
    invited: Option<(String, String)>,
}

/// The viewer's organisation as paths name it.
async fn own_organisation(state: &AppState, viewer: &Viewer) -> Result<String, ConsoleError> {
    if viewer.who.is_staff() {
        return Ok("staff".into());
    }
    let partners = state.service.partners(&viewer.who).await.or_page(viewer, "/")?;
    Ok(partners.into_iter().next().map(|p| p.name).unwrap_or_default())
}

async fn members_page(
    state: &AppState,
    viewer: &Viewer,
    invited: Option<(String, String)>,
) -> Result<MembersPage, ConsoleError> {
    let organisation = own_organisation(state, viewer).await?;
    let members = state.service.members(&viewer.who, &organisation).await.or_page(viewer, "/")?;
    let manage = assay_service::access::require_member_admin(&viewer.who, viewer.who.partner).is_ok();
    Ok(MembersPage {
        layout: viewer.layout("/members"),
        csrf: viewer.csrf.clone(),
        rows: members
            .iter()
            .map(|m| MemberRow {
                email: m.email.clone(),
                name: m.name.clone(),
                role: m.role.as_str(),
                joined: when(m.created_at),
            })
            .collect(),
        manage,
        roles: if viewer.who.is_staff() { &["reviewer", "admin"] } else { &["developer", "viewer", "owner"] },
        organisation,
        invited,
    })
}

/// `GET /members`: the viewer's organisation's members; owners and admins also add, invite and
/// remove.
pub(crate) async fn members(State(state): State<AppState>, viewer: Viewer) -> Result<Response, ConsoleError> {
    Ok(render(&members_page(&state, &viewer, None).await?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct InviteForm {
    #[serde(default)]
    csrf: String,
    email: String,
    role: String,
}

/// `POST /members/invitations`: invite an address; the answer shows the link once.
pub(crate) async fn invite(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<InviteForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let organisation = own_organisation(&state, &viewer).await?;
    let role = form
        .role
        .parse()
        .map_err(|e: String| assay_service::ServiceError::invalid("/role", e))
        .or_page(&viewer, "/members")?;
    let (secret, invitation) =
        state.service.invite(&viewer.who, &organisation, &form.email, role, 7).await.or_page(&viewer, "/members")?;
    let base = state.config.public_url.as_deref().unwrap_or("").trim_end_matches('/');
    let link = format!("{base}/invitations/{secret}");
    let page = members_page(&state, &viewer, Some((invitation.email, link))).await?;
    Ok((StatusCode::CREATED, render(&page)).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct MemberForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /members/{email}/remove`: the member leaves (a partner keeps its last owner).
pub(crate) async fn remove_member(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(email): Path<String>,
    Form(form): Form<MemberForm>,
) -> Result<Response, ConsoleError> {
    viewer.check(&form.csrf)?;
    let organisation = own_organisation(&state, &viewer).await?;
    state
        .service
        .change_member(&viewer.who, &organisation, &email, assay_service::MemberChange::Leave)
        .await
        .or_page(&viewer, "/members")?;
    Ok(axum::response::Redirect::to("/members").into_response())
}

struct PartnerRow {
    name: String,
    capabilities: String,
    suspended: bool,
}

struct HistoryRow {
    at: String,
    partner: String,
    actor: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct PartnersPage {
    layout: super::Layout,
    csrf: String,
    rows: Vec<PartnerRow>,
    /// Whether the viewer decides on capabilities (admins).
    decide: bool,
    /// Every partner's decisions, newest first.
    history: Vec<HistoryRow>,
}

async fn partners_page(state: &AppState, viewer: &Viewer) -> Result<PartnersPage, ConsoleError> {
    let partners = state.service.partners(&viewer.who).await.or_page(viewer, "/")?;
    let mut history = Vec::new();
    for p in &partners {
        let events = state.service.capability_history(&viewer.who, &p.name).await.or_page(viewer, "/")?;
        history.extend(
            events.into_iter().map(|e| {
                (e.at, HistoryRow { at: when(e.at), partner: p.name.clone(), actor: e.actor, detail: e.detail })
            }),
        );
    }
    history.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    Ok(PartnersPage {
        layout: viewer.layout("/partners"),
        csrf: viewer.csrf.clone(),
        rows: partners
            .iter()
            .map(|p| PartnerRow {
                name: p.name.clone(),
                capabilities: p.capabilities.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
                suspended: p.suspended_at.is_some(),
            })
            .collect(),
        decide: assay_service::access::require(&viewer.who, assay_service::access::Permission::DecideCapabilities)
            .is_ok(),
        history: history.into_iter().map(|(_, row)| row).take(50).collect(),
    })
}

/// `GET /partners`: partners, their capabilities and the decisions on them (staff).
pub(crate) async fn partners(State(state): State<AppState>, viewer: Viewer) -> Result<Response, ConsoleError> {
    Ok(render(&partners_page(&state, &viewer).await?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    partner: String,
    /// `grant:CAPABILITY`, `revoke:CAPABILITY`, `suspend` or `restore`.
    decision: String,
    #[serde(default)]
    rationale: String,
}

/// `POST /partners/decisions`: an admin's decision on a partner, with its rationale.
pub(crate) async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<DecisionForm>,
) -> Result<Response, ConsoleError> {
    use assay_service::{Capability, CapabilityRequest, ServiceError};
    viewer.check(&form.csrf)?;
    let capability = |name: &str| {
        name.parse::<Capability>().map_err(|e| ServiceError::invalid("/decision", e)).or_page(&viewer, "/partners")
    };
    let mut request = CapabilityRequest { rationale: form.rationale.clone(), ..CapabilityRequest::default() };
    match form.decision.split_once(':') {
        Some(("grant", name)) => request.grant.push(capability(name)?),
        Some(("revoke", name)) => request.revoke.push(capability(name)?),
        _ if form.decision == "suspend" => request.suspend = Some(true),
        _ if form.decision == "restore" => request.suspend = Some(false),
        _ => {
            let unknown = ServiceError::invalid("/decision", format!("`{}` is not a decision", form.decision));
            return Err(unknown).or_page(&viewer, "/partners");
        }
    }
    let outcome =
        state.service.decide_capabilities(&viewer.who, &form.partner, &request).await.or_page(&viewer, "/partners")?;
    let mut page = partners_page(&state, &viewer).await?;
    let removed = outcome.uncertified.iter().map(|(s, v)| format!("{s}@{v}")).collect::<Vec<_>>();
    let detail = if removed.is_empty() {
        String::new()
    } else {
        format!("Certified mark removed from {}; a change notice is published on each listing.", removed.join(", "))
    };
    page.layout.flash = Some(super::Flash {
        error: false,
        title: format!("Decision on {} recorded.", form.partner),
        detail,
        fields: Vec::new(),
    });
    Ok(render(&page))
}
