//! Change notices, deprecation schedules, a partner's standing and a listing's timeline.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A change notice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Notice {
    /// Its id.
    pub id: i64,
    /// The listing it is about; absent for a platform notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<String>,
    /// `breaking`, `feature`, `fix`, `security` or `deprecation`.
    pub kind: String,
    /// What changes.
    pub summary: String,
    /// The day it takes effect (`YYYY-MM-DD`, UTC).
    pub effective: String,
    /// What the audience has to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_required: Option<String>,
    /// `merchants`, `partners` or `everyone`.
    pub audience: String,
    /// Who published it.
    pub author: String,
    /// When (RFC 3339).
    pub published_at: String,
}

/// What a notice announces: `breaking` (needs the policy's lead time, 30 days by default),
/// `feature`, `fix`, `security` or `deprecation`. On the wire a string; this type only names the
/// values for the OpenAPI document.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum NoticeKind {
    /// A change that breaks integrations.
    Breaking,
    /// Something new.
    Feature,
    /// A fix.
    Fix,
    /// A security fix.
    Security,
    /// A deprecation.
    Deprecation,
}

/// Who a notice is for: `merchants`, `partners` or `everyone`. On the wire a string.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Audience {
    /// The merchants who install the app.
    Merchants,
    /// Partners building on the platform.
    Partners,
    /// Both.
    Everyone,
}

/// How stable what is deprecated was: `ga` (12 months' notice by default), `beta` (9) or
/// `alpha` (none). On the wire a string.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Stability {
    /// Generally available.
    Ga,
    /// Beta.
    Beta,
    /// Alpha.
    Alpha,
}

/// `POST /v1/listings/{slug}/notices` and `POST /v1/notices`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNotice {
    /// What it announces; `breaking` needs the policy's lead time (30 days by default).
    #[schema(value_type = NoticeKind)]
    pub kind: String,
    /// What changes, 1 to 500 characters, not only spaces.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub summary: String,
    /// The day it takes effect, `YYYY-MM-DD` (UTC).
    #[schema(format = Date)]
    pub effective: String,
    /// What the audience has to do; required for `breaking` and `deprecation`.
    #[serde(default)]
    pub action_required: Option<String>,
    /// Who it is for: `merchants` is the default for a listing's notice, `partners` for a
    /// platform notice.
    #[serde(default)]
    #[schema(value_type = Option<Audience>)]
    pub audience: Option<String>,
}

/// A deprecation schedule.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Deprecation {
    /// Its id.
    pub id: i64,
    /// The listing whose versions it deprecates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<String>,
    /// The versions, a semver range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<String>,
    /// Or the platform API version it deprecates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `ga`, `beta` or `alpha`.
    pub stability: String,
    /// When it was announced (`YYYY-MM-DD`).
    pub announced: String,
    /// From when it is deprecated.
    pub deprecated_from: String,
    /// When it is retired.
    pub sunset: String,
    /// `announced`, `deprecated` or `sunset`, today.
    pub phase: String,
    /// Days from today to the sunset (negative after it).
    pub days_to_sunset: i64,
    /// The notice that announced it: `/v1/notices/{id}`.
    pub notice: String,
}

/// `POST /v1/deprecations`: a range of a listing's versions (`listing` + `versions`) or a
/// platform API version (`api_version`; staff only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeprecation {
    /// The listing whose versions are deprecated.
    #[serde(default)]
    #[schema(min_length = 3, max_length = 64, pattern = r"^[a-z][a-z0-9-]*[a-z0-9]$")]
    pub listing: Option<String>,
    /// The versions, a semver range (`<2.0.0`).
    #[serde(default)]
    pub versions: Option<String>,
    /// Or a platform API version (`2026-04`).
    #[serde(default)]
    pub api_version: Option<String>,
    /// How stable it was; `ga` by default.
    #[serde(default)]
    #[schema(value_type = Option<Stability>)]
    pub stability: Option<String>,
    /// When it is announced, `YYYY-MM-DD`; default today, never in the past.
    #[serde(default)]
    #[schema(format = Date)]
    pub announced: Option<String>,
    /// From when it is deprecated, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub deprecated_from: String,
    /// When it is retired, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub sunset: String,
    /// The announcing notice's summary, 1 to 500 characters, not only spaces.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub summary: String,
    /// What the audience has to do before the sunset.
    #[schema(min_length = 1, pattern = r"\S")]
    pub action_required: String,
}

/// `GET /v1/standing`: where the caller's listings stand, and every fix-by date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Standing {
    /// Per listing.
    pub listings: Vec<ListingStanding>,
    /// Every date by which something must be fixed or done, soonest first.
    pub fix_by: Vec<FixBy>,
    /// What the platform lets the partner do now (`list`, `checks`, `certify`).
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Whether the partner is suspended (nothing can be created or submitted).
    #[serde(default)]
    pub suspended: bool,
    /// The platform's decisions on the partner's capabilities, oldest first.
    #[serde(default)]
    pub capability_history: Vec<crate::people::CapabilityHistoryEntry>,
    /// The partner's exceptions to findings.
    #[serde(default)]
    pub exceptions: ExceptionSummary,
}

/// A partner's exceptions at a glance (the register has each: `GET /v1/exceptions`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ExceptionSummary {
    /// Granted and covering now.
    pub live: u32,
    /// Asked for and not decided yet.
    pub pending: u32,
    /// When the soonest live one lapses (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nearest_expiry: Option<String>,
}

/// One listing's standing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListingStanding {
    /// The listing.
    pub listing: String,
    /// Versions in front of merchants.
    pub live: Vec<String>,
    /// Versions sent back, with the rules that block them.
    pub blocked: Vec<BlockedVersion>,
    /// Deprecated versions and their sunsets.
    pub deprecated: Vec<DeprecatedVersion>,
    /// Versions on their way (submitted, checking, awaiting review).
    pub pending: Vec<String>,
}

/// A version sent back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlockedVersion {
    /// The version.
    pub version: String,
    /// The rules whose findings block it.
    pub rules: Vec<String>,
}

/// A deprecated version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeprecatedVersion {
    /// The version.
    pub version: String,
    /// Its sunset (`YYYY-MM-DD`), when a schedule gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sunset: Option<String>,
}

/// Something to fix or do by a date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FixBy {
    /// The date (`YYYY-MM-DD`).
    pub date: String,
    /// The listing; absent for the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<String>,
    /// `waiver`, `sunset` or `notice`.
    pub kind: String,
    /// What to do.
    pub what: String,
}

/// One event of a listing's timeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimelineEvent {
    /// When (RFC 3339).
    pub at: String,
    /// Who (`token:N`, `worker`, `scheduler`).
    pub actor: String,
    /// What, e.g. `version.submit`, `version.review`, `version.approve`, `waiver.grant`,
    /// `notice.publish`, `deprecation.schedule`, `version.retire`.
    pub action: String,
    /// The version, when the event is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Details: a decision's note, a verdict, a schedule's dates.
    pub detail: String,
}
