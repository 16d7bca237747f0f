//! Change notices, deprecation schedules, and the scheduler that deprecates and retires
//! versions as their dates pass. The policies live in `assay_core::{notice, deprecation}`; this
//! module decides who may publish what and applies the dates with the injected clock.

use assay_core::deprecation::{self, Phase, Schedule, Stability};
use assay_core::deprecation::{DeprecationRecord, DeprecationTarget};
use assay_core::notice::NoticeRecord;
use assay_core::notice::{self, Audience, NoticeDraft, NoticeKind};
use assay_core::{Transition, VersionState};
use assay_store::{NewDeprecation, NewNotice, StoreError};
use jiff::civil::Date;

use crate::ServiceError;
use crate::access::{Permission, require, require_owner, visible};
use crate::service::Service;
use assay_core::identity::Principal;

/// A notice to publish.
#[derive(Debug, Clone)]
pub struct NoticeRequest {
    /// What kind of change.
    pub kind: NoticeKind,
    /// What changes.
    pub summary: String,
    /// The day it takes effect (UTC).
    pub effective: Date,
    /// What the audience has to do (required for breaking and deprecation notices).
    pub action_required: Option<String>,
    /// Who it is for.
    pub audience: Audience,
}

/// A deprecation to schedule.
#[derive(Debug, Clone)]
pub struct DeprecationRequest {
    /// What is deprecated.
    pub target: DeprecationTarget,
    /// How stable it was declared (decides the minimum notice).
    pub stability: Stability,
    /// Its dates.
    pub schedule: Schedule,
    /// The announcing notice's summary.
    pub summary: String,
    /// What the audience has to do before the sunset.
    pub action_required: String,
}

/// A withdrawn version: when it was withdrawn, and the listing's live version now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// When, seconds since the Unix epoch.
    pub at: i64,
    /// The newest live (`published`) version of the listing, if any.
    pub successor: Option<String>,
}

/// What one pass of the scheduler changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleReport {
    /// Versions moved to `deprecated`, as `slug@version`.
    pub deprecated: Vec<String>,
    /// Versions moved to `retired`.
    pub retired: Vec<String>,
    /// Re-checks enqueued because a platform API version entered deprecation, or because an
    /// exception lapsed.
    pub rechecks: u64,
    /// Rule packs whose deadline came: now active, their verdicts applied (`name@version`).
    pub packs_applied: Vec<String>,
}

/// The scheduler's name in the audit log.
const SCHEDULER: &str = "scheduler";

impl Service {
    /// Today (UTC) by the service's clock.
    pub fn today(&self) -> Date {
        jiff::Timestamp::from_second(self.clock.now()).map_or(Date::MIN, |t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
    }

    /// Publish a notice: about a listing (its owner, or staff), or about the platform
    /// (`slug: None`; staff only). Refused with the rule it breaks when it breaks the policy.
    pub async fn publish_notice(
        &self,
        who: &Principal,
        slug: Option<&str>,
        request: &NoticeRequest,
    ) -> Result<NoticeRecord, ServiceError> {
        match slug {
            Some(slug) => {
                let listing = self.listing(who, slug).await?;
                require_owner(who, &listing, Permission::Submit)?;
            }
            None => require(who, Permission::Govern)?,
        }
        let draft = NoticeDraft {
            kind: request.kind,
            summary: request.summary.clone(),
            effective: request.effective,
            action_required: request.action_required.clone(),
            audience: request.audience,
        };
        notice::check(&draft, self.today(), &self.config.notice_policy).map_err(ServiceError::Policy)?;
        let new = NewNotice {
            slug,
            kind: request.kind,
            summary: request.summary.trim(),
            effective: request.effective,
            action_required: request.action_required.as_deref().map(str::trim).filter(|a| !a.is_empty()),
            audience: request.audience,
        };
        Ok(self.store.create_notice(&who.actor, &new).await?)
    }

    /// Notices, newest first: a listing's (if the caller may see it), or with `slug: None` the
    /// caller's — for a partner, those of its listings and the platform's; for staff, the
    /// platform's.
    pub async fn notices(&self, who: &Principal, slug: Option<&str>) -> Result<Vec<NoticeRecord>, ServiceError> {
        match slug {
            Some(slug) => {
                self.listing(who, slug).await?;
                Ok(self.store.notices(Some(slug), None).await?)
            }
            None => Ok(self.store.notices(None, who.partner).await?),
        }
    }

    /// One notice, if the caller may see it (a listing's notice: whoever may see the listing;
    /// a platform notice: everyone).
    pub async fn notice(&self, who: &Principal, id: i64) -> Result<NoticeRecord, ServiceError> {
        let not_found = || ServiceError::NotFound(format!("notice {id}"));
        let record = self.store.notice(id).await?.ok_or_else(not_found)?;
        if let Some(slug) = &record.slug {
            visible(who, self.store.listing(slug).await?, slug).map_err(|_| not_found())?;
        }
        Ok(record)
    }

    /// Schedule a deprecation, with the notice that announces it: of a range of a listing's
    /// versions (its owner, or staff), or of a platform API version (staff). Refused with the
    /// rule it breaks when the dates break the policy for its stability level.
    pub async fn schedule_deprecation(
        &self,
        who: &Principal,
        request: &DeprecationRequest,
    ) -> Result<DeprecationRecord, ServiceError> {
        let (slug, audience) = match &request.target {
            DeprecationTarget::Listing { slug, .. } => {
                let listing = self.listing(who, slug).await?;
                require_owner(who, &listing, Permission::Submit)?;
                (Some(slug.as_str()), Audience::Merchants)
            }
            DeprecationTarget::ApiVersion(api) => {
                require(who, Permission::Govern)?;
                if api.trim().is_empty() {
                    return Err(ServiceError::Invalid {
                        pointer: "/api_version".into(),
                        message: "name the API version".into(),
                    });
                }
                (None, Audience::Partners)
            }
        };
        let today = self.today();
        deprecation::check(&request.schedule, request.stability, today, &self.config.deprecation_policy)
            .map_err(ServiceError::Policy)?;
        let draft = NoticeDraft {
            kind: NoticeKind::Deprecation,
            summary: request.summary.clone(),
            effective: request.schedule.sunset,
            action_required: Some(request.action_required.clone()),
            audience,
        };
        notice::check(&draft, today, &self.config.notice_policy).map_err(ServiceError::Policy)?;
        let new = NewDeprecation {
            target: &request.target,
            stability: request.stability,
            schedule: request.schedule,
            notice: NewNotice {
                slug,
                kind: NoticeKind::Deprecation,
                summary: request.summary.trim(),
                effective: request.schedule.sunset,
                action_required: Some(request.action_required.trim()),
                audience,
            },
        };
        Ok(self.store.create_deprecation(&who.actor, &new).await?)
    }

    /// Deprecation schedules by sunset: a listing's (if the caller may see it), or every one
    /// the caller may see (a partner: its listings' and the platform's).
    pub async fn deprecations(
        &self,
        who: &Principal,
        slug: Option<&str>,
    ) -> Result<Vec<DeprecationRecord>, ServiceError> {
        if let Some(slug) = slug {
            self.listing(who, slug).await?;
            return Ok(self.store.deprecations(Some(slug)).await?);
        }
        let all = self.store.deprecations(None).await?;
        if who.is_staff() {
            return Ok(all);
        }
        let mine: Vec<String> = self.store.listings(who.partner).await?.into_iter().map(|l| l.slug).collect();
        Ok(all
            .into_iter()
            .filter(|d| match &d.target {
                DeprecationTarget::Listing { slug, .. } => mine.contains(slug),
                DeprecationTarget::ApiVersion(_) => true,
            })
            .collect())
    }

    /// The deprecation that concerns `slug@version`, if any, the one with the earliest sunset:
    /// a schedule of the listing's versions that covers it, or of the platform API version its
    /// manifest targets.
    pub async fn deprecation_of(&self, slug: &str, version: &str) -> Result<Option<DeprecationRecord>, ServiceError> {
        let Ok(parsed) = semver::Version::parse(version) else { return Ok(None) };
        let mut found: Vec<DeprecationRecord> =
            self.store.deprecations(Some(slug)).await?.into_iter().filter(|d| covers(d, &parsed)).collect();
        let target = match self.store.version(slug, version).await? {
            Some(record) => {
                assay_core::Manifest::parse("listing.toml", &record.manifest).ok().map(|m| m.manifest.api_version)
            }
            None => None,
        };
        if let Some(api) = target {
            found.extend(self.store.api_deprecations(&api).await?);
        }
        Ok(found.into_iter().min_by_key(|d| d.schedule.sunset))
    }

    /// When the partner withdrew a version, and the listing's live version that succeeds it:
    /// a withdrawn version is deprecated from that moment (`Deprecation` header), pointing at
    /// its successor. `None` for a version that is not withdrawn. `view` is the version as
    /// its caller may already see it.
    pub async fn withdrawal_of(&self, view: &crate::VersionView) -> Result<Option<Withdrawal>, ServiceError> {
        if view.record.state != VersionState::Withdrawn {
            return Ok(None);
        }
        let subject = format!("listing:{}@{}", view.record.slug, view.record.version);
        // Newest first: the last withdrawal is the one that counts.
        let events = self.store.listing_events_page(&view.record.slug, None, i64::MAX).await?;
        let at = events
            .iter()
            .find(|e| e.subject == subject && e.action == "version.withdraw")
            .map_or_else(|| self.clock.now(), |e| e.at);
        let successor = view
            .listing
            .versions
            .iter()
            .rev()
            .find(|(_, state)| *state == VersionState::Published)
            .map(|(version, _)| version.clone());
        Ok(Some(Withdrawal { at, successor }))
    }

    /// One pass of the scheduler: every live version a listing deprecation covers is
    /// deprecated once its deprecated-from date has come, and retired once its sunset has
    /// passed. Safe to run on several nodes at once: each move names the state it expects.
    pub async fn apply_schedules(&self) -> Result<ScheduleReport, ServiceError> {
        let today = self.today();
        let mut report = ScheduleReport::default();
        for deprecation in self.store.deprecations(None).await? {
            let DeprecationTarget::Listing { slug, .. } = &deprecation.target else { continue };
            let phase = deprecation.schedule.phase(today);
            if phase == Phase::Announced {
                continue;
            }
            let Some(listing) = self.store.listing(slug).await? else { continue };
            for (version, state) in listing.versions {
                let Ok(parsed) = semver::Version::parse(&version) else { continue };
                if !covers(&deprecation, &parsed) {
                    continue;
                }
                let mut state = state;
                if matches!(state, VersionState::Approved | VersionState::Published) {
                    let note = format!(
                        "deprecated from {} (deprecation #{}; sunset {})",
                        deprecation.schedule.deprecated_from, deprecation.id, deprecation.schedule.sunset
                    );
                    if self.advance(slug, &version, state, Transition::Deprecate, &note).await? {
                        report.deprecated.push(format!("{slug}@{version}"));
                        state = VersionState::Deprecated;
                    }
                }
                if phase == Phase::Sunset && state == VersionState::Deprecated {
                    let note =
                        format!("sunset {} passed (deprecation #{})", deprecation.schedule.sunset, deprecation.id);
                    if self.advance(slug, &version, state, Transition::Retire, &note).await? {
                        report.retired.push(format!("{slug}@{version}"));
                    }
                }
            }
        }
        // A platform API version entering deprecation re-checks the listings that target it.
        for (id, api) in self.store.api_deprecations_to_recheck(&today.to_string()).await? {
            let targeting: Vec<i64> = self
                .store
                .live_versions()
                .await?
                .into_iter()
                .filter(|(_, manifest)| {
                    assay_core::Manifest::parse("listing.toml", manifest).is_ok_and(|m| m.manifest.api_version == api)
                })
                .map(|(id, _)| id)
                .collect();
            let enqueued =
                self.store.enqueue_rechecks(&targeting, "api-deprecation", &format!("api:{id}"), Some(id)).await?;
            report.rechecks += enqueued;
        }
        report.rechecks += self.recheck_lapsed_exceptions().await?;
        report.packs_applied = self.apply_rollouts().await?;
        if report.rechecks > 0 {
            self.wake.notify_waiters();
        }
        if !report.deprecated.is_empty() || !report.retired.is_empty() || report.rechecks > 0 {
            tracing::info!(deprecated = ?report.deprecated, retired = ?report.retired, rechecks = report.rechecks, "schedules applied");
        }
        Ok(report)
    }

    /// A lapsed exception re-opens its finding: the versions it covered are re-checked, once per
    /// exception (the queue's dedupe key).
    async fn recheck_lapsed_exceptions(&self) -> Result<u64, ServiceError> {
        let now = self.clock.now();
        let granted = assay_store::ExceptionFilter {
            state: Some(assay_core::exception::ExceptionState::Granted),
            ..Default::default()
        };
        let mut enqueued = 0;
        for e in self.store.exceptions(&granted).await? {
            if e.granted_expires_at.is_none_or(|until| until > now) {
                continue;
            }
            let Ok(range) = e.granted_versions.as_deref().unwrap_or(&e.versions).parse::<semver::VersionReq>() else {
                continue;
            };
            let Some(listing) = self.store.listing(&e.slug).await? else { continue };
            // Versions still in review count the finding again in their verdict by themselves;
            // live ones are re-checked, as the queue re-checks only those.
            let mut ids = Vec::new();
            for (version, state) in &listing.versions {
                if state.is_live()
                    && semver::Version::parse(version).is_ok_and(|v| range.matches(&v))
                    && let Some(record) = self.store.version(&e.slug, version).await?
                {
                    ids.push(record.id.0);
                }
            }
            let key = format!("exception-lapsed:{}", e.id);
            enqueued += self.store.enqueue_rechecks(&ids, "exception-lapsed", &key, None).await?;
        }
        Ok(enqueued)
    }

    /// Move one version; `false` when another node moved it first.
    async fn advance(
        &self,
        slug: &str,
        version: &str,
        from: VersionState,
        transition: Transition,
        note: &str,
    ) -> Result<bool, ServiceError> {
        match self.store.transition(SCHEDULER, slug, version, from, transition, note).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict { .. } | StoreError::Transition(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Run [`Service::apply_schedules`] every `period` until `stop` resolves.
    pub async fn run_scheduler(&self, period: std::time::Duration, stop: impl std::future::Future<Output = ()>) {
        crate::clock::every(period, stop, "applying deprecation schedules", || self.apply_schedules()).await;
    }
}

/// Whether a listing schedule covers `version`. A pre-release is covered when its release
/// would be (semver requirements never match pre-releases on their own).
fn covers(deprecation: &DeprecationRecord, version: &semver::Version) -> bool {
    match &deprecation.target {
        DeprecationTarget::Listing { versions, .. } => {
            let release = semver::Version { pre: semver::Prerelease::EMPTY, ..version.clone() };
            versions.matches(version) || versions.matches(&release)
        }
        DeprecationTarget::ApiVersion(_) => false,
    }
}
