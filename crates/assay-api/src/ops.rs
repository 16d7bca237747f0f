//! Operations: readiness.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /readyz`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// The rule pack reviews run, `name@version`.
    pub rule_pack: String,
    /// Review jobs waiting or running.
    pub pending_reviews: i64,
    /// `intact`, or where the audit chain is broken (then `status` is `unavailable`): the newest
    /// events are verified at start and after every checkpoint.
    pub audit: String,
}
