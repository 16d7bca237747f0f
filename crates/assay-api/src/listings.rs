//! Listings and their versions: creating a listing, submitting a version, a version with its review.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/listings`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateListing {
    /// The listing's stable id: 3–64 of `a-z`, `0-9`, `-`, starting with a letter and not
    /// ending with `-`.
    #[schema(example = "acme-stock-sync", min_length = 3, max_length = 64, pattern = r"^[a-z][a-z0-9-]*[a-z0-9]$")]
    pub slug: String,
    /// Display name: 1 to 80 characters, not only spaces.
    #[schema(example = "Acme Stock Sync", min_length = 1, max_length = 80, pattern = r"\S")]
    pub name: String,
}

/// A listing and its versions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Listing {
    /// Its slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The partner that owns it.
    pub partner: String,
    /// Its versions, oldest first.
    pub versions: Vec<VersionSummary>,
    /// Whether an approved version goes live at once, without the partner releasing it.
    #[serde(default)]
    pub auto_release: bool,
    /// This resource.
    pub url: String,
}

/// `PATCH /v1/listings/{slug}`: the listing's settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateListing {
    /// Release approved versions at once (`approved → published`), or leave it to the partner.
    pub auto_release: bool,
}

/// A version in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionSummary {
    /// The semver version.
    pub version: String,
    /// Its lifecycle state.
    pub state: String,
    /// The version's resource.
    pub url: String,
}

/// The answer to a submission: where to follow the review.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Submitted {
    /// The listing.
    pub slug: String,
    /// The version, as the manifest declares it.
    pub version: String,
    /// `submitted`: the review runs in the background.
    pub state: String,
    /// SHA-256 of the manifest, hex.
    pub digest: String,
    /// Poll this for the review.
    pub url: String,
}

/// A listing version with its latest review.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Version {
    /// The listing.
    pub slug: String,
    /// The semver version.
    pub version: String,
    /// Lifecycle state: `submitted`, `checking`, `changes_requested`, `awaiting_review`,
    /// `approved`, `published`, `deprecated`, `retired`, `rejected` or `withdrawn`.
    pub state: String,
    /// Whether a reviewer certified it.
    pub certified: bool,
    /// Bumped by every state change (also the `ETag`).
    pub revision: i64,
    /// SHA-256 of the manifest, hex.
    pub digest: String,
    /// `pass`, `fail` or `error` as of now (live waivers applied); `null` until reviewed.
    pub verdict: Option<String>,
    /// The latest review; `null` until one finished.
    pub review: Option<ReviewSummary>,
    /// Every check of the latest review with its outcome and resource usage.
    pub checks: Vec<CheckResult>,
    /// Every finding of the latest review, most severe first.
    pub findings: Vec<FindingDto>,
    /// Reviewer decisions, oldest first.
    pub decisions: Vec<DecisionDto>,
    /// The hold its review waits on, with the reason; `null` when it is not on hold.
    #[serde(default)]
    pub hold: Option<crate::conversation::HoldDto>,
    /// Where it stands in the review queue while it awaits a reviewer; `null` otherwise.
    #[serde(default)]
    pub review_queue: Option<crate::reviews::QueuePlace>,
    /// This resource.
    pub url: String,
}

/// Which pack reviewed a version, when, and what it decided then.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReviewSummary {
    /// The rule pack's name.
    pub pack: String,
    /// The rule pack's version.
    pub pack_version: String,
    /// When the review finished (RFC 3339).
    pub finished_at: String,
    /// The verdict recorded when it finished (before any later waiver).
    pub recorded_verdict: String,
}

/// One check run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckResult {
    /// The rule id (or the partner check's id).
    pub check_id: String,
    /// The component's SHA-256, hex.
    pub digest: String,
    /// The rule's version, when it could describe itself.
    pub rule_version: Option<String>,
    /// A platform rule (`true`) or the partner's own check.
    pub platform: bool,
    /// An integration check (world `integration-check`).
    #[serde(default)]
    pub integration: bool,
    /// `passed`, `findings`, `trapped`, `timed_out`, `out_of_memory`, `output_too_large`,
    /// `invalid_plugin`, `rule_error` or `budget_exceeded`.
    pub outcome: String,
    /// What to do about an outcome other than `passed` or `findings`.
    pub message: Option<String>,
    /// What it used.
    pub usage: Usage,
    /// An integration check's platform calls, in order (empty for rules).
    #[serde(default)]
    pub transcript: Vec<PlatformCallDto>,
}

/// One platform call of an integration check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlatformCallDto {
    /// The platform operation (a WIT function of `assay:plugin/platform`), e.g. `list-orders`.
    pub operation: String,
    /// The scope it needs, e.g. `read_orders`.
    pub scope: String,
    /// `ok`, `forbidden`, `not_found`, `invalid` or `budget_exhausted`.
    pub outcome: String,
    /// Bytes sent in its arguments.
    pub bytes_out: u64,
}

/// Resources one check used.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    /// Wall time, microseconds.
    pub wall_time_us: u64,
    /// Fuel consumed (deterministic: the same inputs use the same fuel).
    pub fuel: Option<u64>,
    /// Peak linear memory over all memories, bytes.
    pub peak_memory_bytes: u64,
    /// Bytes of findings returned.
    pub output_bytes: u64,
    /// Log bytes written.
    pub log_bytes: u64,
    /// Platform calls made (integration checks).
    #[serde(default)]
    pub platform_calls: u64,
    /// Bytes sent to the platform (integration checks).
    #[serde(default)]
    pub bytes_out: u64,
}

/// One finding.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FindingDto {
    /// The rule that reported it.
    pub rule_id: String,
    /// The check run that reported it.
    pub check_id: String,
    /// `info`, `warning`, `error` or `blocker`.
    pub severity: String,
    /// What is wrong.
    pub message: String,
    /// A JSON Pointer into the manifest.
    pub pointer: String,
    /// How to fix it.
    pub remediation: Option<String>,
    /// Where to read more.
    pub help_url: String,
    /// `platform` or `partner`.
    pub author: String,
    /// The id of the live waiver exempting it, if any.
    pub waived_by: Option<i64>,
}

/// A reviewer's decision as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionDto {
    /// Who decided (the audit log's name for their token).
    pub actor: String,
    /// `approve`, `request_changes`, `reject` or `certify`.
    pub action: String,
    /// Why.
    pub note: String,
}

/// The multipart form of `POST /v1/listings/{slug}/versions`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the form for OpenAPI; the handler reads the fields as a stream
pub struct SubmitForm {
    /// The `listing.toml`.
    #[schema(format = Binary, content_media_type = "application/toml")]
    manifest: String,
    /// Partner check components (`.wasm`), zero or more.
    #[schema(format = Binary, content_media_type = "application/wasm")]
    check: Vec<String>,
}
