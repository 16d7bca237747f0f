//! Partner webhooks: endpoints, the durable outbox and the delivery log. The store keeps
//! messages as opaque text; `assay_service::webhooks` builds, signs and sends them.

use std::collections::HashMap;

use super::{AuditRow, Count, Id, Store, StoreError, Tally, append, now, select_audit};
use crate::audit::AuditEvent;
use crate::model::PartnerId;
pub use assay_core::webhook::{DeliveryRecord, EndpointHealth, EndpointRecord};

/// A message to put in the outbox for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The endpoint.
    pub endpoint: i64,
    /// The message id receivers deduplicate on (`webhook-id`); unique per endpoint, so
    /// enqueueing the same message twice stores it once.
    pub msg_id: String,
    /// The event type, e.g. `listing.version.decided`.
    pub event_type: String,
    /// The body, as it will be signed and sent.
    pub payload: String,
}

/// A message claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueMessage {
    /// Its row id.
    pub id: i64,
    /// The endpoint it goes to.
    pub endpoint: i64,
    /// Where to send it.
    pub url: String,
    /// The secrets that sign it: the endpoint's, and its previous one during a rotation's
    /// grace period.
    pub secrets: Vec<String>,
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

/// One attempt to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The message (its row id).
    pub message: i64,
    /// Its endpoint.
    pub endpoint: i64,
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    /// Why it failed, as partners may read it.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// What follows.
    pub outcome: AttemptOutcome,
}

/// How recorded attempts move an endpoint's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    /// A failing endpoint is probed again after 2^(failures in a row − 1) seconds, at most this.
    pub max_endpoint_backoff_secs: i64,
    /// An endpoint failing for this long is paused (0: never).
    pub pause_after_secs: i64,
}

/// An endpoint paused automatically by [`Store::record_attempts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoPaused {
    /// The endpoint.
    pub endpoint: i64,
    /// Its partner.
    pub partner: PartnerId,
    /// Why, as recorded.
    pub reason: String,
}

/// The actor automatic pauses are recorded under.
pub const DISPATCHER: &str = "webhook dispatcher";

/// `SELECT` every [`EndpointRow`] column, then `$rest` (static text: the queries stay literals).
macro_rules! select_endpoints {
    ($rest:literal) => {
        concat!(
            "SELECT id, partner_id, url, secret, events, created_at, previous_secret, previous_secret_until, \
             paused_at, paused_reason, failing_since, failures_in_a_row, last_success_at, last_failure_at, last_error \
             FROM webhook_endpoints ",
            $rest
        )
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
    previous_secret: Option<String>,
    previous_secret_until: Option<i64>,
    paused_at: Option<i64>,
    paused_reason: Option<String>,
    failing_since: Option<i64>,
    failures_in_a_row: i64,
    last_success_at: Option<i64>,
    last_failure_at: Option<i64>,
    last_error: Option<String>,
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
            previous_secret: self.previous_secret,
            previous_secret_until: self.previous_secret_until,
            health: EndpointHealth {
                paused_at: self.paused_at,
                paused_reason: self.paused_reason,
                failing_since: self.failing_since,
                failures_in_a_row: self.failures_in_a_row,
                last_success_at: self.last_success_at,
                last_failure_at: self.last_failure_at,
                last_error: self.last_error,
            },
        }
    }
}

/// The fan-out cursor: the last audit event fanned out.
#[derive(sqlx::FromRow)]
struct CursorRow {
    seq: i64,
}

/// A due message and where it goes, with its turn among its endpoint's due messages.
#[derive(sqlx::FromRow)]
struct DueRow {
    id: i64,
    endpoint_id: i64,
    url: String,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<i64>,
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

/// An endpoint's failures in a row (`RETURNING`).
#[derive(sqlx::FromRow)]
struct FailuresRow {
    failures_in_a_row: i64,
}

/// An endpoint failing long enough to be paused.
#[derive(sqlx::FromRow)]
struct FailingRow {
    partner_id: i64,
    failing_since: i64,
    failures_in_a_row: i64,
    last_error: Option<String>,
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

/// The audit cursor webhooks are fanned out behind.
const WEBHOOK_CURSOR: &str = "audit";

/// Move the audit cursor named `cursor` from `from` to `to` in `tx`: `false` (nothing moved)
/// when another node moved it first.
pub(super) async fn move_cursor(
    tx: &mut sqlx::AnyConnection,
    cursor: &str,
    from: i64,
    to: i64,
) -> Result<bool, StoreError> {
    let moved = sqlx::query("UPDATE webhook_cursor SET seq = $1 WHERE name = $2 AND seq = $3")
        .bind(to)
        .bind(cursor)
        .bind(from)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    Ok(moved == 1)
}

impl Store {
    /// How many webhook endpoints are failing now (their last delivery failed; paused ones
    /// included when a failure paused them).
    pub async fn failing_endpoints(&self) -> Result<i64, StoreError> {
        let Count { n } =
            sqlx::query_as::<_, Count>("SELECT COUNT(*) AS n FROM webhook_endpoints WHERE failing_since IS NOT NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

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
        self.audit_after(WEBHOOK_CURSOR, limit).await
    }

    /// The audit cursor named `cursor` and up to `limit` events after it.
    pub(super) async fn audit_after(&self, cursor: &str, limit: i64) -> Result<(i64, Vec<AuditEvent>), StoreError> {
        let CursorRow { seq } = sqlx::query_as::<_, CursorRow>("SELECT seq FROM webhook_cursor WHERE name = $1")
            .bind(cursor)
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query_as::<_, AuditRow>(concat!(select_audit!(), " WHERE seq > $1 ORDER BY seq LIMIT $2"))
            .bind(seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok((seq, rows.into_iter().map(AuditRow::event).collect()))
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
        if !move_cursor(&mut tx, WEBHOOK_CURSOR, from, to).await? {
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

    /// Claim up to `limit` messages due at `now`, fairly: every endpoint's oldest due message
    /// comes before any endpoint's second, and no endpoint gets more than `per_endpoint` in
    /// flight, counting `busy` (what this node is already sending, by endpoint). Paused
    /// endpoints and endpoints backing off are skipped. Each claimed message is leased for
    /// `lease_secs` (its next attempt moves past the lease), so a node that dies mid-delivery
    /// leaves it to be sent again once the lease lapses.
    pub async fn claim_due_messages(
        &self,
        now: i64,
        lease_secs: i64,
        limit: usize,
        per_endpoint: usize,
        busy: &HashMap<i64, usize>,
    ) -> Result<Vec<DueMessage>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.write().await?;
        let rows = sqlx::query_as::<_, DueRow>(
            "SELECT id, endpoint_id, url, secret, previous_secret, previous_secret_until, msg_id, event_type, payload, \
             created_at, attempts FROM (\
               SELECT m.id, m.endpoint_id, e.url, e.secret, e.previous_secret, e.previous_secret_until, m.msg_id, \
               m.event_type, m.payload, m.created_at, m.attempts, \
               ROW_NUMBER() OVER (PARTITION BY m.endpoint_id ORDER BY m.next_attempt_at, m.id) AS turn \
               FROM webhook_messages m JOIN webhook_endpoints e ON e.id = m.endpoint_id \
               WHERE m.state = 'pending' AND m.next_attempt_at <= $1 AND e.paused_at IS NULL AND e.retry_at <= $1\
             ) due WHERE turn <= $2 ORDER BY turn, id LIMIT $3",
        )
        .bind(now)
        .bind(i64::try_from(per_endpoint).unwrap_or(i64::MAX))
        .bind(i64::try_from(limit.saturating_mul(2).max(per_endpoint)).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
        let mut taken: HashMap<i64, usize> = HashMap::new();
        let mut due = Vec::with_capacity(rows.len().min(limit));
        for row in rows {
            let in_flight =
                busy.get(&row.endpoint_id).copied().unwrap_or(0) + taken.get(&row.endpoint_id).copied().unwrap_or(0);
            if due.len() == limit || in_flight >= per_endpoint {
                continue;
            }
            let claimed = sqlx::query(
                "UPDATE webhook_messages SET next_attempt_at = $1, node = $4 WHERE id = $2 AND state = 'pending' \
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
                *taken.entry(row.endpoint_id).or_default() += 1;
                let mut secrets = vec![row.secret];
                if let (Some(previous), Some(until)) = (row.previous_secret, row.previous_secret_until)
                    && now < until
                {
                    secrets.push(previous);
                }
                due.push(DueMessage {
                    id: row.id,
                    endpoint: row.endpoint_id,
                    url: row.url,
                    secrets,
                    msg_id: row.msg_id,
                    event_type: row.event_type,
                    payload: row.payload,
                    created_at: row.created_at,
                    attempts: row.attempts,
                });
            }
        }
        tx.commit().await?;
        Ok(due)
    }

    /// Record attempts made by `at`, what follows from each for its message, and for its
    /// endpoint's health, in one transaction (one commit for a batch of deliveries). A failure
    /// backs its endpoint off; an endpoint failing for `policy.pause_after_secs` is paused,
    /// with an audit event: those are returned.
    pub async fn record_attempts(
        &self,
        attempts: &[Attempt],
        at: i64,
        policy: HealthPolicy,
    ) -> Result<Vec<AutoPaused>, StoreError> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write().await?;
        let mut failing = Vec::new();
        for a in attempts {
            let AttemptsRow { attempts: attempt } = sqlx::query_as::<_, AttemptsRow>(
                "UPDATE webhook_messages SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
            )
            .bind(a.message)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO webhook_deliveries (message_id, attempt, at, status, error, duration_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(a.message)
            .bind(attempt)
            .bind(at)
            .bind(a.status.map(i64::from))
            .bind(&a.error)
            .bind(a.duration_ms)
            .execute(&mut *tx)
            .await?;
            let (state, next, delivered) = match a.outcome {
                AttemptOutcome::Delivered => ("delivered", at, Some(at)),
                AttemptOutcome::Retry { next_at } => ("pending", next_at, None),
                AttemptOutcome::Failed => ("failed", at, None),
            };
            // A message another node finished meanwhile (its lease lapsed mid-send) stays finished.
            sqlx::query(
                "UPDATE webhook_messages SET state = $1, next_attempt_at = $2, delivered_at = $3, last_error = $4, \
                 node = NULL WHERE id = $5 AND state = 'pending'",
            )
            .bind(state)
            .bind(next)
            .bind(delivered)
            .bind(&a.error)
            .bind(a.message)
            .execute(&mut *tx)
            .await?;
            if a.outcome == AttemptOutcome::Delivered {
                sqlx::query(
                    "UPDATE webhook_endpoints SET failures_in_a_row = 0, failing_since = NULL, retry_at = 0, \
                     last_success_at = $1 WHERE id = $2",
                )
                .bind(at)
                .bind(a.endpoint)
                .execute(&mut *tx)
                .await?;
                failing.retain(|e| *e != a.endpoint);
                continue;
            }
            let failures = sqlx::query_as::<_, FailuresRow>(
                "UPDATE webhook_endpoints SET failures_in_a_row = failures_in_a_row + 1, \
                 failing_since = COALESCE(failing_since, $1), last_failure_at = $1, last_error = $2 WHERE id = $3 \
                 RETURNING failures_in_a_row",
            )
            .bind(at)
            .bind(&a.error)
            .bind(a.endpoint)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(FailuresRow { failures_in_a_row }) = failures else { continue };
            let shift = u32::try_from(failures_in_a_row - 1).unwrap_or(0).min(30);
            let backoff = (1_i64 << shift).min(policy.max_endpoint_backoff_secs);
            sqlx::query("UPDATE webhook_endpoints SET retry_at = $1 WHERE id = $2")
                .bind(at + backoff)
                .bind(a.endpoint)
                .execute(&mut *tx)
                .await?;
            if !failing.contains(&a.endpoint) {
                failing.push(a.endpoint);
            }
        }
        let mut paused = Vec::new();
        if policy.pause_after_secs > 0 {
            for endpoint in failing {
                let row = sqlx::query_as::<_, FailingRow>(
                    "SELECT partner_id, failing_since, failures_in_a_row, last_error FROM webhook_endpoints \
                     WHERE id = $1 AND paused_at IS NULL AND failing_since <= $2",
                )
                .bind(endpoint)
                .bind(at - policy.pause_after_secs)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { continue };
                let since = jiff::Timestamp::from_second(row.failing_since).map(|t| t.to_string()).unwrap_or_default();
                let reason = format!(
                    "paused automatically: every attempt failed since {since} ({} in a row; the last: {})",
                    row.failures_in_a_row,
                    row.last_error.as_deref().unwrap_or("no answer")
                );
                sqlx::query("UPDATE webhook_endpoints SET paused_at = $1, paused_reason = $2 WHERE id = $3")
                    .bind(at)
                    .bind(&reason)
                    .bind(endpoint)
                    .execute(&mut *tx)
                    .await?;
                append(&mut tx, DISPATCHER, "webhook.endpoint.pause", &format!("endpoint:{endpoint}"), &reason).await?;
                paused.push(AutoPaused { endpoint, partner: PartnerId(row.partner_id), reason });
            }
        }
        tx.commit().await?;
        Ok(paused)
    }

    /// Change which events an endpoint receives.
    pub async fn update_endpoint_events(&self, actor: &str, id: i64, events: &[String]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let changed = sqlx::query("UPDATE webhook_endpoints SET events = $1 WHERE id = $2")
            .bind(events.join(","))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(format!("webhook endpoint {id}")));
        }
        append(&mut tx, actor, "webhook.endpoint.update", &format!("endpoint:{id}"), &events.join(",")).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Pause an endpoint (`Some(reason)`: nothing is sent to it; its messages wait) or resume
    /// it (`None`: its waiting messages go out now, its failure count starts again).
    pub async fn set_endpoint_paused(
        &self,
        actor: &str,
        id: i64,
        pause: Option<&str>,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let changed = match pause {
            Some(reason) => {
                sqlx::query("UPDATE webhook_endpoints SET paused_at = $1, paused_reason = $2 WHERE id = $3")
                    .bind(at)
                    .bind(reason)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query(
                    "UPDATE webhook_endpoints SET paused_at = NULL, paused_reason = NULL, failing_since = NULL, \
                     failures_in_a_row = 0, retry_at = 0 WHERE id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?
            }
        }
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(format!("webhook endpoint {id}")));
        }
        if pause.is_none() {
            // What waited (and what was backing off) goes out on the next pass.
            sqlx::query(
                "UPDATE webhook_messages SET next_attempt_at = $1 WHERE endpoint_id = $2 AND state = 'pending'",
            )
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let (action, detail) = match pause {
            Some(reason) => ("webhook.endpoint.pause", reason),
            None => ("webhook.endpoint.resume", ""),
        };
        append(&mut tx, actor, action, &format!("endpoint:{id}"), detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replace an endpoint's secret; the old one keeps signing until `grace_until`.
    pub async fn rotate_endpoint_secret(
        &self,
        actor: &str,
        id: i64,
        secret: &str,
        grace_until: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let changed = sqlx::query(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = $1, secret = $2 WHERE id = $3",
        )
        .bind(grace_until)
        .bind(secret)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(format!("webhook endpoint {id}")));
        }
        let until = jiff::Timestamp::from_second(grace_until).map(|t| t.to_string()).unwrap_or_default();
        append(
            &mut tx,
            actor,
            "webhook.endpoint.rotate",
            &format!("endpoint:{id}"),
            &format!("the old secret signs until {until}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Delete an endpoint with its messages and delivery log (the audit log keeps that it was).
    pub async fn delete_endpoint(&self, actor: &str, id: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "DELETE FROM webhook_deliveries WHERE message_id IN (SELECT id FROM webhook_messages WHERE endpoint_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM webhook_messages WHERE endpoint_id = $1").bind(id).execute(&mut *tx).await?;
        let gone = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(StoreError::NotFound(format!("webhook endpoint {id}")));
        }
        append(&mut tx, actor, "webhook.endpoint.delete", &format!("endpoint:{id}"), "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Send a message of an endpoint again, now (a failed one gets its attempts back). `false`
    /// when the endpoint has no message `msg_id`.
    pub async fn redeliver(&self, actor: &str, endpoint: i64, msg_id: &str, at: i64) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let found = sqlx::query(
            "UPDATE webhook_messages SET state = 'pending', next_attempt_at = $1, \
             attempts = CASE WHEN state = 'failed' THEN 0 ELSE attempts END WHERE endpoint_id = $2 AND msg_id = $3",
        )
        .bind(at)
        .bind(endpoint)
        .bind(msg_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if found == 0 {
            return Ok(false);
        }
        append(&mut tx, actor, "webhook.message.redeliver", &format!("endpoint:{endpoint}"), msg_id).await?;
        tx.commit().await?;
        Ok(true)
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

async fn insert_messages(tx: &mut sqlx::AnyConnection, messages: &[NewMessage], at: i64) -> Result<u64, StoreError> {
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
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}
