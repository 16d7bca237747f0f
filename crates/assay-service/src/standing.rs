//! Where a partner stands, and what happened to a listing: its timeline.

use assay_core::audit::AuditEvent;
use assay_core::deprecation::DeprecationTarget;
use assay_core::identity::Principal;
use assay_core::notice::NoticeKind;
use assay_core::{Severity, VersionState};
use jiff::civil::Date;

use crate::ServiceError;
use crate::access::{Permission, require};
use crate::service::Service;

/// A partner's standing: each listing's versions by what they mean for the partner, and every
/// date by which something must be fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// Per listing.
    pub listings: Vec<ListingStanding>,
    /// Every fix-by date, soonest first.
    pub fix_by: Vec<FixBy>,
    /// What the platform lets the partner do now.
    pub capabilities: Vec<assay_core::identity::Capability>,
    /// Whether the partner is suspended.
    pub suspended: bool,
    /// The decisions on its capabilities, oldest first.
    pub capability_history: Vec<crate::CapabilityEvent>,
    /// Its exceptions: live, waiting for a decision, and the soonest a live one lapses.
    pub exceptions: ExceptionSummary,
}

/// A partner's exceptions at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionSummary {
    /// Granted and covering now.
    pub live: usize,
    /// Asked for, not decided yet (including a blocker's first grant awaiting confirmation).
    pub pending: usize,
    /// When the soonest live one lapses (Unix seconds).
    pub nearest_expiry: Option<i64>,
}

/// One listing's standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingStanding {
    /// The listing.
    pub slug: String,
    /// Versions in front of merchants (approved or published).
    pub live: Vec<String>,
    /// Versions sent back, with the rules that block them (un-waived findings of severity
    /// `error` or worse; empty when a reviewer asked for changes without one).
    pub blocked: Vec<(String, Vec<String>)>,
    /// Deprecated versions, with their sunset when a schedule gives one.
    pub deprecated: Vec<(String, Option<Date>)>,
    /// Versions on their way (submitted, being checked, waiting for a reviewer).
    pub pending: Vec<String>,
}

/// Something to fix or do by a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixBy {
    /// The date.
    pub date: Date,
    /// The listing it concerns; `None` for the platform.
    pub listing: Option<String>,
    /// What: `waiver`, `sunset` or `notice`.
    pub kind: &'static str,
    /// What to do.
    pub what: String,
}

impl Service {
    /// The caller's standing (partners).
    pub async fn standing(&self, who: &Principal) -> Result<Standing, ServiceError> {
        require(who, Permission::SeeStanding)?;
        let today = self.today();
        let now = self.now();
        let mut listings = Vec::new();
        let mut fix_by = Vec::new();
        let deprecations = self.deprecations(who, None).await?;
        for listing in self.store.listings(who.partner).await? {
            let slug = listing.slug.clone();
            let mut standing = ListingStanding {
                slug: slug.clone(),
                live: Vec::new(),
                blocked: Vec::new(),
                deprecated: Vec::new(),
                pending: Vec::new(),
            };
            for (version, state) in &listing.versions {
                match state {
                    VersionState::Approved | VersionState::Published => standing.live.push(version.clone()),
                    VersionState::Deprecated => {
                        let sunset = self.deprecation_of(&slug, version).await?.map(|d| d.schedule.sunset);
                        standing.deprecated.push((version.clone(), sunset));
                    }
                    VersionState::ChangesRequested => {
                        let view = self.version(who, &slug, version).await?;
                        let mut rules: Vec<String> = view
                            .findings
                            .iter()
                            .filter(|f| f.waived_by.is_none() && f.finding.severity >= Severity::Error)
                            .map(|f| f.finding.rule_id.clone())
                            .collect();
                        rules.sort();
                        rules.dedup();
                        standing.blocked.push((version.clone(), rules));
                    }
                    VersionState::Submitted | VersionState::Checking | VersionState::AwaitingReview => {
                        standing.pending.push(version.clone());
                    }
                    VersionState::Retired | VersionState::Rejected | VersionState::Withdrawn => {}
                }
            }
            for waiver in self.store.waivers(&slug).await? {
                if waiver.waiver.expires_at > now {
                    let date = jiff::Timestamp::from_second(waiver.waiver.expires_at)
                        .map_or(today, |t| t.to_zoned(jiff::tz::TimeZone::UTC).date());
                    fix_by.push(FixBy {
                        date,
                        listing: Some(slug.clone()),
                        kind: "waiver",
                        what: format!(
                            "the waiver of `{}` for {} expires: fix its findings by then",
                            waiver.waiver.rule_id, waiver.waiver.versions
                        ),
                    });
                }
            }
            for notice in self.store.notices(Some(&slug), None).await? {
                if notice.kind == NoticeKind::Breaking && notice.effective >= today {
                    let action = notice.action_required.unwrap_or_default();
                    fix_by.push(FixBy {
                        date: notice.effective,
                        listing: Some(slug.clone()),
                        kind: "notice",
                        what: format!("{} takes effect: {action}", notice.summary),
                    });
                }
            }
            listings.push(standing);
        }
        for d in deprecations.iter().filter(|d| d.schedule.sunset > today) {
            let (listing, what) = match &d.target {
                DeprecationTarget::Listing { slug, versions } => {
                    (Some(slug.clone()), format!("versions {versions} of `{slug}` are retired at the sunset"))
                }
                DeprecationTarget::ApiVersion(api) => {
                    (None, format!("platform API {api} is retired at the sunset: move listings that target it"))
                }
            };
            fix_by.push(FixBy { date: d.schedule.sunset, listing, kind: "sunset", what });
        }
        for notice in self.store.notices(None, None).await? {
            if notice.kind == NoticeKind::Breaking && notice.effective >= today {
                let action = notice.action_required.unwrap_or_default();
                fix_by.push(FixBy {
                    date: notice.effective,
                    listing: None,
                    kind: "notice",
                    what: format!("{} takes effect: {action}", notice.summary),
                });
            }
        }
        fix_by.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.listing.cmp(&b.listing)));
        let partner = match who.partner {
            Some(id) => self.store.partner(id).await?,
            None => None,
        };
        let capability_history = match &partner {
            Some(p) => self.capability_history(who, &p.name).await?,
            None => Vec::new(),
        };
        let mut exceptions = ExceptionSummary::default();
        if let Some(partner) = who.partner {
            let filter = assay_store::ExceptionFilter { partner: Some(partner), ..Default::default() };
            for e in self.store.exceptions(&filter).await? {
                match e.status(now) {
                    "live" => {
                        exceptions.live += 1;
                        let until = e.granted_expires_at.unwrap_or(e.expires_at);
                        exceptions.nearest_expiry = Some(exceptions.nearest_expiry.map_or(until, |n| n.min(until)));
                    }
                    "requested" | "confirming" => exceptions.pending += 1,
                    _ => {}
                }
            }
        }
        Ok(Standing {
            listings,
            fix_by,
            exceptions,
            capabilities: partner.as_ref().map(|p| p.capabilities.clone()).unwrap_or_default(),
            suspended: partner.is_some_and(|p| p.suspended_at.is_some()),
            capability_history,
        })
    }

    /// A listing's timeline: every recorded event about it and its versions, oldest first
    /// (submissions, reviews, decisions, waivers, notices, deprecations, retirements).
    pub async fn timeline(&self, who: &Principal, slug: &str) -> Result<Vec<AuditEvent>, ServiceError> {
        self.listing(who, slug).await?;
        Ok(self.store.listing_events(slug).await?)
    }
}
