//! `/v1/me`, organisations' members, tokens and partners' capabilities. Handlers are glue:
//! [`assay_service::access`] decides every permission.

use assay_api::people::{
    AddMember, CapabilityDecided, CapabilityHistoryEntry, CapabilityName, ChangeMember, CreatePartner, CreateToken,
    DecideCapabilities, EmailKind, EmailPreferences, Invitation, Invite, IssuedToken, Me, Member, Partner,
    PartnerDetail, RoleName, RotateToken, ScopeName, SetEmailPreferences, Token,
};
use assay_api::problem::Problem;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;

use assay_service::{Capability, MemberChange, MemberRequest, Role, Scope, Scopes, ServiceError, TokenRequest};

use crate::AppState;
use crate::api::created;
use crate::auth::Caller;
use crate::dto::timestamp;
use crate::problem::{ApiError, ApiJson, ApiPath};

pub(crate) fn role_name(role: Role) -> RoleName {
    match role {
        Role::Admin => RoleName::Admin,
        Role::Reviewer => RoleName::Reviewer,
        Role::Owner => RoleName::Owner,
        Role::Developer => RoleName::Developer,
        Role::Viewer => RoleName::Viewer,
    }
}

fn role(name: RoleName) -> Role {
    match name {
        RoleName::Admin => Role::Admin,
        RoleName::Reviewer => Role::Reviewer,
        RoleName::Owner => Role::Owner,
        RoleName::Developer => Role::Developer,
        RoleName::Viewer => Role::Viewer,
    }
}

fn scope_names(scopes: Scopes) -> Vec<ScopeName> {
    scopes
        .iter()
        .map(|s| match s {
            Scope::Read => ScopeName::Read,
            Scope::Submit => ScopeName::Submit,
            Scope::Review => ScopeName::Review,
            Scope::Admin => ScopeName::Admin,
        })
        .collect()
}

fn scope(name: ScopeName) -> Scope {
    match name {
        ScopeName::Read => Scope::Read,
        ScopeName::Submit => Scope::Submit,
        ScopeName::Review => Scope::Review,
        ScopeName::Admin => Scope::Admin,
    }
}

fn capability(name: CapabilityName) -> Capability {
    match name {
        CapabilityName::List => Capability::List,
        CapabilityName::Certify => Capability::Certify,
        CapabilityName::Checks => Capability::Checks,
    }
}

fn capability_name(capability: Capability) -> CapabilityName {
    match capability {
        Capability::List => CapabilityName::List,
        Capability::Certify => CapabilityName::Certify,
        Capability::Checks => CapabilityName::Checks,
    }
}

/// The wire name of an organisation: a partner's name, or `staff`.
fn organisation(partner: Option<assay_core::identity::PartnerId>, name: &str) -> String {
    if partner.is_some() { name.to_owned() } else { "staff".to_owned() }
}

fn member(m: &assay_service::Member) -> Member {
    Member {
        email: m.email.clone(),
        name: m.name.clone(),
        organisation: organisation(m.partner, &m.organisation),
        role: role_name(m.role),
        joined: timestamp(m.created_at),
        left: m.left_at.map(timestamp),
    }
}

fn token(t: &assay_service::TokenInfo, now: i64) -> Token {
    Token {
        id: t.id,
        name: t.name.clone(),
        owner: t.user.as_ref().map(|(_, email)| email.clone()),
        organisation: organisation(t.partner, &t.organisation),
        role: role_name(t.role),
        scopes: scope_names(t.scopes),
        created: timestamp(t.created_at),
        expires: t.expires_at.map(timestamp),
        revoked: t.revoked_at.map(timestamp),
        last_used: t.last_used_at.map(timestamp),
        replaced_by: t.replaced_by,
        state: t.state(now).to_owned(),
    }
}

fn partner(p: &assay_service::Partner) -> Partner {
    Partner {
        name: p.name.clone(),
        capabilities: p.capabilities.iter().copied().map(capability_name).collect(),
        suspended: p.suspended_at.map(timestamp),
        created: timestamp(p.created_at),
    }
}

/// Who the token acts as: the person (or service account), their organisation and role, the
/// token's scopes.
#[utoipa::path(
    get, path = "/v1/me", tag = "people",
    responses((status = 200, description = "The caller", body = Me)),
    security(("token" = []))
)]
pub async fn me(State(state): State<AppState>, Caller(who): Caller) -> Result<Json<Me>, ApiError> {
    let person = state.service.whoami(&who).await?;
    let current = &state.service.current_token(&who).await?;
    let now = state.service.now();
    Ok(Json(Me {
        actor: who.actor.clone(),
        role: role_name(who.role),
        organisation: organisation(who.partner, &current.organisation),
        scopes: scope_names(who.scopes),
        member: person.as_ref().map(member),
        token: token(current, now),
    }))
}

fn email_preferences_of(p: assay_service::EmailPreferences) -> EmailPreferences {
    let kinds = p
        .kinds
        .into_iter()
        .map(|k| EmailKind { kind: k.kind.to_owned(), about: k.about.to_owned(), receive: k.receive })
        .collect();
    EmailPreferences { address: p.address, kinds }
}

/// Which e-mails the caller receives (people only: a service account receives none).
#[utoipa::path(
    get, path = "/v1/me/email-preferences", tag = "people",
    responses(
        (status = 200, description = "The caller's e-mail preferences", body = EmailPreferences),
        (status = 403, description = "A service account's token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn email_preferences(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<Json<EmailPreferences>, ApiError> {
    Ok(Json(email_preferences_of(state.service.email_preferences(&who).await?)))
}

/// Turn kinds of e-mail off (and every other kind on). Each e-mail's unsubscribe link turns its
/// own kind off without signing in.
#[utoipa::path(
    put, path = "/v1/me/email-preferences", tag = "people",
    request_body = SetEmailPreferences,
    responses(
        (status = 200, description = "The caller's e-mail preferences now", body = EmailPreferences),
        (status = 403, description = "A service account's token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown kind", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn set_email_preferences(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<SetEmailPreferences>,
) -> Result<Json<EmailPreferences>, ApiError> {
    Ok(Json(email_preferences_of(state.service.set_email_preferences(&who, &body.opted_out).await?)))
}

/// An organisation's current members: `staff` (staff only) or a partner's name (its own
/// members, or staff).
#[utoipa::path(
    get, path = "/v1/organisations/{organisation}/members", tag = "people",
    params(("organisation" = String, Path, description = "A partner's name, or `staff`")),
    responses(
        (status = 200, description = "Members by e-mail address", body = [Member]),
        (status = 404, description = "No such organisation the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_members(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(org): ApiPath<String>,
) -> Result<Json<Vec<Member>>, ApiError> {
    Ok(Json(state.service.members(&who, &org).await?.iter().map(member).collect()))
}

/// Add a person to an organisation: an owner to their own partner, an admin to any. Someone who
/// left an organisation can be added again.
#[utoipa::path(
    post, path = "/v1/organisations/{organisation}/members", tag = "people",
    params(("organisation" = String, Path, description = "A partner's name, or `staff`")),
    request_body = AddMember,
    responses(
        (status = 201, description = "Added", body = Member),
        (status = 403, description = "Not an owner of this organisation or an admin, or the token lacks `admin`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member of an organisation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn add_member(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(org): ApiPath<String>,
    ApiJson(body): ApiJson<AddMember>,
) -> Result<Response, ApiError> {
    let request = MemberRequest { email: body.email, name: body.name, role: role(body.role) };
    let added = state.service.add_member(&who, &org, &request).await?;
    let location = format!("/v1/organisations/{org}/members/{}", added.email);
    Ok(created(&location, StatusCode::CREATED, member(&added)))
}

/// Change a member's role. A partner keeps at least one owner (`last_owner`).
#[utoipa::path(
    patch, path = "/v1/organisations/{organisation}/members/{email}", tag = "people",
    params(
        ("organisation" = String, Path, description = "A partner's name, or `staff`"),
        ("email" = String, Path, description = "The member's e-mail address"),
    ),
    request_body = ChangeMember,
    responses(
        (status = 200, description = "The member now", body = Member),
        (status = 403, description = "Not an owner of this organisation or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member the caller may manage", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would leave the partner without an owner (`last_owner`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn change_member(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((org, email)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ChangeMember>,
) -> Result<Json<Member>, ApiError> {
    let changed = state.service.change_member(&who, &org, &email, MemberChange::Role(role(body.role))).await?;
    Ok(Json(member(&changed)))
}

/// Remove a member: their tokens stop working (`owner_left`) and their sessions end. A partner
/// keeps at least one owner (`last_owner`).
#[utoipa::path(
    delete, path = "/v1/organisations/{organisation}/members/{email}", tag = "people",
    params(
        ("organisation" = String, Path, description = "A partner's name, or `staff`"),
        ("email" = String, Path, description = "The member's e-mail address"),
    ),
    responses(
        (status = 200, description = "The member, who has left", body = Member),
        (status = 403, description = "Not an owner of this organisation or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member the caller may manage", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would leave the partner without an owner (`last_owner`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn remove_member(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((org, email)): ApiPath<(String, String)>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(member(&state.service.change_member(&who, &org, &email, MemberChange::Leave).await?)))
}

/// Issue a token for a member (owners: of their partner; admins: of any organisation): a new
/// member's first credential where there is no identity provider. The secret is in the answer
/// once, for the caller to hand over; its scopes are at most the member's role allows.
#[utoipa::path(
    post, path = "/v1/organisations/{organisation}/members/{email}/tokens", tag = "people",
    params(
        ("organisation" = String, Path, description = "A partner's name, or `staff`"),
        ("email" = String, Path, description = "The member's e-mail address"),
    ),
    request_body = CreateToken,
    responses(
        (status = 201, description = "Issued", body = IssuedToken),
        (status = 404, description = "No such member the caller may manage", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn issue_member_token(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath((org, email)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<CreateToken>,
) -> Result<Response, ApiError> {
    let (secret, issued) = state.service.issue_member_token(&who, &org, &email, &token_request(body)).await?;
    let location = format!("/v1/tokens/{}", issued.id);
    Ok(created(&location, StatusCode::CREATED, IssuedToken { secret, token: token(&issued, state.service.now()) }))
}

fn token_request(body: CreateToken) -> TokenRequest {
    TokenRequest {
        name: body.name,
        scopes: body.scopes.into_iter().map(scope).collect(),
        expires_in_days: body.expires_in_days,
        service_account: body.service_account,
    }
}

fn invitation(i: &assay_service::Invitation, now: i64, url: Option<String>) -> Invitation {
    let state = match (i.accepted_at, i.expires_at <= now) {
        (Some(_), _) => "accepted",
        (None, true) => "expired",
        (None, false) => "pending",
    };
    Invitation {
        id: i.id,
        email: i.email.clone(),
        organisation: organisation(i.partner, &i.organisation),
        role: role_name(i.role),
        invited_by: i.invited_by.clone(),
        created: timestamp(i.created_at),
        expires: timestamp(i.expires_at),
        state: state.to_owned(),
        url,
    }
}

/// Invite an e-mail address into an organisation (owners: their partner; admins: any). The
/// answer's `url` is the invitation link, shown once: the invitee opens it and signs in through
/// the identity provider with that address to join. It works once and for `expires_in_days`.
#[utoipa::path(
    post, path = "/v1/organisations/{organisation}/invitations", tag = "people",
    params(("organisation" = String, Path, description = "A partner's name, or `staff`")),
    request_body = Invite,
    responses(
        (status = 201, description = "Invited", body = Invitation),
        (status = 404, description = "No such organisation the caller may manage", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The address is a member already", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn invite(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(org): ApiPath<String>,
    ApiJson(body): ApiJson<Invite>,
) -> Result<Response, ApiError> {
    let days = body.expires_in_days.unwrap_or(7);
    let (secret, invited) = state.service.invite(&who, &org, &body.email, role(body.role), days).await?;
    let base = state.config.public_url.as_deref().unwrap_or("").trim_end_matches('/');
    let url = format!("{base}/invitations/{secret}");
    let location = format!("/v1/organisations/{org}/invitations");
    Ok(created(&location, StatusCode::CREATED, invitation(&invited, state.service.now(), Some(url))))
}

/// An organisation's invitations, newest first (those who may manage its members).
#[utoipa::path(
    get, path = "/v1/organisations/{organisation}/invitations", tag = "people",
    params(("organisation" = String, Path, description = "A partner's name, or `staff`")),
    responses(
        (status = 200, description = "Invitations, newest first", body = [Invitation]),
        (status = 404, description = "No such organisation the caller may manage", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_invitations(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(org): ApiPath<String>,
) -> Result<Json<Vec<Invitation>>, ApiError> {
    let now = state.service.now();
    Ok(Json(state.service.invitations(&who, &org).await?.iter().map(|i| invitation(i, now, None)).collect()))
}

/// Which tokens `GET /v1/tokens` lists.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TokenListing {
    /// `mine` (default), `organisation` (owners and admins: the organisation's, service
    /// accounts included) or `all` (admins).
    #[serde(default)]
    #[param(inline)]
    pub of: Option<TokensOf>,
}

/// Whose tokens.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokensOf {
    /// The caller's own.
    Mine,
    /// The caller's organisation's.
    Organisation,
    /// Every organisation's.
    All,
}

/// Tokens, newest first: the caller's own, their organisation's, or every one.
#[utoipa::path(
    get, path = "/v1/tokens", tag = "people",
    params(TokenListing),
    responses(
        (status = 200, description = "Tokens, newest first (never their secrets)", body = [Token]),
        (status = 400, description = "`of` is not mine, organisation or all", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`organisation` or `all` without the role for it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    Caller(who): Caller,
    query: Result<Query<TokenListing>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Token>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let of = query.of.unwrap_or(TokensOf::Mine);
    let tokens = state.service.tokens(&who, matches!(of, TokensOf::Organisation), matches!(of, TokensOf::All)).await?;
    let now = state.service.now();
    Ok(Json(tokens.iter().map(|t| token(t, now)).collect()))
}

/// Issue a token: the caller's own (scopes at most the caller's), or with `service_account` a
/// service account of the caller's organisation (owners and admins). The secret is in the
/// answer once; only its hash is kept.
#[utoipa::path(
    post, path = "/v1/tokens", tag = "people",
    request_body = CreateToken,
    responses(
        (status = 201, description = "Issued", body = IssuedToken),
        (status = 403, description = "A service account without the role for it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn create_token(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreateToken>,
) -> Result<Response, ApiError> {
    let (secret, issued) = state.service.create_token(&who, &token_request(body)).await?;
    let now = state.service.now();
    let location = format!("/v1/tokens/{}", issued.id);
    Ok(created(&location, StatusCode::CREATED, IssuedToken { secret, token: token(&issued, now) }))
}

/// Revoke a token now (its console sessions end): the caller's own, their organisation's
/// (owners), any (admins).
#[utoipa::path(
    delete, path = "/v1/tokens/{id}", tag = "people",
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The token, revoked", body = Token),
        (status = 404, description = "No such token the caller may manage", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Token>, ApiError> {
    let revoked = state.service.revoke_token(&who, id).await?;
    Ok(Json(token(&revoked, state.service.now())))
}

/// Rotate a token: a new secret now with the same name, owner and scopes; the old secret keeps
/// working for `grace_hours` (default 24) and then fails with `token_expired`.
#[utoipa::path(
    post, path = "/v1/tokens/{id}/rotate", tag = "people",
    params(("id" = i64, Path, description = "The token's id")),
    request_body = RotateToken,
    responses(
        (status = 201, description = "The new token and its secret", body = IssuedToken),
        (status = 404, description = "No such token the caller may manage", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn rotate_token(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RotateToken>,
) -> Result<Response, ApiError> {
    let grace = i64::from(body.grace_hours.unwrap_or(24)) * 3600;
    let (secret, issued) = state.service.rotate_token(&who, id, grace).await?;
    let location = format!("/v1/tokens/{}", issued.id);
    Ok(created(&location, StatusCode::CREATED, IssuedToken { secret, token: token(&issued, state.service.now()) }))
}

/// Partner organisations: every one (staff), or the caller's own.
#[utoipa::path(
    get, path = "/v1/partners", tag = "people",
    responses((status = 200, description = "Partners by name", body = [Partner])),
    security(("token" = []))
)]
pub async fn list_partners(State(state): State<AppState>, Caller(who): Caller) -> Result<Json<Vec<Partner>>, ApiError> {
    Ok(Json(state.service.partners(&who).await?.iter().map(partner).collect()))
}

/// Create a partner organisation with its first owner (admins).
#[utoipa::path(
    post, path = "/v1/partners", tag = "people",
    request_body = CreatePartner,
    responses(
        (status = 201, description = "Created", body = PartnerDetail),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken, or the owner is a member elsewhere", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn create_partner(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<CreatePartner>,
) -> Result<Response, ApiError> {
    let capabilities: Vec<Capability> = body.capabilities.into_iter().map(capability).collect();
    let owner = MemberRequest { email: body.owner.email, name: body.owner.name, role: Role::Owner };
    let (created_partner, owner) = state.service.create_partner(&who, &body.name, &capabilities, &owner).await?;
    let history = state.service.capability_history(&who, &created_partner.name).await?;
    let detail = PartnerDetail {
        partner: partner(&created_partner),
        members: vec![member(&owner)],
        history: history.iter().map(history_entry).collect(),
    };
    Ok(created(&format!("/v1/partners/{}", created_partner.name), StatusCode::CREATED, detail))
}

fn history_entry(e: &assay_service::CapabilityEvent) -> CapabilityHistoryEntry {
    CapabilityHistoryEntry { at: timestamp(e.at), actor: e.actor.clone(), detail: e.detail.clone() }
}

/// A partner, its members and its capability history (staff, or its own members).
#[utoipa::path(
    get, path = "/v1/partners/{name}", tag = "people",
    params(("name" = String, Path, description = "The partner")),
    responses(
        (status = 200, description = "The partner", body = PartnerDetail),
        (status = 404, description = "No such partner the caller may see", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn get_partner(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<PartnerDetail>, ApiError> {
    let members = state.service.members(&who, &name).await?;
    let history = state.service.capability_history(&who, &name).await?;
    let found = state
        .service
        .partners(&who)
        .await?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| ServiceError::NotFound(format!("partner `{name}`")))?;
    Ok(Json(PartnerDetail {
        partner: partner(&found),
        members: members.iter().map(member).collect(),
        history: history.iter().map(history_entry).collect(),
    }))
}

/// Grant or revoke a partner's capabilities, or suspend or restore it (admins), with a
/// rationale. Revoking `certify` removes the certified mark from the partner's versions and
/// publishes a change notice on each listing that lost one; revoking `list` or suspending holds
/// new submissions (`capability_required`, `partner_suspended`).
#[utoipa::path(
    post, path = "/v1/partners/{name}/capabilities", tag = "people",
    params(("name" = String, Path, description = "The partner")),
    request_body = DecideCapabilities,
    responses(
        (status = 200, description = "What the decision did", body = CapabilityDecided),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No rationale (`note_required`), or nothing to change", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn decide_capabilities(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<DecideCapabilities>,
) -> Result<Json<CapabilityDecided>, ApiError> {
    let request = assay_service::CapabilityRequest {
        grant: body.grant.into_iter().map(capability).collect(),
        revoke: body.revoke.into_iter().map(capability).collect(),
        suspend: body.suspend,
        rationale: body.rationale,
    };
    let outcome = state.service.decide_capabilities(&who, &name, &request).await?;
    Ok(Json(CapabilityDecided {
        partner: partner(&outcome.partner),
        uncertified: outcome.uncertified.iter().map(|(slug, version)| format!("{slug}@{version}")).collect(),
    }))
}
