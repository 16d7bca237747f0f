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

/// Whether every version `narrower` matches, `wider` matches too: a grant may cover fewer
/// versions than were asked for, never more. Decided on the ranges' intervals; a `narrower`
/// that names a prerelease must be `wider` itself (a prerelease comparator lets prereleases
/// in that the interval does not show), so the answer errs towards "no".
pub fn range_within(narrower: &VersionReq, wider: &VersionReq) -> bool {
    if narrower == wider {
        return true;
    }
    if narrower.comparators.iter().any(|c| !c.pre.is_empty()) {
        return false;
    }
    let (n, w) = (Interval::of(narrower), Interval::of(wider));
    let lower_ok = match (&n.lower, &w.lower) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some((nv, ni)), Some((wv, wi))) => nv > wv || (nv == wv && (!ni || *wi)),
    };
    let upper_ok = match (&n.upper, &w.upper) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some((nv, ni)), Some((wv, wi))) => nv < wv || (nv == wv && (!ni || *wi)),
    };
    lower_ok && upper_ok
}

/// The versions a range's comparators allow, as one interval: each bound a version and
/// whether it is included; `None` is unbounded.
struct Interval {
    lower: Option<(Version, bool)>,
    upper: Option<(Version, bool)>,
}

impl Interval {
    fn of(req: &VersionReq) -> Interval {
        let mut out = Interval { lower: None, upper: None };
        for c in &req.comparators {
            let (lower, upper) = comparator_bounds(c);
            if let Some(l) = lower
                && out.lower.as_ref().is_none_or(|o| l.0 > o.0 || (l.0 == o.0 && !l.1))
            {
                out.lower = Some(l);
            }
            if let Some(u) = upper
                && out.upper.as_ref().is_none_or(|o| u.0 < o.0 || (u.0 == o.0 && !u.1))
            {
                out.upper = Some(u);
            }
        }
        out
    }
}

type Bound = Option<(Version, bool)>;

/// One comparator's bounds (semver's cargo semantics: `1.4` is `>=1.4.0, <1.5.0`, `^0.4` is
/// `>=0.4.0, <0.5.0`, and so on).
fn comparator_bounds(c: &semver::Comparator) -> (Bound, Bound) {
    use semver::Op;
    let v = |major: u64, minor: u64, patch: u64| Version::new(major, minor, patch);
    let (major, minor, patch) = (c.major, c.minor, c.patch);
    let mut floor = v(major, minor.unwrap_or(0), patch.unwrap_or(0));
    floor.pre = c.pre.clone();
    // The first version past a partial one: `1` → 2.0.0, `1.4` → 1.5.0, `1.4.2` → 1.4.3.
    let past = match (minor, patch) {
        (None, _) => v(major + 1, 0, 0),
        (Some(minor), None) => v(major, minor + 1, 0),
        (Some(minor), Some(patch)) => v(major, minor, patch + 1),
    };
    match c.op {
        Op::Exact | Op::Wildcard => match (minor, patch) {
            (Some(_), Some(_)) => (Some((floor.clone(), true)), Some((floor, true))),
            _ => (Some((floor, true)), Some((past, false))),
        },
        Op::Greater => match (minor, patch) {
            (Some(_), Some(_)) => (Some((floor, false)), None),
            _ => (Some((past, true)), None),
        },
        Op::GreaterEq => (Some((floor, true)), None),
        Op::Less => (None, Some((floor, false))),
        Op::LessEq => match (minor, patch) {
            (Some(_), Some(_)) => (None, Some((floor, true))),
            _ => (None, Some((past, false))),
        },
        Op::Tilde => {
            let upper = match minor {
                None => v(major + 1, 0, 0),
                Some(minor) => v(major, minor + 1, 0),
            };
            (Some((floor, true)), Some((upper, false)))
        }
        Op::Caret => {
            let upper = match (major, minor, patch) {
                (0, None, _) => v(1, 0, 0),
                (0, Some(0), None) => v(0, 1, 0),
                (0, Some(0), Some(patch)) => v(0, 0, patch + 1),
                (0, Some(minor), _) => v(0, minor + 1, 0),
                (major, _, _) => v(major + 1, 0, 0),
            };
            (Some((floor, true)), Some((upper, false)))
        }
        // A future operator: claim nothing about it, so no range counts as within.
        _ => (Some((Version::new(u64::MAX, u64::MAX, u64::MAX), false)), Some((Version::new(0, 0, 0), false))),
    }
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

    #[test]
    fn a_range_is_within_another_only_when_it_covers_no_more() {
        let within = |n: &str, w: &str| range_within(&n.parse().unwrap(), &w.parse().unwrap());
        assert!(within("^1.4", "^1.4"));
        assert!(within("=1.4.0", "^1.4"));
        assert!(within("~1.4", "^1.4"));
        assert!(within(">=1.4.2, <1.6.0", ">=1.4.0, <2.0.0"));
        assert!(within("=1.4", ">=1.4.0, <1.5.0"), "`=1.4` is 1.4.x");
        assert!(!within("1.4", ">=1.4.0, <1.5.0"), "a bare `1.4` is `^1.4`");
        assert!(within("^0.4.2", ">=0.4.0, <0.5.0"));
        assert!(within("<=1.4.9", "<1.5.0"));
        assert!(within("=1.4.0", "*"));
        assert!(!within("^1", "^1.4"), "1.0.0 to 1.3.x were not asked for");
        assert!(!within("*", "^1.4"));
        assert!(!within(">=1.4.0", "^1.4"), "no upper bound is wider");
        assert!(!within("<=1.5.0", "<1.5.0"), "1.5.0 itself");
        assert!(!within(">1.3", ">=1.4.1"), "`>1.3` is >=1.4.0");
        assert!(!within("^0.4", "^0.4.2"));
        assert!(!within("=1.5.0-rc.1", "^1.4"), "a prerelease the asked range does not match");
        assert!(within(">=1.4.0-rc.1, <2.0.0", ">=1.4.0-rc.1, <2.0.0"), "the same range");
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
