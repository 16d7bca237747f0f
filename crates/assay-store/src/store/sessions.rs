//! Console sessions: a browser signs in with an API token and holds a session secret instead.
//!
//! Only the secret's SHA-256 is stored (like tokens), a session names the token it was opened
//! with, so it acts as exactly that principal, and it ends at sign-out or at its expiry.

use super::people::{TokenRow, token_columns, token_joins};
use super::{Store, StoreError};
use crate::model::Principal;
use crate::token;

impl Store {
    /// Open a session for the holder of API token `secret`, lasting `ttl_secs` from `now`.
    /// Returns the session secret (for the cookie; shown once) and the principal, or `None`
    /// when the token is not one this store issued. Sessions past their expiry are swept here.
    pub async fn create_session(
        &self,
        secret: &str,
        now: i64,
        ttl_secs: i64,
    ) -> Result<Option<(String, Principal)>, StoreError> {
        if !token::well_formed(secret) {
            return Ok(None);
        }
        let session = token::generate();
        let mut tx = self.queue_tx().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&mut *tx).await?;
        let opened = sqlx::query(
            "INSERT INTO sessions (hash, token_id, created_at, expires_at) SELECT $1, id, $2, $3 FROM tokens \
             WHERE hash = $4 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) \
             AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = tokens.user_id AND u.left_at IS NOT NULL)",
        )
        .bind(token::hash(&session))
        .bind(now)
        .bind(now.saturating_add(ttl_secs))
        .bind(token::hash(secret))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if opened == 0 {
            return Ok(None);
        }
        Ok(self.session(&session, now).await?.map(|principal| (session, principal)))
    }

    /// The principal of a live session, or `None` for an unknown, ended or expired one.
    pub async fn session(&self, secret: &str, now: i64) -> Result<Option<Principal>, StoreError> {
        if !secret.starts_with(token::PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query_as::<_, TokenRow>(concat!(
            "SELECT ",
            token_columns!(),
            token_joins!(),
            "JOIN sessions s ON s.token_id = t.id WHERE s.hash = $1 AND s.expires_at > $2 \
             AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.left_at IS NULL"
        ))
        .bind(token::hash(secret))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(TokenRow::principal).transpose()
    }

    /// End a session; whether there was one.
    pub async fn end_session(&self, secret: &str) -> Result<bool, StoreError> {
        let _turn = self.single_write_turn().await;
        let ended = sqlx::query("DELETE FROM sessions WHERE hash = $1")
            .bind(token::hash(secret))
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(ended > 0)
    }
}
