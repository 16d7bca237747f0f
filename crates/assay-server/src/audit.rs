//! The audit chain: its signed checkpoints (public) and a full verification (admins).

use assay_api::audit::{BrokenLink, Checkpoint, Checkpoints, Verification};
use assay_api::problem::Problem;
use axum::Json;
use axum::extract::State;

use crate::AppState;
use crate::auth::Caller;
use crate::problem::ApiError;

fn checkpoint(c: &assay_core::audit::Checkpoint) -> Checkpoint {
    Checkpoint { seq: c.seq, hash: c.hash.clone(), at: c.at, key_id: c.key_id.clone(), signature: c.signature.clone() }
}

/// Every signed checkpoint of the audit chain's head, and the public key that verifies them.
/// Public, so that anyone can keep a copy: see `assay audit verify --checkpoints`.
#[utoipa::path(
    get, path = "/v1/audit/checkpoints", tag = "audit",
    responses((status = 200, description = "The checkpoints, oldest first", body = Checkpoints)),
)]
pub async fn checkpoints(State(state): State<AppState>) -> Result<Json<Checkpoints>, ApiError> {
    let published = state.service.audit_checkpoints().await?;
    Ok(Json(Checkpoints {
        algorithm: "ed25519".into(),
        key_id: published.key_id,
        public_key: published.public_key,
        checkpoints: published.checkpoints.iter().map(checkpoint).collect(),
    }))
}

/// Walk the whole audit chain (admins): every event follows the one before it and hashes to its
/// hash, every checkpoint's event still has the hash it signed, every signature verifies.
#[utoipa::path(
    get, path = "/v1/audit/verify", tag = "audit",
    responses(
        (status = 200, description = "What the walk found; `intact` is false with the first broken link", body = Verification),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("token" = []))
)]
pub async fn verify(State(state): State<AppState>, Caller(who): Caller) -> Result<Json<Verification>, ApiError> {
    let report = state.service.verify_audit(&who).await?;
    Ok(Json(Verification {
        intact: report.broken.is_none(),
        events: report.events,
        checkpoints: report.checkpoints,
        newest_checkpoint: report.newest_checkpoint.as_ref().map(checkpoint),
        broken: report.broken.map(|(seq, reason)| BrokenLink { seq, reason }),
    }))
}
