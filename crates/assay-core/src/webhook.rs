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
}

impl EndpointRecord {
    /// Whether it receives events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == event_type)
    }
}

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
