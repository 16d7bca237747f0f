//! Partner webhook endpoints and their delivery logs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/webhooks`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// Where to POST messages: an `https` URL of a public host, at most 2048 bytes (plain
    /// `http`, and private addresses, only where the server allows private endpoints, for
    /// development).
    #[schema(format = "uri", max_length = 2048, pattern = "^[Hh][Tt][Tt][Pp][Ss]?://")]
    pub url: String,
    /// Event types to receive; empty or `["*"]` for all.
    #[serde(default)]
    #[schema(value_type = Vec<EventType>)]
    pub events: Vec<String>,
}

/// An event type an endpoint can subscribe to, or `*` for all. On the wire a string.
#[derive(Debug, ToSchema)]
pub enum EventType {
    /// A review finished with a verdict.
    #[schema(rename = "listing.review.finished")]
    ReviewFinished,
    /// A reviewer approved a version.
    #[schema(rename = "listing.version.approved")]
    Approved,
    /// A reviewer sent a version back.
    #[schema(rename = "listing.version.changes_requested")]
    ChangesRequested,
    /// A reviewer rejected a version.
    #[schema(rename = "listing.version.rejected")]
    Rejected,
    /// A reviewer certified a version.
    #[schema(rename = "listing.version.certified")]
    Certified,
    /// A version was deprecated.
    #[schema(rename = "listing.version.deprecated")]
    Deprecated,
    /// A version reached its sunset.
    #[schema(rename = "listing.version.retired")]
    Retired,
    /// An enforced rule pack's verdict applied to a version.
    #[schema(rename = "listing.version.enforced")]
    Enforced,
    /// A change notice was published.
    #[schema(rename = "notice.published")]
    NoticePublished,
    /// A deprecation's sunset is near.
    #[schema(rename = "deprecation.reminder")]
    DeprecationReminder,
    /// Every event type.
    #[schema(rename = "*")]
    All,
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
