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

/// An event type an endpoint can subscribe to, or `*` for all. On the wire a string; each
/// type's `data` schema is in `crate::events` (and `docs/events/`).
#[derive(Debug, ToSchema)]
pub enum EventType {
    /// A partner submitted a version.
    #[schema(rename = "listing.version.submitted")]
    Submitted,
    /// The automated review recorded a verdict.
    #[schema(rename = "listing.version.reviewed")]
    Reviewed,
    /// A reviewer approved, sent back or rejected a version.
    #[schema(rename = "listing.version.decided")]
    Decided,
    /// A reviewer certified a version.
    #[schema(rename = "listing.version.certified")]
    Certified,
    /// A version lost its certification.
    #[schema(rename = "listing.version.uncertified")]
    Uncertified,
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
    /// A deprecation was scheduled.
    #[schema(rename = "deprecation.scheduled")]
    DeprecationScheduled,
    /// A deprecation's sunset is near.
    #[schema(rename = "deprecation.reminder")]
    DeprecationReminder,
    /// The partner withdrew a version.
    #[schema(rename = "listing.version.withdrawn")]
    VersionWithdrawn,
    /// The partner released an approved version.
    #[schema(rename = "listing.version.published")]
    VersionPublished,
    /// A partner asked for an exception to a finding.
    #[schema(rename = "exception.requested")]
    ExceptionRequested,
    /// A granted exception lapses soon.
    #[schema(rename = "exception.expiring")]
    ExceptionExpiring,
    /// Staff decided on an exception.
    #[schema(rename = "exception.decided")]
    ExceptionDecided,
    /// A partner appealed a decision.
    #[schema(rename = "appeal.filed")]
    AppealFiled,
    /// An appeal was heard.
    #[schema(rename = "appeal.decided")]
    AppealDecided,
    /// A message on a version's conversation.
    #[schema(rename = "listing.version.message")]
    VersionMessage,
    /// A version was put on hold.
    #[schema(rename = "listing.version.held")]
    VersionHeld,
    /// A version's hold was released.
    #[schema(rename = "listing.version.hold_released")]
    VersionHoldReleased,
    /// Every event type.
    #[schema(rename = "*")]
    All,
}

/// `PATCH /v1/webhooks/{id}`: what the endpoint receives.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpoint {
    /// Event types to receive; empty or `["*"]` for all.
    #[schema(value_type = Vec<EventType>)]
    pub events: Vec<String>,
}

/// `POST /v1/webhooks/{id}/pause`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseEndpoint {
    /// Why, shown with the endpoint.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// `POST /v1/webhooks/{id}/test`: the test message queued.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TestQueued {
    /// Its `webhook-id`, to find it in the delivery log.
    pub message: String,
}

/// How deliveries to an endpoint are going.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EndpointHealth {
    /// `healthy`, `failing` or `paused`.
    #[schema(pattern = "^(healthy|failing|paused)$")]
    pub status: String,
    /// The last delivery that succeeded (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<String>,
    /// The last attempt that failed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_at: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Attempts failed since the last success.
    pub failures_in_a_row: i64,
    /// Since when every attempt has failed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    /// When it was paused (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<String>,
    /// Why it is paused: by its owner, or automatically after failing too long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_reason: Option<String>,
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
    /// Until when the secret before the last rotation still signs beside the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<String>,
    /// How deliveries are going.
    pub health: EndpointHealth,
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
