//! Change notices: what a partner (or the platform) tells the people a change affects, and the
//! lead-time policy a notice must keep.

use jiff::civil::Date;

use crate::policy::{PolicyViolation, days_between};

/// What kind of change a notice announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// Something that worked stops working, or works differently: needs lead time.
    Breaking,
    /// Something new.
    Feature,
    /// Something fixed.
    Fix,
    /// A security fix or advisory.
    Security,
    /// Something will go away (a deprecation schedule's notice).
    Deprecation,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: [NoticeKind; 5] =
        [NoticeKind::Breaking, NoticeKind::Feature, NoticeKind::Fix, NoticeKind::Security, NoticeKind::Deprecation];

    /// The name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Breaking => "breaking",
            NoticeKind::Feature => "feature",
            NoticeKind::Fix => "fix",
            NoticeKind::Security => "security",
            NoticeKind::Deprecation => "deprecation",
        }
    }
}

/// Who a notice is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Merchants who installed the app.
    Merchants,
    /// Partners building on the platform (platform notices).
    Partners,
    /// Everyone.
    Everyone,
}

impl Audience {
    /// Every audience.
    pub const ALL: [Audience; 3] = [Audience::Merchants, Audience::Partners, Audience::Everyone];

    /// The name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Merchants => "merchants",
            Audience::Partners => "partners",
            Audience::Everyone => "everyone",
        }
    }
}

crate::policy::named!(NoticeKind, "notice kind");
crate::policy::named!(Audience, "notice audience");

/// A notice as its author writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDraft {
    /// What kind of change.
    pub kind: NoticeKind,
    /// One or two sentences: what changes.
    pub summary: String,
    /// The day the change takes effect (UTC).
    pub effective: Date,
    /// What the audience has to do, if anything. Required for breaking and deprecation notices.
    pub action_required: Option<String>,
    /// Who it is for.
    pub audience: Audience,
}

/// The lead-time policy for notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticePolicy {
    /// Days a breaking notice must be published before it takes effect. Default 30.
    pub breaking_lead_days: i64,
}

impl Default for NoticePolicy {
    fn default() -> Self {
        NoticePolicy { breaking_lead_days: 30 }
    }
}

/// The longest summary, in characters.
pub const MAX_SUMMARY: usize = 500;

/// Check a notice published `today` against `policy`; the first rule it breaks.
pub fn check(draft: &NoticeDraft, today: Date, policy: &NoticePolicy) -> Result<(), PolicyViolation> {
    let summary = draft.summary.trim();
    if summary.is_empty() || summary.chars().count() > MAX_SUMMARY {
        return Err(PolicyViolation::new(
            "notice.summary",
            "/summary",
            format!("a notice needs a summary of 1 to {MAX_SUMMARY} characters"),
        ));
    }
    let needs_action = matches!(draft.kind, NoticeKind::Breaking | NoticeKind::Deprecation);
    if needs_action && draft.action_required.as_deref().is_none_or(|a| a.trim().is_empty()) {
        return Err(PolicyViolation::new(
            "notice.action-required",
            "/action_required",
            format!("a {} notice must say what its audience has to do", draft.kind),
        ));
    }
    if draft.kind == NoticeKind::Breaking {
        let lead = days_between(today, draft.effective);
        let needed = policy.breaking_lead_days;
        if lead < needed {
            let earliest = today.saturating_add(jiff::Span::new().days(needed));
            return Err(PolicyViolation::new(
                "notice.breaking-lead-time",
                "/effective",
                format!(
                    "a breaking notice must be published at least {needed} days before it takes effect; this one \
                     takes effect on {} ({lead} days from today, {today}); the earliest allowed date is {earliest}",
                    draft.effective
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn draft(kind: NoticeKind, effective: Date) -> NoticeDraft {
        NoticeDraft {
            kind,
            summary: "Orders sync every minute instead of every five.".into(),
            effective,
            action_required: Some("Nothing.".into()),
            audience: Audience::Merchants,
        }
    }

    #[test]
    fn a_breaking_notice_needs_the_lead_time() {
        let today = date(2026, 11, 30);
        let policy = NoticePolicy::default();
        assert_eq!(check(&draft(NoticeKind::Breaking, date(2026, 12, 30)), today, &policy), Ok(()));
        let short = check(&draft(NoticeKind::Breaking, date(2026, 12, 12)), today, &policy).unwrap_err();
        assert_eq!(short.rule, "notice.breaking-lead-time");
        assert_eq!(
            short.message,
            "a breaking notice must be published at least 30 days before it takes effect; this one takes effect \
             on 2026-12-12 (12 days from today, 2026-11-30); the earliest allowed date is 2026-12-30"
        );
        // Other kinds may take effect at once.
        assert_eq!(check(&draft(NoticeKind::Fix, today), today, &policy), Ok(()));
        assert_eq!(check(&draft(NoticeKind::Breaking, today), today, &NoticePolicy { breaking_lead_days: 0 }), Ok(()));
    }

    #[test]
    fn breaking_and_deprecation_notices_say_what_to_do() {
        let today = date(2026, 11, 30);
        for kind in [NoticeKind::Breaking, NoticeKind::Deprecation] {
            let mut d = draft(kind, date(2027, 6, 1));
            d.action_required = Some("  ".into());
            assert_eq!(check(&d, today, &NoticePolicy::default()).unwrap_err().rule, "notice.action-required");
        }
        let mut d = draft(NoticeKind::Feature, today);
        d.action_required = None;
        assert_eq!(check(&d, today, &NoticePolicy::default()), Ok(()));
        d.summary = " ".into();
        assert_eq!(check(&d, today, &NoticePolicy::default()).unwrap_err().pointer, "/summary");
    }

    #[test]
    fn names_round_trip() {
        for kind in NoticeKind::ALL {
            assert_eq!(kind.as_str().parse::<NoticeKind>(), Ok(kind));
        }
        assert_eq!(
            "urgent".parse::<NoticeKind>().unwrap_err(),
            "`urgent` is not a notice kind; use one of: breaking, feature, fix, security, deprecation"
        );
        assert_eq!("partners".parse::<Audience>(), Ok(Audience::Partners));
    }
}

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    /// Its id.
    pub id: i64,
    /// The listing's slug; `None` for a platform notice.
    pub slug: Option<String>,
    /// What kind of change.
    pub kind: NoticeKind,
    /// What changes.
    pub summary: String,
    /// The day it takes effect.
    pub effective: Date,
    /// What the audience has to do.
    pub action_required: Option<String>,
    /// Who it is for.
    pub audience: Audience,
    /// Who published it.
    pub author: String,
    /// When, seconds since the Unix epoch.
    pub created_at: i64,
}
