//! E-mail to people: the durable outbox, every attempt, opt-outs by kind and the tokens
//! unsubscribe links carry. The store keeps each e-mail's content as opaque JSON;
//! `assay_service::email` decides who hears of what, and the server renders and sends it.

use super::webhooks::{AttemptOutcome, move_cursor};
use super::{Store, StoreError, append};
use crate::audit::AuditEvent;
use assay_core::identity::UserId;

/// An e-mail to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    /// One e-mail per key (an event and a recipient): enqueueing it twice stores it once.
    pub key: String,
    /// The person, when the address is a user's (`None`: an invitation to a new address).
    pub user: Option<UserId>,
    /// Where it goes.
    pub address: String,
    /// What kind of e-mail (the unit of opting out), e.g. `decision`.
    pub kind: String,
    /// The subject line.
    pub subject: String,
    /// What it says, as JSON the sender renders.
    pub content: String,
}

/// An e-mail claimed to be sent now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueEmail {
    /// Its row id.
    pub id: i64,
    /// Where it goes.
    pub address: String,
    /// Its kind.
    pub kind: String,
    /// The subject line.
    pub subject: String,
    /// What it says (JSON).
    pub content: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// One attempt at sending an e-mail and what follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAttempt {
    /// The e-mail (its row id).
    pub message: i64,
    /// Why it failed (`None`: the relay took it).
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// What follows: `Delivered` means the relay accepted it.
    pub outcome: AttemptOutcome,
}

/// E-mails by state: pending, sent, failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmailCounts {
    /// Waiting to be sent or retried.
    pub pending: i64,
    /// Accepted by the relay.
    pub sent: i64,
    /// Out of attempts.
    pub failed: i64,
}

#[derive(sqlx::FromRow)]
struct DueEmailRow {
    id: i64,
    address: String,
    kind: String,
    subject: String,
    content: String,
    attempts: i64,
}

#[derive(sqlx::FromRow)]
struct KindRow {
    kind: String,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    unsubscribe_token: Option<String>,
}

#[derive(sqlx::FromRow)]
struct UserIdRow {
    id: i64,
}

#[derive(sqlx::FromRow)]
struct StateCountRow {
    state: String,
    n: i64,
}

const EMAIL_CURSOR: &str = "email";

async fn insert_emails(tx: &mut sqlx::AnyConnection, emails: &[NewEmail], at: i64) -> Result<u64, StoreError> {
    let mut inserted = 0;
    for e in emails {
        inserted += sqlx::query(
            "INSERT INTO email_messages (msg_key, user_id, address, kind, subject, content, created_at, state, \
             next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $7) ON CONFLICT (msg_key) DO NOTHING",
        )
        .bind(&e.key)
        .bind(e.user.map(|u| u.0))
        .bind(&e.address)
        .bind(&e.kind)
        .bind(&e.subject)
        .bind(&e.content)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}

impl Store {
    /// Audit events after the e-mail cursor (up to `limit`), and the cursor.
    pub async fn audit_after_email_cursor(&self, limit: i64) -> Result<(i64, Vec<AuditEvent>), StoreError> {
        self.audit_after(EMAIL_CURSOR, limit).await
    }

    /// Move the e-mail cursor from `from` to `to` and enqueue `emails`, in one transaction:
    /// `None` (nothing written) when another node moved it first, else how many were new.
    pub async fn fan_out_emails(
        &self,
        from: i64,
        to: i64,
        emails: &[NewEmail],
        at: i64,
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.write().await?;
        if !move_cursor(&mut tx, EMAIL_CURSOR, from, to).await? {
            return Ok(None);
        }
        let inserted = insert_emails(&mut tx, emails, at).await?;
        tx.commit().await?;
        Ok(Some(inserted))
    }

    /// Enqueue e-mails no audit event carries (invitations, reminders); one already enqueued
    /// under its key is left as it is. How many were new.
    pub async fn enqueue_emails(&self, emails: &[NewEmail], at: i64) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let inserted = insert_emails(&mut tx, emails, at).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Claim up to `limit` e-mails due at `now`, oldest first, each leased for `lease_secs`.
    pub async fn claim_due_emails(&self, now: i64, lease_secs: i64, limit: i64) -> Result<Vec<DueEmail>, StoreError> {
        let mut tx = self.write().await?;
        let rows = sqlx::query_as::<_, DueEmailRow>(
            "SELECT id, address, kind, subject, content, attempts FROM email_messages \
             WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            let claimed = sqlx::query(
                "UPDATE email_messages SET next_attempt_at = $1, node = $4 WHERE id = $2 AND state = 'pending' \
                 AND next_attempt_at <= $3",
            )
            .bind(now + lease_secs)
            .bind(row.id)
            .bind(now)
            .bind(self.node_slot())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 1 {
                let DueEmailRow { id, address, kind, subject, content, attempts } = row;
                due.push(DueEmail { id, address, kind, subject, content, attempts });
            }
        }
        tx.commit().await?;
        Ok(due)
    }

    /// Record attempts made by `at` and what follows from each, in one transaction.
    pub async fn record_email_attempts(&self, attempts: &[EmailAttempt], at: i64) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        for a in attempts {
            sqlx::query(
                "INSERT INTO email_attempts (message_id, attempt, at, error, duration_ms) \
                 SELECT id, attempts + 1, $2, $3, $4 FROM email_messages WHERE id = $1",
            )
            .bind(a.message)
            .bind(at)
            .bind(&a.error)
            .bind(a.duration_ms)
            .execute(&mut *tx)
            .await?;
            let (state, next, sent) = match a.outcome {
                AttemptOutcome::Delivered => ("sent", at, Some(at)),
                AttemptOutcome::Retry { next_at } => ("pending", next_at, None),
                AttemptOutcome::Failed => ("failed", at, None),
            };
            sqlx::query(
                "UPDATE email_messages SET attempts = attempts + 1, state = $1, next_attempt_at = $2, sent_at = $3, \
                 last_error = $4, node = NULL WHERE id = $5 AND state = 'pending'",
            )
            .bind(state)
            .bind(next)
            .bind(sent)
            .bind(&a.error)
            .bind(a.message)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// E-mails by state.
    pub async fn email_counts(&self) -> Result<EmailCounts, StoreError> {
        let rows = sqlx::query_as::<_, StateCountRow>("SELECT state, COUNT(*) AS n FROM email_messages GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut counts = EmailCounts::default();
        for row in rows {
            match row.state.as_str() {
                "pending" => counts.pending = row.n,
                "sent" => counts.sent = row.n,
                _ => counts.failed += row.n,
            }
        }
        Ok(counts)
    }

    /// The kinds of e-mail `user` opted out of.
    pub async fn email_opt_outs(&self, user: UserId) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query_as::<_, KindRow>("SELECT kind FROM email_opt_outs WHERE user_id = $1 ORDER BY kind")
            .bind(user.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.kind).collect())
    }

    /// Replace `user`'s opt-outs with `kinds`, audited as `actor`.
    pub async fn set_email_opt_outs(
        &self,
        actor: &str,
        user: UserId,
        kinds: &[String],
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM email_opt_outs WHERE user_id = $1").bind(user.0).execute(&mut *tx).await?;
        for kind in kinds {
            sqlx::query("INSERT INTO email_opt_outs (user_id, kind, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(user.0)
                .bind(kind)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        let detail = if kinds.is_empty() {
            "receives every e-mail".to_owned()
        } else {
            format!("no e-mail for {}", kinds.join(", "))
        };
        append(&mut tx, actor, "user.email_preferences", &format!("user:{}", user.0), &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The token `user`'s unsubscribe links carry, made on first use.
    pub async fn unsubscribe_token(&self, user: UserId) -> Result<String, StoreError> {
        let current = sqlx::query_as::<_, TokenRow>("SELECT unsubscribe_token FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_one(&self.pool)
            .await?;
        if let Some(token) = current.unsubscribe_token {
            return Ok(token);
        }
        let fresh = format!("unsub_{}", hex::encode(rand::random::<[u8; 16]>()));
        let mut tx = self.write().await?;
        sqlx::query("UPDATE users SET unsubscribe_token = $1 WHERE id = $2 AND unsubscribe_token IS NULL")
            .bind(&fresh)
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        let stored = sqlx::query_as::<_, TokenRow>("SELECT unsubscribe_token FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored.unsubscribe_token.unwrap_or(fresh))
    }

    /// The person an unsubscribe token belongs to.
    pub async fn user_by_unsubscribe_token(&self, token: &str) -> Result<Option<UserId>, StoreError> {
        let row = sqlx::query_as::<_, UserIdRow>("SELECT id FROM users WHERE unsubscribe_token = $1")
            .bind(token)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| UserId(r.id)))
    }
}
