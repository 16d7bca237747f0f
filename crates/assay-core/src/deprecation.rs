//! Deprecation schedules for listing versions and platform API versions, and the minimum-notice
//! policy they must keep (modelled on Kubernetes' deprecation policy: a GA API is announced at
//! least 12 months before it goes away, a beta one 9 months).

use jiff::Span;
use jiff::civil::Date;

use crate::policy::{PolicyViolation, days_between};

/// How stable the deprecated thing was declared to be; decides the minimum notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stability {
    /// Generally available: the longest notice.
    Ga,
    /// Beta.
    Beta,
    /// Alpha: no promise, no minimum notice.
    Alpha,
}

impl Stability {
    /// Every level.
    pub const ALL: [Stability; 3] = [Stability::Ga, Stability::Beta, Stability::Alpha];

    /// The name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Stability::Ga => "ga",
            Stability::Beta => "beta",
            Stability::Alpha => "alpha",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Stability::Ga => "a GA",
            Stability::Beta => "a beta",
            Stability::Alpha => "an alpha",
        }
    }
}

crate::policy::named!(Stability, "stability level");

/// Minimum notice, from announcement to sunset, per stability level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeprecationPolicy {
    /// Months for GA. Default 12.
    pub ga_months: i64,
    /// Months for beta. Default 9.
    pub beta_months: i64,
    /// Months for alpha. Default 0.
    pub alpha_months: i64,
}

impl Default for DeprecationPolicy {
    fn default() -> Self {
        DeprecationPolicy { ga_months: 12, beta_months: 9, alpha_months: 0 }
    }
}

impl DeprecationPolicy {
    /// The minimum notice for `stability`, in months.
    pub fn months(&self, stability: Stability) -> i64 {
        match stability {
            Stability::Ga => self.ga_months,
            Stability::Beta => self.beta_months,
            Stability::Alpha => self.alpha_months,
        }
    }
}

/// The three dates of a deprecation (UTC days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// When it is announced (the notice goes out).
    pub announced: Date,
    /// From when it is deprecated: still served, flagged everywhere.
    pub deprecated_from: Date,
    /// When it is retired.
    pub sunset: Date,
}

/// Where a schedule stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Announced, not deprecated yet.
    Announced,
    /// Deprecated; the sunset is ahead.
    Deprecated,
    /// The sunset has passed: retire.
    Sunset,
}

impl Schedule {
    /// The phase on `today`.
    pub fn phase(&self, today: Date) -> Phase {
        if today >= self.sunset {
            Phase::Sunset
        } else if today >= self.deprecated_from {
            Phase::Deprecated
        } else {
            Phase::Announced
        }
    }

    /// Days from `today` to the sunset (0 on the day, negative after).
    pub fn days_to_sunset(&self, today: Date) -> i64 {
        days_between(today, self.sunset)
    }
}

/// Check a schedule created `today` for something of `stability`; the first rule it breaks.
pub fn check(
    schedule: &Schedule,
    stability: Stability,
    today: Date,
    policy: &DeprecationPolicy,
) -> Result<(), PolicyViolation> {
    let Schedule { announced, deprecated_from, sunset } = *schedule;
    if announced < today {
        return Err(PolicyViolation::new(
            "deprecation.announced-in-the-past",
            "/announced",
            format!("a deprecation cannot be announced in the past: {announced} is before today, {today}"),
        ));
    }
    if deprecated_from < announced {
        return Err(PolicyViolation::new(
            "deprecation.order",
            "/deprecated_from",
            format!("deprecated-from ({deprecated_from}) must not be before the announcement ({announced})"),
        ));
    }
    if sunset <= deprecated_from {
        return Err(PolicyViolation::new(
            "deprecation.order",
            "/sunset",
            format!("the sunset ({sunset}) must come after deprecated-from ({deprecated_from})"),
        ));
    }
    let months = policy.months(stability);
    let earliest = announced.saturating_add(Span::new().months(months));
    if sunset < earliest {
        let notice = days_between(announced, sunset);
        return Err(PolicyViolation::new(
            "deprecation.minimum-notice",
            "/sunset",
            format!(
                "{} version needs at least {months} months from announcement to sunset; announced {announced} with \
                 sunset {sunset} gives {notice} days; the earliest allowed sunset is {earliest}",
                stability.label()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn schedule(announced: Date, deprecated_from: Date, sunset: Date) -> Schedule {
        Schedule { announced, deprecated_from, sunset }
    }

    #[test]
    fn the_minimum_notice_depends_on_stability() {
        let today = date(2026, 11, 30);
        let policy = DeprecationPolicy::default();
        let s = schedule(today, date(2027, 1, 1), date(2027, 11, 30));
        assert_eq!(check(&s, Stability::Ga, today, &policy), Ok(()));
        let short = schedule(today, date(2027, 1, 1), date(2027, 9, 1));
        let refused = check(&short, Stability::Ga, today, &policy).unwrap_err();
        assert_eq!(refused.rule, "deprecation.minimum-notice");
        assert_eq!(
            refused.message,
            "a GA version needs at least 12 months from announcement to sunset; announced 2026-11-30 with sunset \
             2027-09-01 gives 275 days; the earliest allowed sunset is 2027-11-30"
        );
        assert_eq!(check(&short, Stability::Beta, today, &policy), Ok(()), "9 months is enough for beta");
        let soon = schedule(today, today, date(2026, 12, 1));
        assert_eq!(check(&soon, Stability::Alpha, today, &policy), Ok(()));
        assert_eq!(check(&soon, Stability::Ga, today, &DeprecationPolicy { ga_months: 0, ..policy }), Ok(()));
    }

    #[test]
    fn dates_must_be_in_order_and_not_in_the_past() {
        let today = date(2026, 11, 30);
        let policy = DeprecationPolicy::default();
        let rule = |s: Schedule| check(&s, Stability::Alpha, today, &policy).unwrap_err().rule;
        assert_eq!(rule(schedule(date(2026, 11, 1), today, date(2027, 1, 1))), "deprecation.announced-in-the-past");
        assert_eq!(rule(schedule(date(2026, 12, 10), date(2026, 12, 1), date(2027, 1, 1))), "deprecation.order");
        assert_eq!(rule(schedule(today, date(2027, 1, 1), date(2027, 1, 1))), "deprecation.order");
    }

    #[test]
    fn phases_follow_the_dates() {
        let s = schedule(date(2026, 11, 30), date(2027, 1, 1), date(2027, 12, 1));
        assert_eq!(s.phase(date(2026, 12, 31)), Phase::Announced);
        assert_eq!(s.phase(date(2027, 1, 1)), Phase::Deprecated);
        assert_eq!(s.phase(date(2027, 11, 30)), Phase::Deprecated);
        assert_eq!(s.phase(date(2027, 12, 1)), Phase::Sunset);
        assert_eq!(s.days_to_sunset(date(2027, 11, 24)), 7);
        assert_eq!(s.days_to_sunset(date(2027, 12, 2)), -1);
    }

    #[test]
    fn months_are_calendar_months() {
        // 12 months after 2027-02-28 is 2028-02-28; after 2028-02-29 it is 2029-02-28.
        let policy = DeprecationPolicy::default();
        let leap = schedule(date(2028, 2, 29), date(2028, 3, 1), date(2029, 2, 28));
        assert_eq!(check(&leap, Stability::Ga, date(2028, 2, 29), &policy), Ok(()));
    }
}

/// What a deprecation schedule is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeprecationTarget {
    /// A range of a listing's versions.
    Listing {
        /// The listing.
        slug: String,
        /// The versions, a semver requirement.
        versions: semver::VersionReq,
    },
    /// A platform API version (e.g. `2026-04`).
    ApiVersion(String),
}

/// A deprecation schedule as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeprecationRecord {
    /// Its id.
    pub id: i64,
    /// What is deprecated.
    pub target: DeprecationTarget,
    /// How stable it was declared.
    pub stability: Stability,
    /// Its dates.
    pub schedule: Schedule,
    /// The notice that announced it.
    pub notice_id: i64,
    /// Who scheduled it.
    pub author: String,
    /// When, seconds since the Unix epoch.
    pub created_at: i64,
}
