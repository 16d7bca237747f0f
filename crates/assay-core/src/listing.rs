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
    /// Whether an approved version goes live at once (`approved → published`), without the
    /// partner releasing it.
    pub auto_release: bool,
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
    /// The reviewer who claimed it or was assigned it.
    pub assignee: Option<String>,
    /// The hold it waits on: its reason, and since when.
    pub hold: Option<(String, i64)>,
    /// Seconds on holds released since it started waiting.
    pub held_secs: i64,
}

impl QueueEntry {
    /// Seconds on hold since it started waiting, up to `now` if it is on hold.
    pub fn held_for(&self, now: i64) -> i64 {
        self.held_secs + self.hold.as_ref().map_or(0, |(_, since)| (now - since).max(0))
    }

    /// When its review is due: `target_days` business days after it started waiting, plus
    /// the time it spent on hold.
    pub fn due_at(&self, target_days: u32, now: i64) -> i64 {
        add_business_days(self.waiting_since, target_days) + self.held_for(now)
    }
}

const DAY: i64 = 86_400;

/// Whether Unix time `t` falls on a Saturday or Sunday (UTC). 1970-01-01 was a Thursday.
fn weekend(t: i64) -> bool {
    (t.div_euclid(DAY) + 3).rem_euclid(7) >= 5
}

/// `days` business days (Monday to Friday, UTC) after `start`: a start on a weekend counts
/// from the Monday after.
pub fn add_business_days(start: i64, days: u32) -> i64 {
    let mut t = start;
    if weekend(t) {
        t = t.div_euclid(DAY) * DAY;
        while weekend(t) {
            t += DAY;
        }
    }
    let mut left = days;
    while left > 0 {
        t += DAY;
        if !weekend(t) {
            left -= 1;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-04 was a Friday.
    const FRIDAY_10: i64 = 1_796_378_400;

    #[test]
    fn business_days_skip_weekends() {
        assert!(!weekend(FRIDAY_10) && weekend(FRIDAY_10 + DAY) && weekend(FRIDAY_10 + 2 * DAY));
        assert_eq!(add_business_days(FRIDAY_10, 0), FRIDAY_10);
        assert_eq!(add_business_days(FRIDAY_10, 1), FRIDAY_10 + 3 * DAY, "Monday 10:00");
        assert_eq!(add_business_days(FRIDAY_10, 5), FRIDAY_10 + 7 * DAY, "the next Friday");
        // Saturday afternoon counts from Monday 00:00: five business days end on Monday.
        let saturday = FRIDAY_10 + DAY + 5 * 3600;
        let monday = FRIDAY_10 - 10 * 3600 + 3 * DAY;
        assert_eq!(add_business_days(saturday, 5), monday + 7 * DAY);
    }

    #[test]
    fn holds_push_the_due_date() {
        let entry = QueueEntry {
            id: VersionId(1),
            slug: "a".into(),
            version: "1.0.0".into(),
            partner_name: "acme".into(),
            waiting_since: FRIDAY_10,
            verdict: None,
            assignee: None,
            hold: Some(("waiting for a test account".into(), FRIDAY_10 + 3600)),
            held_secs: 600,
        };
        let now = FRIDAY_10 + 7200;
        assert_eq!(entry.held_for(now), 600 + 3600);
        assert_eq!(entry.due_at(5, now), FRIDAY_10 + 7 * DAY + 4200);
    }
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
