//! Partner webhooks: endpoints, the durable outbox and the delivery log. The store keeps
//! messages as opaque text; `assay_service::webhooks` builds, signs and sends them.

use super::{AuditRow, Id, Store, StoreError, Tally, append, now, select_audit};
use crate::audit::AuditEvent;
use crate::model::PartnerId;
pub use assay_core::webhook::{DeliveryRecord, EndpointRecord};

/// A message to put in the outbox for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The endpoint.
    pub endpoint: i64,
    /// The message id receivers deduplicate on (`webhook-id`); unique per endpoint, so
    /// enqueueing the same message twice stores it once.
    pub msg_id: String,
    /// The event type, e.g. `listing.version.approved`.
    pub event_type: String,
    /// The body, as it will be signed and sent.
    pub payload: String,
}

/// A message claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueMessage {
    /// Its row id.
    pub id: i64,
    /// Where to send it.
    pub url: String,
    /// The endpoint's secret.
    pub secret: String,
    /// `webhook-id`.
    pub msg_id: String,
    /// The event type.
    pub event_type: String,
    /// The body.
    pub payload: String,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx: done.
    Delivered,
    /// Try again at `next_at` (Unix seconds).
    Retry {
        /// When.
        next_at: i64,
    },
    /// Out of attempts: the message stays in the log, failed.
    Failed,
}

/// `SELECT` every [`EndpointRow`] column, then `$rest` (static text: the queries stay literals).
macro_rules! select_endpoints {
    ($rest:literal) => {
        concat!("SELECT id, partner_id, url, secret, events, created_at FROM webhook_endpoints ", $rest)
    };
}

/// An endpoint; `events` comma-separated ([`select_endpoints!`]).
#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: i64,
    partner_id: i64,
    url: String,
    secret: String,
    events: String,
    created_at: i64,
}

impl EndpointRow {
    fn record(self) -> EndpointRecord {
        EndpointRecord {
            id: self.id,
            partner: PartnerId(self.partner_id),
            url: self.url,
            secret: self.secret,
            events: self.events.split(',').map(str::to_owned).collect(),
            created_at: self.created_at,
        }
    }
}

/// The fan-out cursor: the last audit event fanned out.
#[derive(sqlx::FromRow)]
struct CursorRow {
    seq: i64,
}

/// A due message and where it goes.
#[derive(sqlx::FromRow)]
struct DueRow {
    id: i64,
    url: String,
    secret: String,
    msg_id: String,
    event_type: String,
    payload: String,
    created_at: i64,
    attempts: i64,
}

/// A message's attempts (`RETURNING attempts`).
#[derive(sqlx::FromRow)]
struct AttemptsRow {
    attempts: i64,
}

/// A delivery attempt and its message.
#[derive(sqlx::FromRow)]
struct DeliveryRow {
    msg_id: String,
    event_type: String,
    attempt: i64,
    at: i64,
    status: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
    state: String,
}

impl Store {
    /// Register an endpoint for `partner`, with an audit event (the secret is not logged).
    pub async fn create_endpoint(
        &self,
        actor: &str,
        partner: PartnerId,
        url: &str,
        events: &[String],
        secret: &str,
    ) -> Result<EndpointRecord, StoreError> {
        let mut tx = self.write().await?;
        let Id { id } = sqlx::query_as::<_, Id>(
            "INSERT INTO webhook_endpoints (partner_id, url, secret, events, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
        )
        .bind(partner.0)
        .bind(url)
        .bind(secret)
        .bind(events.join(","))
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        append(
            &mut tx,
            actor,
            "webhook.endpoint.create",
            &format!("endpoint:{id}"),
            &format!("{url} for {}", events.join(",")),
        )
        .await?;
        tx.commit().await?;
        self.endpoint(id).await?.ok_or_else(|| StoreError::NotFound(format!("endpoint {id}")))
    }

    /// One endpoint.
    pub async fn endpoint(&self, id: i64) -> Result<Option<EndpointRecord>, StoreError> {
        let row = sqlx::query_as::<_, EndpointRow>(select_endpoints!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(EndpointRow::record))
    }

    /// A partner's endpoints (`None`: every partner's), oldest first.
    pub async fn endpoints(&self, partner: Option<PartnerId>) -> Result<Vec<EndpointRecord>, StoreError> {
        let rows = match partner {
            Some(p) => {
                sqlx::query_as::<_, EndpointRow>(select_endpoints!("WHERE partner_id = $1 ORDER BY id"))
                    .bind(p.0)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query_as::<_, EndpointRow>(select_endpoints!("ORDER BY id")).fetch_all(&self.pool).await?,
        };
        Ok(rows.into_iter().map(EndpointRow::record).collect())
    }

    /// The fan-out cursor and up to `limit` audit events after it.
    pub async fn audit_after_cursor(&self, limit: i64) -> Result<(i64, Vec<AuditEvent>), StoreError> {
        let CursorRow { seq: cursor } =
            sqlx::query_as::<_, CursorRow>("SELECT seq FROM webhook_cursor WHERE name = 'audit'")
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query_as::<_, AuditRow>(concat!(select_audit!(), " WHERE seq > $1 ORDER BY seq LIMIT $2"))
            .bind(cursor)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok((cursor, rows.into_iter().map(AuditRow::event).collect()))
    }

    /// Move the fan-out cursor from `from` to `to` and enqueue `messages` (due at `at`, the
    /// caller's clock), in one transaction. `None` (and nothing written) when another node
    /// moved the cursor first; otherwise how many messages were new.
    pub async fn fan_out(
        &self,
        from: i64,
        to: i64,
        messages: &[NewMessage],
        at: i64,
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.write().await?;
        let moved = sqlx::query("UPDATE webhook_cursor SET seq = $1 WHERE name = 'audit' AND seq = $2")
            .bind(to)
            .bind(from)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if moved == 0 {
            return Ok(None);
        }
        let inserted = insert_messages(&mut tx, messages, at).await?;
        tx.commit().await?;
        Ok(Some(inserted))
    }

    /// Enqueue messages that no trigger's transaction carries (deprecation reminders); a
    /// message already enqueued for its endpoint is left as it is. How many were new.
    pub async fn enqueue_messages(&self, messages: &[NewMessage], at: i64) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let inserted = insert_messages(&mut tx, messages, at).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Claim up to `limit` messages due at `now`: each is leased for `lease_secs` (its next
    /// attempt moves past the lease), so a node that dies mid-delivery leaves it to be sent
    /// again once the lease lapses.
    pub async fn claim_due_messages(
        &self,
        now: i64,
        lease_secs: i64,
        limit: i64,
    ) -> Result<Vec<DueMessage>, StoreError> {
        let mut tx = self.write().await?;
        let rows = sqlx::query_as::<_, DueRow>(
            "SELECT m.id, e.url, e.secret, m.msg_id, m.event_type, m.payload, m.created_at, m.attempts \
             FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id \
             WHERE m.state = 'pending' AND m.next_attempt_at <= $1 ORDER BY m.next_attempt_at, m.id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            let claimed = sqlx::query(
                "UPDATE webhook_messages SET next_attempt_at = $1 WHERE id = $2 AND state = 'pending' AND next_attempt_at <= $3",
            )
            .bind(now + lease_secs)
            .bind(row.id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 1 {
                let DueRow { id, url, secret, msg_id, event_type, payload, created_at, attempts } = row;
                due.push(DueMessage { id, url, secret, msg_id, event_type, payload, created_at, attempts });
            }
        }
        tx.commit().await?;
        Ok(due)
    }

    /// Record one attempt at `message`, made at `at`, and what follows from it, in one
    /// transaction.
    pub async fn record_attempt(
        &self,
        message: i64,
        status: Option<u16>,
        error: Option<&str>,
        duration_ms: i64,
        outcome: &AttemptOutcome,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let AttemptsRow { attempts: attempt } = sqlx::query_as::<_, AttemptsRow>(
            "UPDATE webhook_messages SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
        )
        .bind(message)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO webhook_deliveries (message_id, attempt, at, status, error, duration_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(message)
        .bind(attempt)
        .bind(at)
        .bind(status.map(i64::from))
        .bind(error)
        .bind(duration_ms)
        .execute(&mut *tx)
        .await?;
        let (state, next, delivered) = match outcome {
            AttemptOutcome::Delivered => ("delivered", at, Some(at)),
            AttemptOutcome::Retry { next_at } => ("pending", *next_at, None),
            AttemptOutcome::Failed => ("failed", at, None),
        };
        // A message another node finished meanwhile (its lease lapsed mid-send) stays finished.
        sqlx::query(
            "UPDATE webhook_messages SET state = $1, next_attempt_at = $2, delivered_at = $3, last_error = $4 \
             WHERE id = $5 AND state = 'pending'",
        )
        .bind(state)
        .bind(next)
        .bind(delivered)
        .bind(error)
        .bind(message)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An endpoint's delivery log, newest first, at most `limit` rows.
    pub async fn deliveries(&self, endpoint: i64, limit: i64) -> Result<Vec<DeliveryRecord>, StoreError> {
        let rows = sqlx::query_as::<_, DeliveryRow>(
            "SELECT m.msg_id, m.event_type, d.attempt, d.at, d.status, d.error, d.duration_ms, m.state \
             FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id \
             WHERE m.endpoint_id = $1 ORDER BY d.id DESC LIMIT $2",
        )
        .bind(endpoint)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|DeliveryRow { msg_id, event_type, attempt, at, status, error, duration_ms, state }| DeliveryRecord {
                msg_id,
                event_type,
                attempt,
                at,
                status,
                error,
                duration_ms,
                state,
            })
            .collect())
    }

    /// Messages of an endpoint by state: (pending, delivered, failed).
    pub async fn message_counts(&self, endpoint: i64) -> Result<(i64, i64, i64), StoreError> {
        let rows = sqlx::query_as::<_, Tally>(
            "SELECT state AS label, COUNT(*) AS n FROM webhook_messages WHERE endpoint_id = $1 GROUP BY state",
        )
        .bind(endpoint)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = (0, 0, 0);
        for Tally { label: state, n } in rows {
            match state.as_str() {
                "pending" => counts.0 = n,
                "delivered" => counts.1 = n,
                _ => counts.2 = n,
            }
        }
        Ok(counts)
    }
}

async fn insert_messages(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    messages: &[NewMessage],
    at: i64,
) -> Result<u64, StoreError> {
    let mut inserted = 0;
    for m in messages {
        inserted += sqlx::query(
            "INSERT INTO webhook_messages (endpoint_id, msg_id, event_type, payload, created_at, state, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6) ON CONFLICT (endpoint_id, msg_id) DO NOTHING",
        )
        .bind(m.endpoint)
        .bind(&m.msg_id)
        .bind(&m.event_type)
        .bind(&m.payload)
        .bind(at)
        .bind(at)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}
