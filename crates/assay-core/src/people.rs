//! People and organisations as the rest of assay sees them: members, partner organisations
//! and tokens (never their secrets).

use crate::identity::{Capability, PartnerId, Role, Scopes, UserId};

/// A person and their place in an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Their id.
    pub id: UserId,
    /// Their e-mail address, lower-case.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their partner organisation; `None` for staff.
    pub partner: Option<PartnerId>,
    /// That organisation's name ([`STAFF`](crate::identity::STAFF) for staff).
    pub organisation: String,
    /// Their role in it.
    pub role: Role,
    /// When they joined (Unix seconds).
    pub created_at: i64,
    /// When they left, if they did.
    pub left_at: Option<i64>,
}

/// A change to a membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// A new role in the same organisation.
    Role(Role),
    /// The person leaves: their tokens and sessions stop working.
    Leave,
}

/// A partner organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRecord {
    /// Its id.
    pub id: PartnerId,
    /// Its unique name.
    pub name: String,
    /// What the platform lets it do.
    pub capabilities: Vec<Capability>,
    /// When it was suspended, if it is.
    pub suspended_at: Option<i64>,
    /// When it was created.
    pub created_at: i64,
}

/// A token as its owner and administrators see it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The person it belongs to, as (id, e-mail), or `None` for a service account.
    pub user: Option<(UserId, String)>,
    /// Its organisation's partner; `None` for staff.
    pub partner: Option<PartnerId>,
    /// That organisation's name.
    pub organisation: String,
    /// The role it acts with now.
    pub role: Role,
    /// Its scopes.
    pub scopes: Scopes,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Expires (Unix seconds).
    pub expires_at: Option<i64>,
    /// Revoked, if it was.
    pub revoked_at: Option<i64>,
    /// Last used (to the minute), if ever.
    pub last_used_at: Option<i64>,
    /// The token a rotation issued in its place.
    pub replaced_by: Option<i64>,
}

/// An invitation into an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    /// Its id.
    pub id: i64,
    /// The address invited (lower-case).
    pub email: String,
    /// The partner; `None` for staff.
    pub partner: Option<PartnerId>,
    /// That organisation's name.
    pub organisation: String,
    /// The role the invitee gets.
    pub role: Role,
    /// Who invited them.
    pub invited_by: String,
    /// When (Unix seconds).
    pub created_at: i64,
    /// Until when it works.
    pub expires_at: i64,
    /// When it was accepted, if it was.
    pub accepted_at: Option<i64>,
}

impl TokenRecord {
    /// Where the token is in its lifecycle at `now`: `revoked`, `expired`, `rotated` (replaced,
    /// in its grace period) or `live`.
    pub fn state(&self, now: i64) -> &'static str {
        match (self.revoked_at, self.expires_at, self.replaced_by) {
            (Some(_), _, _) => "revoked",
            (None, Some(at), _) if at <= now => "expired",
            (None, _, Some(_)) => "rotated",
            _ => "live",
        }
    }
}
