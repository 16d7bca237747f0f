//! Signing in through an OpenID provider: sign-ins in progress (single use, bound to a browser,
//! ten minutes) and invitations (single use, expiring). Secrets are stored as SHA-256 only.

use assay_core::identity::{PartnerId, Role, STAFF};
pub use assay_core::people::InvitationRecord;

use super::{Id, Store, StoreError, append, now};
use crate::token;

/// A sign-in in progress, as the callback needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// The SHA-256 of the browser's secret that started it.
    pub browser_hash: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub pkce_verifier: String,
    /// Where to go after signing in.
    pub next: String,
    /// The SHA-256 of the invitation being accepted, if any.
    pub invitation_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    browser_hash: String,
    nonce: String,
    pkce_verifier: String,
    next: String,
    invitation_hash: Option<String>,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    id: i64,
    email: String,
    partner_id: Option<i64>,
    partner_name: Option<String>,
    role: String,
    invited_by: String,
    created_at: i64,
    expires_at: i64,
    accepted_at: Option<i64>,
}

impl InvitationRow {
    fn record(self) -> Result<InvitationRecord, StoreError> {
        Ok(InvitationRecord {
            id: self.id,
            email: self.email,
            partner: self.partner_id.map(PartnerId),
            organisation: self.partner_name.unwrap_or_else(|| STAFF.to_owned()),
            role: self.role.parse().map_err(StoreError::Corrupt)?,
            invited_by: self.invited_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
            accepted_at: self.accepted_at,
        })
    }
}

/// `SELECT` every [`InvitationRow`] column, then `$rest`.
macro_rules! select_invitations {
    ($rest:literal) => {
        concat!(
            "SELECT i.id, i.email, i.partner_id, p.name AS partner_name, i.role, i.invited_by, i.created_at, \
             i.expires_at, i.accepted_at FROM invitations i LEFT JOIN partners p ON p.id = i.partner_id ",
            $rest
        )
    };
}

/// Why an invitation could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitationRefused {
    /// No invitation has that secret.
    Unknown,
    /// It was accepted already.
    Used,
    /// It expired.
    Expired,
    /// The signed-in address is not the one invited.
    OtherAddress(String),
    /// The address is a member of an organisation already.
    AlreadyMember(String),
}

impl Store {
    /// Keep a sign-in in progress under the SHA-256 of its `state`; sign-ins past their expiry
    /// are swept here.
    pub async fn begin_login(&self, state: &str, login: &PendingLogin, expires_at: i64) -> Result<(), StoreError> {
        let mut tx = self.queue_tx().await?;
        sqlx::query("DELETE FROM oidc_logins WHERE expires_at <= $1").bind(now()).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO oidc_logins (state_hash, browser_hash, nonce, pkce_verifier, next, invitation_hash, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token::hash(state))
        .bind(&login.browser_hash)
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(&login.next)
        .bind(&login.invitation_hash)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Take the sign-in `state` names: it is deleted whatever happens next, so a callback can be
    /// used once. `None` if there is none, or it expired.
    pub async fn take_login(&self, state: &str, now: i64) -> Result<Option<PendingLogin>, StoreError> {
        let mut tx = self.queue_tx().await?;
        let row = sqlx::query_as::<_, LoginRow>(
            "DELETE FROM oidc_logins WHERE state_hash = $1 \
             RETURNING browser_hash, nonce, pkce_verifier, next, invitation_hash, expires_at",
        )
        .bind(token::hash(state))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.filter(|r| r.expires_at > now).map(|r| PendingLogin {
            browser_hash: r.browser_hash,
            nonce: r.nonce,
            pkce_verifier: r.pkce_verifier,
            next: r.next,
            invitation_hash: r.invitation_hash,
        }))
    }

    /// Invite `email` into an organisation with `role`; returns the invitation's secret (shown
    /// once) and its record.
    pub async fn create_invitation(
        &self,
        actor: &str,
        email: &str,
        partner: Option<PartnerId>,
        role: Role,
        ttl_secs: i64,
    ) -> Result<(String, InvitationRecord), StoreError> {
        if role.is_staff() != partner.is_none() {
            return Err(StoreError::Corrupt(format!("role {role} does not fit the organisation")));
        }
        let email = email.trim().to_lowercase();
        let secret = token::generate();
        let at = now();
        let mut tx = self.write().await?;
        let Id { id } = sqlx::query_as::<_, Id>(
            "INSERT INTO invitations (hash, email, partner_id, role, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(token::hash(&secret))
        .bind(&email)
        .bind(partner.map(|p| p.0))
        .bind(role.as_str())
        .bind(actor)
        .bind(at)
        .bind(at.saturating_add(ttl_secs))
        .fetch_one(&mut *tx)
        .await?;
        let record = sqlx::query_as::<_, InvitationRow>(select_invitations!("WHERE i.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .record()?;
        let detail = format!("organisation={:?} role={} expires_at={}", record.organisation, role, record.expires_at);
        append(&mut tx, actor, "member.invite", &format!("user:{email}"), &detail).await?;
        tx.commit().await?;
        Ok((secret, record))
    }

    /// The invitation a secret names (used, expired or not).
    pub async fn invitation(&self, secret: &str) -> Result<Option<InvitationRecord>, StoreError> {
        let row = sqlx::query_as::<_, InvitationRow>(select_invitations!("WHERE i.hash = $1"))
            .bind(token::hash(secret))
            .fetch_optional(&self.pool)
            .await?;
        row.map(InvitationRow::record).transpose()
    }

    /// An organisation's invitations, newest first (`None`: staff).
    pub async fn invitations(&self, partner: Option<PartnerId>) -> Result<Vec<InvitationRecord>, StoreError> {
        let rows = match partner {
            Some(p) => {
                sqlx::query_as::<_, InvitationRow>(select_invitations!("WHERE i.partner_id = $1 ORDER BY i.id DESC"))
                    .bind(p.0)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_as::<_, InvitationRow>(select_invitations!("WHERE i.partner_id IS NULL ORDER BY i.id DESC"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter().map(InvitationRow::record).collect()
    }

    /// Accept the invitation whose SHA-256 is `hash` for the person signed in as `email`
    /// (named `name`): they join its organisation with its role, once. Of two concurrent
    /// acceptances exactly one succeeds.
    pub async fn accept_invitation(
        &self,
        hash: &str,
        email: &str,
        name: &str,
        at: i64,
    ) -> Result<Result<super::UserRecord, InvitationRefused>, StoreError> {
        let email = email.trim().to_lowercase();
        let mut tx = self.write().await?;
        let Some(invitation) = sqlx::query_as::<_, InvitationRow>(select_invitations!("WHERE i.hash = $1"))
            .bind(hash)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Err(InvitationRefused::Unknown));
        };
        let invitation = invitation.record()?;
        if invitation.accepted_at.is_some() {
            return Ok(Err(InvitationRefused::Used));
        }
        if invitation.expires_at <= at {
            return Ok(Err(InvitationRefused::Expired));
        }
        if invitation.email != email {
            return Ok(Err(InvitationRefused::OtherAddress(invitation.email)));
        }
        let taken = sqlx::query("UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL")
            .bind(at)
            .bind(invitation.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if taken == 0 {
            return Ok(Err(InvitationRefused::Used));
        }
        let new = super::NewUser { email: &email, name, partner: invitation.partner, role: invitation.role };
        let user = match super::people::insert_user(&mut tx, &invitation.invited_by, &new).await {
            Ok(user) => user,
            Err(StoreError::Exists(_)) => return Ok(Err(InvitationRefused::AlreadyMember(email))),
            Err(e) => return Err(e),
        };
        append(&mut tx, &invitation.invited_by, "member.join", &format!("user:{email}"), "accepted an invitation")
            .await?;
        tx.commit().await?;
        Ok(Ok(user))
    }
}
