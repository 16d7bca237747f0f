//! Partner webhook endpoints and their delivery log.

use crate::identity::PartnerId;

/// A partner's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRecord {
    /// Its id.
    pub id: i64,
    /// The partner it belongs to.
    pub partner: PartnerId,
    /// Where messages are POSTed.
    pub url: String,
    /// The signing secret (`whsec_…`).
    pub secret: String,
    /// The event types it receives (`*` for all).
    pub events: Vec<String>,
    /// When it was registered.
    pub created_at: i64,
    /// The secret before the last rotation, which still signs until `previous_secret_until`.
    pub previous_secret: Option<String>,
    /// When the previous secret stops signing (Unix seconds).
    pub previous_secret_until: Option<i64>,
    /// How deliveries to it are going.
    pub health: EndpointHealth,
}

/// How deliveries to an endpoint are going, and whether it is paused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointHealth {
    /// When it was paused (by its owner, or automatically), if it is.
    pub paused_at: Option<i64>,
    /// Why it is paused.
    pub paused_reason: Option<String>,
    /// Since when every attempt has failed, if the last one did.
    pub failing_since: Option<i64>,
    /// Attempts failed since the last success.
    pub failures_in_a_row: i64,
    /// The last delivery that succeeded.
    pub last_success_at: Option<i64>,
    /// The last attempt that failed.
    pub last_failure_at: Option<i64>,
    /// Why it failed, as partners may read it.
    pub last_error: Option<String>,
}

impl EndpointHealth {
    /// `paused`, `failing` or `healthy`.
    pub fn status(&self) -> &'static str {
        if self.paused_at.is_some() {
            "paused"
        } else if self.failing_since.is_some() {
            "failing"
        } else {
            "healthy"
        }
    }
}

impl EndpointRecord {
    /// Whether it receives events of `event_type` (a test event goes to any endpoint).
    pub fn wants(&self, event_type: &str) -> bool {
        event_type == TEST_EVENT || self.events.iter().any(|e| e == "*" || e == event_type)
    }

    /// The secrets that sign a message sent at `now`: the current one, and the previous one
    /// during its grace period (Standard Webhooks receivers accept either signature).
    pub fn signing_secrets(&self, now: i64) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && now < until
        {
            secrets.push(previous);
        }
        secrets
    }
}

/// The event type of a test message an endpoint's owner sends it.
pub const TEST_EVENT: &str = "webhook.test";

/// One row of an endpoint's delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// `webhook-id` of the message.
    pub msg_id: String,
    /// Its event type.
    pub event_type: String,
    /// Which attempt, from 1.
    pub attempt: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<i64>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// The message's state now: `pending`, `delivered` or `failed`.
    pub state: String,
}
