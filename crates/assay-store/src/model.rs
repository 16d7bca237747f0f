//! Rows as the rest of assay sees them.

pub use assay_core::identity::{Capability, JobId, ListingId, PartnerId, Principal, Role, VersionId};
pub use assay_core::listing::VersionRecord;

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
