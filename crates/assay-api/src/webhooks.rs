//! Partner webhook endpoints and their delivery logs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/webhooks`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// Where to POST messages: `https` (plain `http` only to a loopback address).
    pub url: String,
    /// Event types to receive; empty or `["*"]` for all.
    #[serde(default)]
    pub events: Vec<String>,
}

/// A webhook endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Endpoint {
    /// Its id.
    pub id: i64,
    /// Where messages go.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// The signing secret (`whsec_…`): only in the response that created the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// When it was registered (RFC 3339).
    pub created_at: String,
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// The message's `webhook-id`.
    pub message: String,
    /// Its event type.
    pub event_type: String,
    /// Which attempt, from 1.
    pub attempt: i64,
    /// When (RFC 3339).
    pub at: String,
    /// The receiver's HTTP status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// The message's state now: `pending`, `delivered` or `failed`.
    pub state: String,
}

/// An endpoint's delivery log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryLog {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Messages waiting (new or to be retried).
    pub pending: i64,
    /// Messages delivered.
    pub delivered: i64,
    /// Messages that ran out of attempts.
    pub failed: i64,
    /// Attempts, newest first (at most 200).
    pub deliveries: Vec<Delivery>,
}
