//! [`Service`]: the use cases.

use std::sync::Arc;

use assay_core::identity::{Capability, Principal};
use assay_core::lifecycle::TransitionError;
use assay_core::listing::{ListingRecord, QueueEntry, VersionRecord};
use assay_core::manifest::ListingSlug;
use assay_core::waiver::WaiverRecord;
use assay_core::{Manifest, Transition, VersionState};
use assay_host::{CheckSpec, Host, RulePack};
use assay_store::{NewCheck, NewWaiver, Store, StoreError, Submission};
use tokio::sync::{Notify, Semaphore};

use crate::ServiceError;
use crate::access::{Permission, require, require_capability, require_owner, visible};
use crate::bundle::RunBundle;
use crate::clock::{Clock, SystemClock};
use crate::view::{self, VersionView};

/// How often a long poll reads the version again when no review of this process wakes it.
pub const LONG_POLL_RECHECK: std::time::Duration = std::time::Duration::from_millis(250);

/// The longest a long poll waits.
pub const LONG_POLL_MAX: std::time::Duration = std::time::Duration::from_secs(60);

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// How long a review job's lease lasts, in seconds. A worker renews it while the review
    /// runs; a job whose worker died is taken over when it lapses.
    pub lease_secs: i64,
    /// The largest `listing.toml` accepted, in bytes.
    pub max_manifest_bytes: usize,
    /// The most partner checks one version may ship.
    pub max_checks: usize,
    /// How much an integration check's fuel, peak memory or bytes sent may grow against the
    /// last approved version's run before it is a finding (`integration.resource-regression`).
    pub resource_regression_factor: f64,
    /// How many uploaded components may compile at once (at least 1). Compilation cannot be
    /// interrupted, so this, with [`assay_host::Limits::max_compile_time`], bounds what uploads
    /// can make the host do; an upload that finds every slot taken for that long gets
    /// [`ServiceError::Busy`].
    pub parallel_compiles: usize,
    /// The lead time breaking notices need.
    pub notice_policy: assay_core::notice::NoticePolicy,
    /// The minimum notice deprecations need, per stability level.
    pub deprecation_policy: assay_core::deprecation::DeprecationPolicy,
    /// The longest a token created through the service may last, in days.
    pub max_token_days: u32,
    /// The longest an exception may be asked for, in days.
    pub max_exception_days: u32,
    /// Whether an exception to a `blocker` finding needs a second reviewer to confirm it.
    pub two_person_blockers: bool,
    /// How long a version should wait for a reviewer, in business days (time on hold aside).
    pub review_target_days: u32,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            lease_secs: 30,
            max_manifest_bytes: 256 << 10,
            max_checks: 8,
            resource_regression_factor: 2.0,
            parallel_compiles: 2,
            notice_policy: Default::default(),
            deprecation_policy: Default::default(),
            max_token_days: 365,
            max_exception_days: 180,
            two_person_blockers: true,
            review_target_days: 5,
        }
    }
}

/// A partner check component uploaded with a version.
#[derive(Debug, Clone)]
pub struct UploadedCheck {
    /// Its file name.
    pub name: String,
    /// The component.
    pub bytes: Vec<u8>,
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Approve the version.
    Approve,
    /// Send it back to the partner.
    RequestChanges,
    /// Refuse it.
    Reject,
    /// Mark an approved (or live) version certified; the partner must hold `certify`.
    Certify,
}

impl Action {
    fn transition(self) -> Transition {
        match self {
            Action::Approve => Transition::Approve,
            Action::RequestChanges => Transition::RequestChanges,
            Action::Reject => Transition::Reject,
            Action::Certify => Transition::Certify,
        }
    }
}

/// A partner's own lifecycle move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerMove {
    /// Take a version out of review (or an approved one off the path to release).
    Withdraw,
    /// Put an approved version live: `approved → published`.
    Release,
    /// Make this earlier approved version the live one again: every newer approved or live
    /// version is withdrawn (and this one published, if it was only approved).
    RollBack,
}

/// A waiver to grant.
#[derive(Debug, Clone)]
pub struct WaiverRequest {
    /// The listing.
    pub slug: String,
    /// The rule it exempts.
    pub rule_id: String,
    /// The versions it covers, a semver requirement (`>=1.0.0, <2.0.0`, `1.2.3`, `*`).
    pub versions: String,
    /// Why the exception is acceptable.
    pub justification: String,
    /// When it stops covering, seconds since the Unix epoch; must be in the future.
    pub expires_at: i64,
}

/// The use cases. Cheap to clone; share one per process.
#[derive(Debug, Clone)]
pub struct Service {
    pub(crate) store: Store,
    pub(crate) host: Arc<Host>,
    pub(crate) pack: Arc<RulePack>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: ServiceConfig,
    pub(crate) wake: Arc<Notify>,
    /// Woken whenever this process records a batch of re-checks: long polls
    /// (`rechecks_when_recorded`, `rollout_when_done`) answer at once.
    pub(crate) rechecked: Arc<Notify>,
    /// Long polls for a version's verdict (`version_when_reviewed`), by version: a review this
    /// process records wakes only the polls waiting for it.
    pub(crate) verdicts: Arc<VerdictWaiters>,
    /// Group commit for the verdicts of reviews that finish together.
    pub(crate) recorder: Arc<crate::recorder::Recorder>,
    /// Group commit for submissions that arrive together.
    pub(crate) submitter: Arc<crate::group::GroupCommit<PendingSubmission, Submitted>>,
    /// Reviews claimed in the transaction that recorded the one before, for the next pass of
    /// this process's workers.
    pub(crate) carried: Arc<std::sync::Mutex<std::collections::VecDeque<assay_store::ClaimedReview>>>,
    /// One permit per upload compiling now.
    compiles: Arc<Semaphore>,
    /// Sends webhooks, when this process delivers them.
    pub(crate) sender: Option<Arc<dyn crate::webhooks::Sender>>,
    /// How webhooks are delivered.
    pub(crate) webhooks: crate::webhooks::WebhookConfig,
    /// Sends e-mail, when this process sends it.
    pub(crate) mailer: Option<Arc<dyn crate::email::Mailer>>,
    /// How e-mail is sent, and where its links point.
    pub(crate) email: crate::email::EmailConfig,
    /// Published rule packs loaded so far, by id.
    pub(crate) packs: Arc<std::sync::Mutex<std::collections::HashMap<i64, Arc<RulePack>>>>,
    /// Each pack's check specs (building one hashes its component), by the pack's address; the
    /// map holds the pack, so the address is not reused.
    pub(crate) pack_checks: Arc<std::sync::Mutex<PackChecks>>,
    /// Held by the one worker of this process that may claim a suspect job.
    pub(crate) suspect_slot: Arc<std::sync::atomic::AtomicBool>,
    /// Signs audit checkpoints, in the process that takes them.
    pub(crate) audit_key: Option<Arc<crate::audit::AuditKey>>,
    /// The broken link the last audit verification found.
    pub(crate) audit_broken: Arc<std::sync::Mutex<Option<(i64, String)>>>,
}

/// Check specs per loaded pack: the pack (kept alive) and its specs.
pub(crate) type PackChecks = std::collections::HashMap<usize, (Arc<RulePack>, Arc<Vec<CheckSpec>>)>;

impl Service {
    /// A service over `store`, reviewing with `pack` in `host`, on the system clock.
    pub fn new(store: Store, host: Arc<Host>, pack: Arc<RulePack>, config: ServiceConfig) -> Service {
        let compiles = Arc::new(Semaphore::new(config.parallel_compiles));
        Service {
            store,
            host,
            pack,
            clock: Arc::new(SystemClock),
            config,
            wake: Arc::new(Notify::new()),
            rechecked: Arc::new(Notify::new()),
            verdicts: Arc::default(),
            recorder: Arc::default(),
            submitter: Arc::default(),
            carried: Arc::default(),
            compiles,
            sender: None,
            webhooks: crate::webhooks::WebhookConfig::default(),
            mailer: None,
            email: crate::email::EmailConfig::default(),
            packs: Arc::default(),
            pack_checks: Arc::default(),
            suspect_slot: Arc::default(),
            audit_key: None,
            audit_broken: Arc::default(),
        }
    }

    /// The same service reading time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Service {
        self.clock = clock;
        self
    }

    /// The store underneath; only the service reaches it.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// A pack's checks, built once per pack and process.
    pub(crate) fn checks_of(&self, pack: &Arc<RulePack>) -> Arc<Vec<CheckSpec>> {
        let key = Arc::as_ptr(pack) as usize;
        let mut cache = self.pack_checks.lock().unwrap_or_else(|p| p.into_inner());
        cache.entry(key).or_insert_with(|| (pack.clone(), Arc::new(pack.checks()))).1.clone()
    }

    /// A partner creates a listing it will own. Needs the `list` capability.
    pub async fn create_listing(&self, who: &Principal, slug: &str, name: &str) -> Result<ListingRecord, ServiceError> {
        require(who, Permission::Submit)?;
        require_capability(who, Capability::List)?;
        let slug = ListingSlug::parse(slug).map_err(|message| ServiceError::invalid("/slug", message))?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(ServiceError::invalid("/name", "a listing name has 1 to 80 characters".into()));
        }
        let Some(partner) = who.partner else { return Err(ServiceError::Forbidden("the token has no partner".into())) };
        self.store.create_listing(&who.actor, partner, slug.as_str(), name).await?;
        self.store.listing(slug.as_str()).await?.ok_or_else(|| ServiceError::NotFound(format!("listing `{slug}`")))
    }

    /// A partner submits a version of its listing: the manifest is parsed and validated, every
    /// check must be a loadable component for a supported world, and then the version, its
    /// components and its review job are stored in one transaction. The review runs in the
    /// background ([`crate::worker`]).
    pub async fn submit(
        &self,
        who: &Principal,
        slug: &str,
        manifest: &str,
        checks: Vec<UploadedCheck>,
    ) -> Result<VersionRecord, ServiceError> {
        let listing = visible(who, self.store.listing(slug).await?, slug)?;
        require_owner(who, &listing, Permission::Submit)?;
        require_capability(who, Capability::List)?;
        if manifest.len() > self.config.max_manifest_bytes {
            let limit = self.config.max_manifest_bytes;
            return Err(ServiceError::invalid(
                "",
                format!("the manifest is {} bytes; the limit is {limit}", manifest.len()),
            ));
        }
        let parsed =
            Manifest::parse("listing.toml", manifest).map_err(|e| ServiceError::InvalidManifest(Box::new(e)))?.manifest;
        if parsed.slug.as_str() != slug {
            return Err(ServiceError::invalid(
                "/slug",
                format!("the manifest is for listing `{}`, but it was submitted to `{slug}`", parsed.slug.as_str()),
            ));
        }
        if !checks.is_empty() {
            require_capability(who, Capability::Checks)?;
        }
        if checks.len() > self.config.max_checks {
            return Err(ServiceError::invalid("", format!("at most {} checks per version", self.config.max_checks)));
        }
        let digests = self.validate_checks(&checks).await?;
        let pending = PendingSubmission {
            actor: who.actor.clone(),
            slug: slug.to_owned(),
            version: parsed.version.to_string(),
            manifest: manifest.to_owned(),
            checks,
            digests,
        };
        let record = self
            .submitter
            .join(pending, |batch| submit_together(&self.store, batch))
            .await
            .unwrap_or_else(|| Err(StoreError::Corrupt("a submission's commit was abandoned".into())))?;
        self.wake.notify_one();
        Ok(record)
    }

    /// A partner ships a new version of its own checks for its listing's live version, without
    /// a new listing version: the components are validated as a submission's are, stored, and
    /// the live version is re-checked with them (the result is in [`Service::rechecks`]).
    /// Needs the `checks` capability. Returns the live version re-checked and the re-check's
    /// job (its verdict carries the job's id).
    pub async fn update_checks(
        &self,
        who: &Principal,
        slug: &str,
        checks: Vec<UploadedCheck>,
    ) -> Result<(VersionRecord, assay_core::identity::JobId), ServiceError> {
        let listing = visible(who, self.store.listing(slug).await?, slug)?;
        require_owner(who, &listing, Permission::Submit)?;
        require_capability(who, Capability::Checks)?;
        if checks.is_empty() {
            return Err(ServiceError::invalid("", "send at least one check component".into()));
        }
        if checks.len() > self.config.max_checks {
            return Err(ServiceError::invalid("", format!("at most {} checks per version", self.config.max_checks)));
        }
        let Some((version, _)) = listing.versions.iter().rev().find(|(_, state)| state.is_live()) else {
            return Err(ServiceError::invalid(
                "",
                format!(
                    "`{slug}` has no live version to re-check; ship the checks with a version (`assay submit --check`)"
                ),
            ));
        };
        let digests = self.validate_checks(&checks).await?;
        let new_checks = stored(&checks, &digests);
        let job = self.store.update_checks(&who.actor, slug, version, &new_checks).await?;
        self.wake.notify_waiters();
        let record = self
            .store
            .version(slug, version)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("version {version}")))?;
        Ok((record, job))
    }

    /// A version's re-check verdicts, oldest first. Who may see the version may see them.
    pub async fn rechecks(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
    ) -> Result<Vec<assay_core::review::RecheckRecord>, ServiceError> {
        self.listing(who, slug).await?;
        if self.store.version(slug, version).await?.is_none() {
            return Err(ServiceError::NotFound(format!("version {version} of `{slug}`")));
        }
        Ok(self.store.rechecks(slug, version).await?)
    }

    /// [`Service::rechecks`], once the re-check of `job` is among them or `wait` has passed,
    /// whichever comes first: a long poll, as [`Service::version_when_reviewed`] is. A `job`
    /// that is not a re-check of this version still to run answers at once.
    pub async fn rechecks_when_recorded(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
        job: i64,
        wait: std::time::Duration,
    ) -> Result<Vec<assay_core::review::RecheckRecord>, ServiceError> {
        self.long_poll(&self.rechecked, wait, std::time::Duration::ZERO, || async move {
            // Asked before the list is read, so a job that finishes in between is in the list.
            let pending = self.store.recheck_pending(job, slug, version).await?;
            let rechecks = self.rechecks(who, slug, version).await?;
            let done = !pending || rechecks.iter().any(|r| r.job == job);
            Ok((rechecks, done))
        })
        .await
    }

    /// A long poll: `poll` until it says it is done, or until `wait` has passed, and answer
    /// what it read last. Between polls it waits to be woken through `wake` by what this
    /// process records (listened to before each poll, so one recorded in between is not
    /// missed), or [`LONG_POLL_RECHECK`] for other processes', and at least `spacing` from
    /// the poll before.
    pub(crate) async fn long_poll<T, F, Polled>(
        &self,
        wake: &Notify,
        wait: std::time::Duration,
        spacing: std::time::Duration,
        mut poll: F,
    ) -> Result<T, ServiceError>
    where
        F: FnMut() -> Polled,
        Polled: std::future::Future<Output = Result<(T, bool), ServiceError>>,
    {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let recorded = wake.notified();
            tokio::pin!(recorded);
            recorded.as_mut().enable();
            let polled = tokio::time::Instant::now();
            let (value, done) = poll().await?;
            let now = tokio::time::Instant::now();
            if done || now >= deadline {
                return Ok(value);
            }
            let _ = tokio::time::timeout_at(deadline.min(now + LONG_POLL_RECHECK), recorded).await;
            tokio::time::sleep_until(deadline.min(polled + spacing)).await;
        }
    }

    /// Compile and describe every check (off the async threads); the first refusal wins. At
    /// most [`ServiceConfig::parallel_compiles`] compile at once, and none is waited for longer
    /// than the host's compile limit: a compile that runs on keeps its slot until it ends, and
    /// the host refuses (and does not keep) what it produces then.
    pub(crate) async fn validate_checks(&self, checks: &[UploadedCheck]) -> Result<Vec<String>, ServiceError> {
        let limit = self.host.limits().max_compile_time;
        let mut digests = Vec::with_capacity(checks.len());
        for check in checks {
            let Ok(Ok(permit)) = tokio::time::timeout(limit, self.compiles.clone().acquire_owned()).await else {
                return Err(ServiceError::Busy {
                    message: format!(
                        "every slot for compiling uploaded checks was taken for {} s; submit again later",
                        limit.as_secs()
                    ),
                    retry_after_secs: limit.as_secs().max(1),
                });
            };
            let host = self.host.clone();
            let bytes = check.bytes.clone();
            let compile = tokio::task::spawn_blocking(move || {
                let _slot = permit;
                host.load(&bytes).map(|plugin| plugin.digest)
            });
            let Ok(loaded) = tokio::time::timeout(limit, compile).await else {
                let message = assay_host::LoadError::CompileTooSlow { limit }.to_string();
                return Err(ServiceError::InvalidPlugin { name: check.name.clone(), message });
            };
            match loaded {
                Ok(Ok(digest)) => digests.push(digest.to_string()),
                Ok(Err(e)) => {
                    return Err(ServiceError::InvalidPlugin { name: check.name.clone(), message: e.to_string() });
                }
                Err(join) => {
                    tracing::error!(error = %join, check = %check.name, "loading a check panicked");
                    return Err(ServiceError::InvalidPlugin {
                        name: check.name.clone(),
                        message: "the component could not be loaded".into(),
                    });
                }
            }
        }
        Ok(digests)
    }

    /// The caller's listings (staff: all of them).
    pub async fn listings(&self, who: &Principal) -> Result<Vec<ListingRecord>, ServiceError> {
        let owner = crate::access::owner_scope(who)?;
        Ok(self.store.listings(owner).await?)
    }

    /// One listing, if the caller may see it.
    pub async fn listing(&self, who: &Principal, slug: &str) -> Result<ListingRecord, ServiceError> {
        visible(who, self.store.listing(slug).await?, slug)
    }

    /// A listing's owner or developer turns automatic release on (an approved version goes
    /// live at once) or off (the partner releases it).
    pub async fn set_auto_release(&self, who: &Principal, slug: &str, on: bool) -> Result<ListingRecord, ServiceError> {
        let listing = visible(who, self.store.listing(slug).await?, slug)?;
        require_owner(who, &listing, Permission::Submit)?;
        self.store.set_auto_release(&who.actor, slug, on).await?;
        self.listing(who, slug).await
    }

    /// An approved version of a listing that releases automatically goes live now.
    pub(crate) async fn auto_release(&self, slug: &str, version: &str) -> Result<(), ServiceError> {
        let Some(listing) = self.store.listing(slug).await? else { return Ok(()) };
        if !listing.auto_release {
            return Ok(());
        }
        let note = "released automatically: the listing releases approved versions";
        match self
            .store
            .transition("auto-release", slug, version, VersionState::Approved, Transition::Publish, note)
            .await
        {
            Ok(_) | Err(assay_store::StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// [`Service::version`], once the version's automated review has finished (it is no
    /// longer `submitted` or `checking`) or `wait` has passed, whichever comes first: a long
    /// poll. Reviews recorded by this process answer at once; those of other processes
    /// (`assay worker` on a shared database) within [`LONG_POLL_RECHECK`].
    pub async fn version_when_reviewed(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
        wait: std::time::Duration,
    ) -> Result<VersionView, ServiceError> {
        // Whether the caller may see the version is decided once; each wake-up then reads the
        // version's row alone (a recorded review wakes only the polls for its version), and the
        // answer is built around the row the last wake-up read.
        let listing = self.listing(who, slug).await?;
        let wake = self.verdicts.listen(slug, version);
        let record = self
            .long_poll(&wake, wait, std::time::Duration::ZERO, || async move {
                let record = self.version_record(slug, version).await?;
                let reviewed = !matches!(record.state, VersionState::Submitted | VersionState::Checking);
                Ok((record, reviewed))
            })
            .await?;
        self.version_view(listing, record).await
    }

    /// A version with its latest review and the verdict decided now.
    pub async fn version(&self, who: &Principal, slug: &str, version: &str) -> Result<VersionView, ServiceError> {
        let listing = self.listing(who, slug).await?;
        let record = self.version_record(slug, version).await?;
        self.version_view(listing, record).await
    }

    /// The view of a version whose listing and row the caller has read (and may see).
    async fn version_view(&self, listing: ListingRecord, record: VersionRecord) -> Result<VersionView, ServiceError> {
        let (slug, version) = (listing.slug.as_str(), record.version.as_str());
        let review = self.store.latest_review(slug, version).await?;
        let waivers = self.store.waivers(slug).await?;
        let live: Vec<_> = waivers.iter().map(|w| w.waiver.clone()).collect();
        let (verdict, findings) = match &review {
            Some(review) => {
                let (verdict, findings) = view::decide(&review.runs, &live, version, self.clock.now());
                (Some(verdict), findings)
            }
            None => (None, Vec::new()),
        };
        let decisions = self.store.decisions(slug, version).await?;
        let hold = self.store.holds(slug, version).await?.pop().filter(|h| h.released.is_none());
        let queue = match record.state {
            VersionState::AwaitingReview => self.place_of(record.id).await?,
            _ => None,
        };
        Ok(VersionView { record, listing, review, verdict, findings, waivers, decisions, hold, queue })
    }

    /// A replayable bundle of a version's latest review: its manifest, the previous version's,
    /// every component (the pack's and the partner's), the limits and the seed, and what it
    /// found. Who may see the version may export it.
    pub async fn bundle(&self, who: &Principal, slug: &str, version: &str) -> Result<RunBundle, ServiceError> {
        let view = self.version(who, slug, version).await?;
        let review = view.review.ok_or_else(|| ServiceError::NotFound(format!("a review of version {version}")))?;
        let Some(pack) = self.pack_named(&review.pack_name, &review.pack_version).await? else {
            return Err(ServiceError::NotFound(format!(
                "the rule pack version {version} was reviewed by ({}@{}) on this server",
                review.pack_name, review.pack_version
            )));
        };
        let previous = match &review.previous_version {
            Some(previous) => self.store.version(slug, previous).await?.map(|v| v.manifest),
            None => None,
        };
        let mut checks = pack.checks();
        for (name, _digest, bytes) in self.store.version_checks(view.record.id).await? {
            checks.push(CheckSpec::partner(name, Arc::from(bytes)));
        }
        let seed = review.seed.unwrap_or(assay_host::platform::DEFAULT_SEED);
        // The limits the review ran under; reviews recorded before they were kept ran under
        // this server's.
        let limits = match review.limits.as_deref().map(crate::bundle::BundleLimits::from_json) {
            Some(Ok(recorded)) => assay_host::Limits::from(&recorded),
            Some(Err(e)) => {
                tracing::warn!(%slug, %version, error = %e, "unreadable limits on a review; using this server's");
                self.host.limits().clone()
            }
            None => self.host.limits().clone(),
        };
        Ok(crate::bundle::bundle(&limits, seed, &view.record.manifest, previous.as_deref(), &checks, &review.runs))
    }

    /// Versions waiting for a reviewer, longest-waiting first.
    pub async fn review_queue(&self, who: &Principal) -> Result<Vec<QueueEntry>, ServiceError> {
        require(who, Permission::SeeOperations)?;
        Ok(self.store.review_queue().await?)
    }

    /// A reviewer decides on a version. Of several concurrent decisions exactly one wins; the
    /// others get [`ServiceError::Conflict`] with the state the winner left.
    pub async fn decide(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
        action: Action,
        note: &str,
    ) -> Result<VersionRecord, ServiceError> {
        require(who, Permission::Review)?;
        let listing = self.listing(who, slug).await?;
        if note.trim().is_empty() {
            return Err(ServiceError::NoteRequired);
        }
        if action == Action::Certify
            && !self.store.partner_capabilities(listing.partner).await?.contains(&Capability::Certify)
        {
            return Err(ServiceError::CapabilityRequired(Capability::Certify));
        }
        let current = self.version_record(slug, version).await?;
        let first = action != Action::Certify && self.store.last_decision(slug, version).await?.is_none();
        match self.store.transition(&who.actor, slug, version, current.state, action.transition(), note).await {
            Ok(record) => {
                if first && let Some(submitted) = self.store.submitted_at(slug, version).await? {
                    let waited = (self.clock.now() - submitted).max(0);
                    metrics::histogram!("assay_review_first_decision_seconds").record(waited as f64);
                }
                if action != Action::Certify {
                    self.end_hold(who, slug, version, &format!("decided: {}", record.state)).await;
                }
                if record.state == VersionState::Approved {
                    self.auto_release(slug, version).await?;
                    return self.version_record(slug, version).await;
                }
                Ok(record)
            }
            Err(assay_store::StoreError::Transition(e)) => Err(not_allowed(e, current.state)),
            Err(e) => Err(e.into()),
        }
    }

    /// A partner's own move on its version: withdraw one that is in review or approved (not
    /// while its checks run), or release an approved one (`approved → published`).
    pub async fn move_version(
        &self,
        who: &Principal,
        slug: &str,
        version: &str,
        action: PartnerMove,
        note: &str,
    ) -> Result<VersionRecord, ServiceError> {
        let listing = visible(who, self.store.listing(slug).await?, slug)?;
        require_owner(who, &listing, Permission::Submit)?;
        let current = self.version_record(slug, version).await?;
        let (transition, note) = match action {
            PartnerMove::RollBack => return self.roll_back(who, &listing, &current).await,
            PartnerMove::Withdraw => {
                if matches!(current.state, VersionState::Submitted | VersionState::Checking) {
                    return Err(ServiceError::NotAllowed {
                        message: "its checks are running; withdraw it once they finish".into(),
                        current: current.state,
                    });
                }
                let note = note.trim();
                (Transition::Withdraw, if note.is_empty() { "withdrawn by the partner" } else { note })
            }
            PartnerMove::Release => (Transition::Publish, "released by the partner"),
        };
        match self.store.transition(&who.actor, slug, version, current.state, transition, note).await {
            Ok(record) => {
                if transition == Transition::Withdraw {
                    self.end_hold(who, slug, version, "withdrawn by the partner").await;
                }
                Ok(record)
            }
            Err(assay_store::StoreError::Transition(e)) => Err(not_allowed(e, current.state)),
            Err(e) => Err(e.into()),
        }
    }

    /// Roll `listing` back to `target`, an earlier version a reviewer approved.
    async fn roll_back(
        &self,
        who: &Principal,
        listing: &ListingRecord,
        target: &VersionRecord,
    ) -> Result<VersionRecord, ServiceError> {
        let slug = &listing.slug;
        if !matches!(target.state, VersionState::Approved | VersionState::Published | VersionState::Deprecated) {
            return Err(ServiceError::NotAllowed {
                message: format!(
                    "a rollback returns to a version a reviewer approved and that is still offered; {slug} {} is {}",
                    target.version, target.state
                ),
                current: target.state,
            });
        }
        let versions = self.store.listing(slug).await?.map(|l| l.versions).unwrap_or_default();
        let newer = view::newer_live(&versions, &target.version);
        if newer.is_empty() {
            return Err(ServiceError::NotAllowed {
                message: format!(
                    "no newer version of {slug} is approved or live; {} is already the newest",
                    target.version
                ),
                current: target.state,
            });
        }
        match self.store.roll_back(&who.actor, slug, (&target.version, target.state), &newer).await {
            Ok(()) => {}
            Err(assay_store::StoreError::Conflict { current }) => {
                return Err(ServiceError::Conflict { current });
            }
            Err(e) => return Err(e.into()),
        }
        self.store
            .version(slug, &target.version)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("version {} of `{slug}`", target.version)))
    }

    /// A reviewer grants a waiver.
    pub async fn grant_waiver(&self, who: &Principal, request: &WaiverRequest) -> Result<WaiverRecord, ServiceError> {
        require(who, Permission::Review)?;
        self.listing(who, &request.slug).await?;
        let versions: semver::VersionReq = request.versions.parse().map_err(|e| {
            ServiceError::invalid("/versions", format!("`{}` is not a semver range: {e}", request.versions))
        })?;
        if request.rule_id.trim().is_empty() {
            return Err(ServiceError::invalid("/rule_id", "name the rule the waiver exempts".into()));
        }
        if request.expires_at <= self.clock.now() {
            return Err(ServiceError::invalid("/expires_at", "a waiver must expire in the future".into()));
        }
        let new = NewWaiver {
            slug: &request.slug,
            rule_id: &request.rule_id,
            versions: &versions,
            justification: &request.justification,
            expires_at: request.expires_at,
        };
        Ok(self.store.create_waiver(&who.actor, &new).await?)
    }

    /// The listing's waivers, if the caller may see the listing.
    pub async fn waivers(&self, who: &Principal, slug: &str) -> Result<Vec<WaiverRecord>, ServiceError> {
        self.listing(who, slug).await?;
        Ok(self.store.waivers(slug).await?)
    }

    /// A version by slug and version, or *not found* (callers check access first).
    pub(crate) async fn version_record(&self, slug: &str, version: &str) -> Result<VersionRecord, ServiceError> {
        self.store
            .version(slug, version)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("version {version} of `{slug}`")))
    }

    /// Whose records a register lists: a partner's member always their own partner's; staff
    /// the partner they name (`None`: every partner's).
    pub(crate) async fn scope_to_partner(
        &self,
        who: &Principal,
        named: Option<&str>,
    ) -> Result<Option<assay_core::identity::PartnerId>, ServiceError> {
        Ok(match (who.is_staff(), named) {
            (false, _) => Some(who.partner.ok_or_else(|| ServiceError::Forbidden("the token has no partner".into()))?),
            (true, Some(name)) => Some(
                self.store
                    .partner_by_name(name)
                    .await?
                    .ok_or_else(|| ServiceError::NotFound(format!("partner `{name}`")))?
                    .id,
            ),
            (true, None) => None,
        })
    }

    /// The time now, by the service's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

fn not_allowed(e: TransitionError, current: VersionState) -> ServiceError {
    ServiceError::NotAllowed { message: e.to_string(), current }
}

/// Validated uploads as the store takes them, with their digests.
pub(crate) fn stored<'a>(checks: &'a [UploadedCheck], digests: &'a [String]) -> Vec<NewCheck<'a>> {
    checks.iter().zip(digests).map(|(c, digest)| NewCheck { name: &c.name, digest, bytes: &c.bytes }).collect()
}

/// The long polls waiting for versions' verdicts, by `slug@version`: a recorded review wakes
/// only its own version's polls, not every poll of every client (each woken poll reads its
/// version's row, and on SQLite each read after a write refills a connection's page cache).
#[derive(Debug, Default)]
pub(crate) struct VerdictWaiters(std::sync::Mutex<std::collections::HashMap<String, std::sync::Weak<Notify>>>);

impl VerdictWaiters {
    /// What the polls for `slug`@`version` listen on, for as long as one holds it.
    pub(crate) fn listen(&self, slug: &str, version: &str) -> Arc<Notify> {
        let mut waiters = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = format!("{slug}@{version}");
        if let Some(wake) = waiters.get(&key).and_then(std::sync::Weak::upgrade) {
            return wake;
        }
        // Versions no poll waits for any more are forgotten as new ones come.
        waiters.retain(|_, wake| wake.strong_count() > 0);
        let wake = Arc::new(Notify::new());
        waiters.insert(key, Arc::downgrade(&wake));
        wake
    }

    /// Wake the polls waiting for `slug`@`version`, if any.
    pub(crate) fn wake(&self, slug: &str, version: &str) {
        let waiters = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(wake) = waiters.get(&format!("{slug}@{version}")).and_then(std::sync::Weak::upgrade) {
            wake.notify_waiters();
        }
    }

    /// How many versions polls wait for now.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        let waiters = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        waiters.values().filter(|wake| wake.strong_count() > 0).count()
    }
}

/// A validated submission, owned while it waits for its commit ([`Service::submit`]).
#[derive(Debug)]
pub(crate) struct PendingSubmission {
    actor: String,
    slug: String,
    version: String,
    manifest: String,
    checks: Vec<UploadedCheck>,
    digests: Vec<String>,
}

impl PendingSubmission {
    /// As the store takes it, with its checks as [`stored`] made them.
    fn submission<'a>(&'a self, checks: &'a [NewCheck<'a>]) -> Submission<'a> {
        Submission { slug: &self.slug, version: &self.version, manifest: &self.manifest, checks }
    }
}

/// What a submission's commit answers.
type Submitted = Result<VersionRecord, StoreError>;

/// Submissions that arrive together, stored in one transaction; each alone if that fails.
async fn submit_together(store: &Store, batch: Vec<crate::group::Queued<PendingSubmission, Submitted>>) {
    let (pending, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let checks: Vec<Vec<NewCheck<'_>>> = pending.iter().map(|p| stored(&p.checks, &p.digests)).collect();
    let submissions: Vec<_> =
        pending.iter().zip(&checks).map(|(p, checks)| (p.actor.as_str(), p.submission(checks))).collect();
    match store.submit_versions(&submissions).await {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(outcome);
            }
            return;
        }
        Err(e) if submissions.len() > 1 => {
            tracing::warn!(error = %crate::error_chain(&e), submissions = submissions.len(), "a batch of submissions failed to commit; storing each alone")
        }
        Err(e) => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
            return;
        }
    }
    for ((actor, submission), reply) in submissions.iter().zip(replies) {
        let _ = reply.send(store.submit_version(actor, submission).await);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use assay_core::Capability;
    use assay_store::{Store, StoreError};

    use super::{PendingSubmission, Submitted, UploadedCheck, VerdictWaiters, submit_together};
    use crate::group::GroupCommit;

    #[tokio::test]
    async fn a_verdict_wakes_only_the_polls_for_its_version() {
        use std::future::Future as _;
        use std::task::{Context, Poll, Waker};

        let waiters = VerdictWaiters::default();
        let (first, second, other) =
            (waiters.listen("acme", "1.0.0"), waiters.listen("acme", "1.0.0"), waiters.listen("acme", "1.0.1"));
        assert!(Arc::ptr_eq(&first, &second), "polls for one version share one wake-up");
        assert_eq!(waiters.waiting(), 2);
        {
            let (woken, again, asleep) = (first.notified(), second.notified(), other.notified());
            tokio::pin!(woken, again, asleep);
            for listening in [woken.as_mut(), again.as_mut(), asleep.as_mut()] {
                listening.enable();
            }
            waiters.wake("acme", "1.0.0");
            waiters.wake("acme", "2.0.0"); // nobody waits for it: nothing happens
            let mut cx = Context::from_waker(Waker::noop());
            assert!(woken.as_mut().poll(&mut cx).is_ready(), "the version's poll is woken");
            assert!(again.as_mut().poll(&mut cx).is_ready(), "every poll of the version is woken");
            assert_eq!(asleep.as_mut().poll(&mut cx), Poll::Pending, "another version's poll sleeps on");
        }
        // A version no poll waits for any more is forgotten.
        drop((first, second));
        let _next = waiters.listen("acme", "1.0.2");
        assert_eq!(waiters.waiting(), 2);
        assert_eq!(waiters.0.lock().unwrap().len(), 2, "1.0.0 was forgotten");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn submissions_that_arrive_while_a_commit_runs_are_stored_together() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        let partner = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
        store.create_listing("test", partner, "acme", "Acme").await.unwrap();
        let group: Arc<GroupCommit<PendingSubmission, Submitted>> = Arc::default();
        // A commit is running (its leader holds the lock) while eight submissions arrive: six
        // new versions, one of a listing that does not exist, and one version twice.
        let running = group.leader.lock().await;
        let wanted = ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.0.5", "1.0.0"];
        let mut tasks = Vec::new();
        for (i, (slug, version)) in wanted.iter().map(|v| ("acme", *v)).chain([("nobody", "1.0.0")]).enumerate() {
            let (queue, store) = (group.clone(), store.clone());
            let pending = PendingSubmission {
                actor: format!("token:{i}"),
                slug: slug.into(),
                version: version.into(),
                manifest: format!("slug = \"{slug}\"\nversion = \"{version}\""),
                checks: vec![UploadedCheck { name: "check.wasm".into(), bytes: vec![i as u8; 16] }],
                digests: vec![format!("{i:064}")],
            };
            tasks.push(tokio::spawn(async move {
                queue.join(pending, |batch| submit_together(&store, batch)).await.unwrap()
            }));
            // Queued in this order, so the repeated version is the later one.
            while group.queue.lock().unwrap().len() <= i {
                tokio::task::yield_now().await;
            }
        }
        drop(running);
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        assert_eq!(group.commits.load(Ordering::Relaxed), 1, "eight submissions, one transaction");
        for (outcome, version) in outcomes.iter().zip(&wanted[..6]) {
            assert_eq!(outcome.as_ref().unwrap().version, *version);
        }
        assert!(matches!(outcomes[6], Err(StoreError::Exists(_))), "{:?}", outcomes[6]);
        assert!(matches!(outcomes[7], Err(StoreError::NotFound(_))), "{:?}", outcomes[7]);
        // Each stored version has its own check and its own review job; the audit names each
        // submitter.
        for (i, version) in wanted[..6].iter().enumerate() {
            let stored = store.version("acme", version).await.unwrap().unwrap();
            let checks = store.version_checks(stored.id).await.unwrap();
            assert_eq!(checks, vec![("check.wasm".to_owned(), format!("{i:064}"), vec![i as u8; 16])]);
        }
        let mut claimed = 0;
        while store.claim_review("worker", 3600).await.unwrap().is_some() {
            claimed += 1;
        }
        assert_eq!(claimed, 6);
        let submits: Vec<_> = store
            .audit_events()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "version.submit")
            .map(|e| e.actor)
            .collect();
        assert_eq!(submits, (0..6).map(|i| format!("token:{i}")).collect::<Vec<_>>());
        assert!(store.verify_audit().await.unwrap().is_ok());
    }
}
