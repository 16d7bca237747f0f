//! Rule-pack rollouts, partner-check updates, re-check verdicts and the job queue.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The multipart form of `POST /v1/rule-packs`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the form for OpenAPI; the handler reads the fields as a stream
pub struct PackForm {
    /// The `pack.toml`.
    #[schema(format = Binary, content_media_type = "application/toml")]
    manifest: String,
    /// The components `pack.toml` names, each with its file name.
    #[schema(format = Binary, content_media_type = "application/wasm")]
    component: Vec<String>,
    /// The rules' documentation `pack.toml` names (`docs = "…md"`), each with its file name.
    #[schema(format = Binary, content_media_type = "text/markdown")]
    docs: Vec<String>,
}

/// `POST /v1/rule-packs/{name}/{version}/enforce`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enforce {
    /// Days from now until the pack's verdicts apply (at most 3650); affected partners are
    /// notified now. A whole number; `14.0` is read as `14`.
    #[serde(deserialize_with = "crate::whole::number")]
    #[schema(minimum = 0, maximum = 3650)]
    pub grace_days: u32,
}

/// Re-check jobs by state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    /// Every job of the phase.
    pub total: i64,
    /// Waiting to be claimed.
    pub waiting: i64,
    /// Running now.
    pub running: i64,
    /// Finished with a verdict.
    pub done: i64,
    /// Dead-lettered (see the worker logs and `GET /v1/jobs/dead`).
    pub dead: i64,
    /// When the phase's re-check began (RFC 3339).
    pub started_at: String,
    /// Seconds until it is done at the rate so far.
    pub eta_secs: Option<i64>,
}

/// Verdicts so far.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Verdicts {
    /// Would pass.
    pub pass: i64,
    /// Would fail (blocking findings).
    pub fail: i64,
    /// Could not decide (a rule failed to run).
    pub error: i64,
}

/// A rule and how many live listings fail it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleImpact {
    /// The rule.
    pub rule_id: String,
    /// Listings failing it.
    pub listings: i64,
}

/// A live listing the pack fails.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AffectedListing {
    /// The listing.
    pub slug: String,
    /// Its live version.
    pub version: String,
    /// Its partner.
    pub partner: String,
    /// The rules it fails.
    pub rules: Vec<String>,
}

/// A published pack's rollout.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackRollout {
    /// The pack's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// SHA-256 over its manifest and components.
    pub digest: String,
    /// `shadow` (re-checking, nothing blocked), `grace` (enforced from `enforce_at`) or
    /// `enforced` (the active pack; failing live versions leave the marketplace).
    pub phase: String,
    /// When its verdicts apply (RFC 3339), once enforced.
    pub enforce_at: Option<String>,
    /// When they were applied.
    pub applied_at: Option<String>,
    /// Who published it.
    pub published_by: String,
    /// The current phase's re-check.
    pub progress: Progress,
    /// Its verdicts so far.
    pub verdicts: Verdicts,
    /// The blast radius: failing listings per rule, most first.
    pub rules: Vec<RuleImpact>,
    /// The failing listings (at most 500; `verdicts.fail` counts them all).
    pub affected: Vec<AffectedListing>,
}

/// A dead-lettered job.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadJob {
    /// The job.
    pub id: i64,
    /// `review` or `recheck`.
    pub kind: String,
    /// The version, `slug@version`.
    pub subject: String,
    /// What enqueued it: `submission`, `pack`, `enforce`, `checks` or `api-deprecation`.
    pub reason: String,
    /// Why it is dead.
    pub error: String,
    /// How many times it was claimed.
    pub attempts: i64,
}

/// The job queue: every job by state, and the dead letters.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Queue {
    /// Waiting to be claimed (or waiting out a retry's backoff).
    pub waiting: i64,
    /// Running under a live lease.
    pub running: i64,
    /// Finished.
    pub done: i64,
    /// Dead-lettered.
    pub dead: i64,
    /// The newest dead letters (at most 100), with their reasons.
    pub dead_letters: Vec<DeadJob>,
}

/// The multipart form of `PUT /v1/listings/{slug}/checks`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the form for OpenAPI; the handler reads the fields as a stream
pub struct ChecksForm {
    /// The new partner check components (`.wasm`), one or more.
    #[schema(format = Binary, content_media_type = "application/wasm")]
    check: Vec<String>,
}

/// The live version being re-checked with new partner checks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChecksUpdated {
    /// The listing.
    pub slug: String,
    /// Its live version, re-checked with the new checks.
    pub version: String,
    /// Poll this for the re-check's verdict: the entry with `job_id`.
    pub url: String,
    /// The re-check's job.
    pub job_id: i64,
}

/// A re-check verdict.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Recheck {
    /// The job that produced it.
    pub job_id: i64,
    /// What triggered it: `pack` (a shadow rollout), `enforce`, `checks` (new partner checks)
    /// or `api-deprecation`.
    pub reason: String,
    /// The rule pack it ran, `name@version`.
    pub pack: String,
    /// `pass`, `fail` or `error`.
    pub verdict: String,
    /// The rules with blocking findings no live waiver covers.
    pub blocking: Vec<String>,
    /// Every finding (`rule_id`, `severity`, `message`, `pointer`, `remediation`).
    #[schema(value_type = Vec<Object>)]
    pub findings: serde_json::Value,
    /// When it was recorded (RFC 3339).
    pub at: String,
}
