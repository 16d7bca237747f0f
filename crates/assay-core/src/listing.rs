//! Listings, their versions and the review queue, as callers read them.

use crate::VersionState;
use crate::identity::{ListingId, PartnerId, VersionId};
use crate::outcome::Verdict;

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

/// A listing with its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingRecord {
    /// Its id.
    pub id: ListingId,
    /// Its slug.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// The partner that owns it.
    pub partner: PartnerId,
    /// That partner's name.
    pub partner_name: String,
    /// Its versions, oldest first: version and state.
    pub versions: Vec<(String, VersionState)>,
}

/// A version waiting for a reviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// The version's id (with `waiting_since`, the queue's page cursor).
    pub id: VersionId,
    /// The listing's slug.
    pub slug: String,
    /// The version.
    pub version: String,
    /// The owning partner's name.
    pub partner_name: String,
    /// Since when it has waited (its last state change), seconds since the Unix epoch.
    pub waiting_since: i64,
    /// The verdict of its latest review.
    pub verdict: Option<Verdict>,
}

/// A reviewer's decision on a version, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Who decided (the audit log's name for them).
    pub actor: String,
    /// `approve`, `request_changes`, `reject` or `certify`.
    pub action: String,
    /// Why.
    pub note: String,
}
