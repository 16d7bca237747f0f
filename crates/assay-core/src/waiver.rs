//! Waivers: a reviewer's recorded exception to one rule for a range of a listing's versions.
//!
//! A waiver is live from the moment it is granted until it expires; an expired waiver simply
//! stops covering, so its finding counts again (it "re-opens") the next time a verdict is
//! decided. Exceptions are records with an approver and a justification, never side deals.

use semver::{Version, VersionReq};

/// One waiver, as the verdict needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// The store's id for it (shown next to each finding it covers).
    pub id: i64,
    /// The rule it exempts, e.g. `urls.https`.
    pub rule_id: String,
    /// The listing versions it covers, e.g. `>=1.2.0, <2.0.0`.
    pub versions: VersionReq,
    /// When it stops covering, in seconds since the Unix epoch.
    pub expires_at: i64,
}

impl Waiver {
    /// Whether this waiver exempts a finding of `rule_id` on listing `version` at time `now`.
    pub fn covers(&self, rule_id: &str, version: &Version, now: i64) -> bool {
        self.rule_id == rule_id && now < self.expires_at && self.versions.matches(version)
    }
}

/// The first of `waivers` that covers a finding of `rule_id` on `version` at `now`.
pub fn find<'a>(waivers: &'a [Waiver], rule_id: &str, version: &Version, now: i64) -> Option<&'a Waiver> {
    waivers.iter().find(|w| w.covers(rule_id, version, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiver(rule: &str, versions: &str, expires_at: i64) -> Waiver {
        Waiver { id: 1, rule_id: rule.into(), versions: versions.parse().unwrap(), expires_at }
    }

    #[test]
    fn a_waiver_covers_its_rule_and_range_until_it_expires() {
        let w = waiver("urls.https", ">=1.0.0, <2.0.0", 100);
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(w.covers("urls.https", &v("1.4.0"), 99));
        assert!(!w.covers("urls.https", &v("1.4.0"), 100), "expired at its expiry instant");
        assert!(!w.covers("urls.https", &v("2.0.0"), 0), "outside the range");
        assert!(!w.covers("copy.shouting", &v("1.4.0"), 0), "another rule");
        // semver 2.0: a prerelease only matches a range that names a prerelease of that version.
        assert!(!w.covers("urls.https", &v("1.5.0-rc.1"), 0));
    }
}

/// A waiver as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverRecord {
    /// What the verdict needs.
    pub waiver: Waiver,
    /// The listing's slug.
    pub slug: String,
    /// Why.
    pub justification: String,
    /// Who granted it (the audit log's name for the reviewer).
    pub approver: String,
    /// When, seconds since the Unix epoch.
    pub created_at: i64,
}
