//! Rows as the rest of assay sees them.

use assay_core::VersionState;
pub use assay_core::identity::{Capability, JobId, ListingId, PartnerId, Principal, Role, VersionId};

/// A listing version as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    /// Its id.
    pub id: VersionId,
    /// The listing it belongs to.
    pub listing: ListingId,
    /// The listing's slug.
    pub slug: String,
    /// The declared version.
    pub version: String,
    /// The `listing.toml` as submitted.
    pub manifest: String,
    /// SHA-256 of the manifest, hex.
    pub digest: String,
    /// Where it is in its life.
    pub state: VersionState,
    /// Bumped by every transition; what `ETag`s are made of.
    pub revision: i64,
    /// Whether a reviewer certified it.
    pub certified: bool,
}

/// Capabilities as one stored column: names, sorted, comma-separated.
pub(crate) fn encode_capabilities(capabilities: &[Capability]) -> String {
    let mut names: Vec<_> = capabilities.iter().map(|c| c.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

/// The stored column back as capabilities (unknown names are skipped).
pub(crate) fn decode_capabilities(text: &str) -> Vec<Capability> {
    text.split(',').filter_map(|name| name.parse().ok()).collect()
}
