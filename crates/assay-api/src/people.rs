//! People, organisations and credentials: the caller, members, tokens and partners'
//! capabilities.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A role in an organisation. Staff are `admin` or `reviewer`; a partner's members are
/// `owner`, `developer` or `viewer`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    /// Staff: organisations, members, capabilities, rule packs, platform notices.
    Admin,
    /// Staff: decisions and waivers.
    Reviewer,
    /// A partner's members, tokens and webhooks, and everything a developer does.
    Owner,
    /// A partner's listings, submissions and checks.
    Developer,
    /// Reads.
    Viewer,
}

/// What a token may be used for (`read` is always included).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ScopeName {
    /// Read what the organisation may see.
    Read,
    /// Create listings, submit versions, update checks, publish a listing's notices.
    Submit,
    /// Decide on versions and waive findings.
    Review,
    /// Members, tokens, webhooks, capabilities, packs, platform notices.
    Admin,
}

/// A partner's capability.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CapabilityName {
    /// Publish listings.
    List,
    /// Hold certification.
    Certify,
    /// Ship integration checks.
    Checks,
}

/// A member of an organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Member {
    /// Their e-mail address (lower-case).
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their organisation: a partner's name, or `staff`.
    pub organisation: String,
    /// Their role in it.
    pub role: RoleName,
    /// When they joined (RFC 3339).
    pub joined: String,
    /// When they left (RFC 3339), if they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<String>,
}

/// `GET /v1/me`: who the token acts as.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// How the audit log names the caller, e.g. `Ada Lovelace <ada@acme.test> (acme)`.
    pub actor: String,
    /// The role the token acts with.
    pub role: RoleName,
    /// The organisation: a partner's name, or `staff`.
    pub organisation: String,
    /// The token's scopes (what its owner's role allows of them).
    pub scopes: Vec<ScopeName>,
    /// The person; absent for a service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Member>,
    /// The token the request was made with.
    pub token: Token,
}

/// `POST /v1/organisations/{organisation}/members`: add a person.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    /// Their e-mail address.
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// Their name.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Their role: `admin` or `reviewer` in `staff`, `owner`, `developer` or `viewer` in a partner.
    pub role: RoleName,
}

/// `PATCH /v1/organisations/{organisation}/members/{email}`: a new role.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeMember {
    /// The new role.
    pub role: RoleName,
}

/// A token (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Token {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The e-mail address of the person it belongs to; absent for a service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Its organisation: a partner's name, or `staff`.
    pub organisation: String,
    /// The role it acts with.
    pub role: RoleName,
    /// Its scopes.
    pub scopes: Vec<ScopeName>,
    /// When it was created (RFC 3339).
    pub created: String,
    /// When it expires (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// When it was revoked (RFC 3339), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<String>,
    /// When it was last used, to the minute (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    /// The token a rotation issued in its place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<i64>,
    /// `live`, `expired`, `revoked` or `rotated` (replaced, in its grace period).
    pub state: String,
}

/// `POST /v1/tokens`: issue a token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What it is for, e.g. `ci`.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Its scopes (`read` is always included); omitted: every scope the owner's role allows.
    #[serde(default)]
    pub scopes: Vec<ScopeName>,
    /// Days until it expires (default 90, at most the server's maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
    /// A service account of the caller's organisation instead of the caller's own token
    /// (owners and admins).
    #[serde(default)]
    pub service_account: bool,
}

/// `POST /v1/tokens/{id}/rotate`: a new secret now, the old one ends after a grace period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateToken {
    /// Hours the old secret keeps working (default 24; 0 ends it now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 720)]
    pub grace_hours: Option<u32>,
}

/// A token just issued, with its secret: shown once, only its hash is kept.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedToken {
    /// The secret, `assay_` + 40 base62 characters + a 6-character base62 CRC-32.
    pub secret: String,
    /// The token.
    pub token: Token,
}

/// A partner organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Partner {
    /// Its name.
    pub name: String,
    /// What the platform lets it do.
    pub capabilities: Vec<CapabilityName>,
    /// When it was suspended (RFC 3339), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended: Option<String>,
    /// When it was created (RFC 3339).
    pub created: String,
}

/// A decision in a partner's capability history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CapabilityHistoryEntry {
    /// When (RFC 3339).
    pub at: String,
    /// Who decided.
    pub actor: String,
    /// What changed, and why.
    pub detail: String,
}

/// `GET /v1/partners/{name}`: a partner, its members and its capability history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartnerDetail {
    /// The partner.
    pub partner: Partner,
    /// Its current members.
    pub members: Vec<Member>,
    /// Its capability decisions, oldest first.
    pub history: Vec<CapabilityHistoryEntry>,
}

/// `POST /v1/partners`: a partner organisation and its first owner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePartner {
    /// Its name: lower-case letters, digits and dashes.
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9-]+$")]
    pub name: String,
    /// Its capabilities.
    #[serde(default)]
    pub capabilities: Vec<CapabilityName>,
    /// Its first owner.
    pub owner: NewOwner,
}

/// A partner's first owner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    /// Their e-mail address.
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// Their name.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// `POST /v1/partners/{name}/capabilities`: a staff decision, with its rationale.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideCapabilities {
    /// Capabilities to grant.
    #[serde(default)]
    pub grant: Vec<CapabilityName>,
    /// Capabilities to revoke (revoking `certify` removes the certified mark from the
    /// partner's versions, with a change notice on each listing).
    #[serde(default)]
    pub revoke: Vec<CapabilityName>,
    /// `true` suspends (nothing can be created or submitted), `false` restores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Why: recorded with the decision and shown in the partner's history.
    #[schema(min_length = 1, pattern = "\\S")]
    pub rationale: String,
}

/// What a capability decision did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CapabilityDecided {
    /// The partner now.
    pub partner: Partner,
    /// The versions whose certified mark was removed, as `slug@version`.
    pub uncertified: Vec<String>,
}

/// `POST /v1/organisations/{organisation}/invitations`: invite an e-mail address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// The address to invite; the invitee signs in with it.
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// The role they get.
    pub role: RoleName,
    /// Days the invitation works (default 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 30)]
    pub expires_in_days: Option<u32>,
}

/// An invitation into an organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invitation {
    /// Its id.
    pub id: i64,
    /// The address invited.
    pub email: String,
    /// The organisation: a partner's name, or `staff`.
    pub organisation: String,
    /// The role the invitee gets.
    pub role: RoleName,
    /// Who invited them.
    pub invited_by: String,
    /// When (RFC 3339).
    pub created: String,
    /// Until when it works (RFC 3339).
    pub expires: String,
    /// `pending`, `accepted` or `expired`.
    pub state: String,
    /// The link to hand to the invitee (only in the answer that creates it: the secret in it is
    /// kept as a hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One kind of e-mail and whether the caller receives it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct EmailKind {
    /// The kind: `verdict`, `decision`, `certification`, `capability`, `notice`,
    /// `deprecation`, `webhook`, `exception` or `review_queue`.
    pub kind: String,
    /// What it is about.
    pub about: String,
    /// Whether the caller receives it.
    pub receive: bool,
}

/// `GET /v1/me/email-preferences`: which e-mails the caller receives.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct EmailPreferences {
    /// Where the caller's e-mail goes.
    pub address: String,
    /// Every kind of e-mail (invitations are not one: they go to addresses, not people).
    pub kinds: Vec<EmailKind>,
}

/// `PUT /v1/me/email-preferences`: the kinds the caller does not want; every other kind is
/// received.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetEmailPreferences {
    /// Kinds to turn off (empty: receive every kind).
    pub opted_out: Vec<String>,
}
