//! The active rule pack's rules and their documentation: public, no token needed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /v1/rules`: the rules new reviews run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleCatalogue {
    /// The active pack's name.
    pub pack: String,
    /// Its version.
    pub version: String,
    /// SHA-256 over its `pack.toml` and components, hex: what `assay rules pull` fetches by.
    pub digest: String,
    /// Its rules, in the pack's order. `docs` is left out here; read one rule for it.
    pub rules: Vec<RuleSummary>,
}

/// One rule of the active pack.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleSummary {
    /// The stable rule id findings carry, e.g. `urls.https`.
    pub id: String,
    /// Its short name.
    pub name: String,
    /// The rule's own semver.
    pub version: String,
    /// The severity of its findings under this pack.
    #[schema(examples("error"))]
    pub severity: String,
    /// Whether the pack runs it.
    pub enabled: bool,
    /// What it checks and why, in a paragraph.
    pub description: String,
    /// Where its findings link to: the console's page for the rule unless the rule names its own.
    pub help_url: String,
    /// Whether the pack ships long-form documentation for it.
    pub documented: bool,
}

/// `GET /v1/rules/{id}`: a rule with its long-form documentation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RuleDocs {
    /// The rule.
    #[serde(flatten)]
    pub rule: RuleSummary,
    /// The active pack it belongs to, `name@version`.
    pub pack: String,
    /// The long-form documentation (CommonMark): what, why (with the guideline it implements),
    /// how to fix, a failing and a passing example. Absent when the pack ships none.
    pub docs: Option<String>,
}

/// `GET /v1/rules/pack`: the active pack as files, for `assay rules pull`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RulePackFiles {
    /// The pack's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// SHA-256 over `manifest` and then each component's SHA-256 (hex), in the manifest's order:
    /// recompute it to verify what arrived.
    pub digest: String,
    /// `pack.toml` as written.
    pub manifest: String,
    /// Each file `pack.toml` names: the components, then the rules' documentation.
    pub files: Vec<PackFile>,
}

/// One file of a pack.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackFile {
    /// Its name in the pack.
    pub name: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Its bytes, base64 (standard alphabet, padded).
    #[schema(format = Byte)]
    pub content: String,
}

/// `GET /v1/listings/{slug}/check-context`: what `assay check --server` needs to decide a
/// listing exactly as the service would.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckContext {
    /// The listing.
    pub slug: String,
    /// The active pack, `name`, `version` and `digest` as in `GET /v1/rules`.
    pub pack: ActivePackRef,
    /// The listing's last approved version: what a new version is compared with.
    pub previous: Option<PreviousVersion>,
    /// The listing's live waivers (granted exceptions included): the findings they cover do not
    /// block.
    pub waivers: Vec<crate::reviews::Waiver>,
}

/// A pack by name, version and digest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActivePackRef {
    /// The pack's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its digest.
    pub digest: String,
}

/// An approved version's manifest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PreviousVersion {
    /// The version.
    pub version: String,
    /// Its `listing.toml` as submitted.
    pub manifest: String,
}
