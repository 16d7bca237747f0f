//! The worker: claim jobs from the durable queue, run the checks, record the verdicts.
//!
//! Review jobs (a new version) come first, one at a time, because a partner is waiting on each;
//! re-check jobs (a rule pack, a partner check or the platform API moved) are claimed in
//! batches, run, and recorded in one transaction per batch. Runs inside `assay serve`, and as
//! `assay worker` processes on a shared PostgreSQL database. Jobs are at-least-once (a job whose
//! worker died runs again when its lease lapses); verdicts are recorded once, because a verdict
//! commits with its job's completion and a completion from a lapsed claim is refused.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use assay_core::identity::VersionId;
use assay_core::listing::VersionRecord;
use assay_core::{CheckOutcome, CheckRun, Finding, Manifest, Severity, Verdict};
use assay_host::{CheckSpec, ReviewInput, RulePack};
use assay_store::{ClaimedRecheck, ClaimedReview, JobFate, Lease, RecheckResult, StoreError};

use crate::view;
use crate::{Service, ServiceError, error_chain};

/// How the audit log names the worker.
const ACTOR: &str = "worker";

/// How often an idle worker looks for work it was not woken for (another node's submissions,
/// expired leases, retries whose backoff ended).
const POLL: Duration = Duration::from_secs(2);

/// Re-checks claimed, run and recorded together: one claim and one commit per batch.
pub const RECHECK_BATCH: i64 = 32;

/// Numbers this process's workers in their leases (`pid:n`).
static WORKERS: AtomicUsize = AtomicUsize::new(0);

/// A batch's pack: the pack, its check specs, its id (`None`: the active pack) and whether
/// its verdicts apply.
type BatchPack = (Arc<RulePack>, Arc<Vec<CheckSpec>>, Option<i64>, bool);

/// What one pass of a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Worked {
    /// Reviews finished.
    pub reviews: usize,
    /// Re-check verdicts recorded.
    pub rechecks: usize,
}

impl Worked {
    fn any(&self) -> bool {
        self.reviews + self.rechecks > 0
    }
}

impl Service {
    /// Work the queue until `shutdown` completes. Errors are logged and retried.
    pub async fn run_worker(&self, shutdown: impl Future<Output = ()>) {
        let name = format!("{}:{}", std::process::id(), WORKERS.fetch_add(1, Ordering::Relaxed));
        tokio::pin!(shutdown);
        loop {
            let busy = match self.work(&name, true).await {
                Ok(worked) => worked.any(),
                Err(e) => {
                    tracing::error!(error = %error_chain(&e), "worker failed; retrying");
                    false
                }
            };
            if busy {
                // Between jobs, a shutdown stops the worker; otherwise on to the next one.
                tokio::select! {
                    biased;
                    () = &mut shutdown => return,
                    () = std::future::ready(()) => continue,
                }
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// One review if one is waiting, else one batch of re-checks.
    pub async fn work_once(&self, worker: &str) -> Result<Worked, ServiceError> {
        self.work(worker, false).await
    }

    /// [`Service::work_once`]; with `claim_next`, a recorded review also claims the next
    /// waiting one in its transaction, carried to this process's next pass (the worker loop).
    async fn work(&self, worker: &str, claim_next: bool) -> Result<Worked, ServiceError> {
        if self.review(claim_next).await?.is_some() {
            return Ok(Worked { reviews: 1, rechecks: 0 });
        }
        Ok(Worked { reviews: 0, rechecks: self.recheck_batch(worker).await? })
    }

    /// Claim and finish one review; `None` when nothing is waiting.
    pub async fn review_next(&self) -> Result<Option<VersionRecord>, ServiceError> {
        self.review(false).await
    }

    /// Finish one review: one claimed with the last recorded review if there is one, else
    /// one claimed now. With `claim_next`, the next waiting review is claimed in the same
    /// transaction that records this one's verdict, one write transaction fewer per verdict.
    async fn review(&self, claim_next: bool) -> Result<Option<VersionRecord>, ServiceError> {
        let carried = self.carried.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop_front();
        let claimed = match carried {
            Some(claimed) => claimed,
            None => match self.store.claim_review(ACTOR, self.config.lease_secs).await? {
                Some(claimed) => claimed,
                None => return Ok(None),
            },
        };
        let (slug, version) = (claimed.version.slug.clone(), claimed.version.version.clone());
        let pack = self.current_pack().await?;
        let started = Instant::now();
        let heartbeat = self.heartbeat(vec![claimed.lease]);
        let mut runs = self.run_review(&claimed, pack.clone()).await;
        heartbeat.abort();
        let host_time = started.elapsed();
        if let (Some(runs), Some(previous)) = (runs.as_mut(), claimed.previous_version.as_deref()) {
            // Resource regressions against the last approved version's own review.
            if let Some(baseline) = self.store.latest_review(&slug, previous).await? {
                let factor = self.config.resource_regression_factor;
                let severity = pack.manifest.resource_regression;
                runs.extend(assay_core::integration::resource_regressions(runs, &baseline.runs, factor, severity));
            }
        }
        let waivers: Vec<_> = self.store.waivers(&slug).await?.into_iter().map(|w| w.waiver).collect();
        let verdict = match &runs {
            Some(runs) => view::decide(runs, &waivers, &version, self.clock.now()).0,
            None => Verdict::Error,
        };
        let finished = crate::recorder::FinishedReview {
            slug: slug.clone(),
            version: version.clone(),
            pack_name: pack.manifest.name.clone(),
            pack_version: pack.manifest.version.to_string(),
            runs: runs.unwrap_or_default(),
            verdict,
            job: Some(claimed.lease),
            seed: assay_host::platform::DEFAULT_SEED,
            limits: crate::bundle::BundleLimits::from(self.host.limits()).to_json(),
            previous_version: claimed.previous_version.clone(),
        };
        let started = Instant::now();
        // Recorded with the reviews that finish at the same time: one commit for all.
        let next_lease = claim_next.then_some(self.config.lease_secs);
        let (result, next) = self.recorder.record(&self.store, ACTOR, finished, next_lease).await;
        if let Some(next) = next {
            self.carried.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push_back(next);
        }
        metrics::histogram!("assay_review_host_seconds").record(host_time.as_secs_f64());
        metrics::histogram!("assay_review_store_seconds").record(started.elapsed().as_secs_f64());
        match result {
            Ok(recorded) => {
                metrics::counter!("assay_reviews_total", "verdict" => verdict.as_str()).increment(1);
                self.verdicts.wake(&slug, &version);
                if let Some(queued) = claimed.enqueued_ms {
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                    let waited = (now.as_millis() as i64 - queued).max(0) as f64 / 1000.0;
                    metrics::histogram!("assay_submit_to_verdict_seconds").record(waited);
                }
                tracing::info!(%slug, %version, %verdict, state = %recorded.state, host_ms = host_time.as_millis() as u64, "review finished");
                Ok(Some(recorded))
            }
            // Recorded by another delivery, or the version moved on: this job is over.
            Err(StoreError::Conflict { current }) => {
                tracing::info!(%slug, %version, %current, "review result not needed any more");
                self.store.finish_job(claimed.lease.job).await?;
                self.verdicts.wake(&slug, &version);
                Ok(self.store.version(&slug, &version).await?)
            }
            // The lease lapsed while the review ran: whoever holds the job now records it.
            Err(StoreError::LeaseLost) => {
                tracing::warn!(%slug, %version, "review lease lapsed before the result was recorded; result dropped");
                Ok(self.store.version(&slug, &version).await?)
            }
            Err(e) => {
                self.fail_jobs(&[claimed.lease], &error_chain(&e)).await;
                Err(e.into())
            }
        }
    }

    /// Claim a batch of re-checks, run them and record their verdicts; how many were recorded.
    pub async fn recheck_batch(&self, worker: &str) -> Result<usize, ServiceError> {
        // One suspect at a time per process (see `Store::claim_rechecks`).
        let suspects = self.suspect_slot.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok();
        let result = self.recheck_claimed(worker, suspects).await;
        if suspects {
            self.suspect_slot.store(false, Ordering::Release);
        }
        result
    }

    async fn recheck_claimed(&self, worker: &str, suspects: bool) -> Result<usize, ServiceError> {
        let claimed = self.store.claim_rechecks(worker, self.config.lease_secs, RECHECK_BATCH, suspects).await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let leases: Vec<Lease> = claimed.iter().map(|c| c.lease).collect();
        let heartbeat = self.heartbeat(leases.clone());
        let outcome = self.run_rechecks(claimed).await;
        heartbeat.abort();
        let results = match outcome {
            Ok(results) => results,
            Err(e) => {
                // Nothing recorded: every job of the batch is retried after a backoff.
                self.fail_jobs(&leases, &error_chain(&e)).await;
                return Err(e);
            }
        };
        let done = match self.store.complete_rechecks(ACTOR, &results).await {
            Ok(done) => done,
            Err(e) => {
                self.fail_jobs(&leases, &error_chain(&e)).await;
                return Err(e.into());
            }
        };
        if done.refused > 0 {
            tracing::warn!(refused = done.refused, "re-check results refused: their leases lapsed");
        }
        metrics::counter!("assay_rechecks_total").increment(done.recorded as u64);
        if done.recorded > 0 {
            self.rechecked.notify_waiters();
        }
        if done.enforced > 0 {
            tracing::info!(
                enforced = done.enforced,
                "live versions failing an enforced rule pack left the marketplace"
            );
        }
        Ok(done.recorded)
    }

    /// Retry (or dead-letter) jobs whose run failed; a store that fails here too leaves them to
    /// their leases.
    async fn fail_jobs(&self, leases: &[Lease], message: &str) {
        for lease in leases {
            match self.store.fail_job(*lease, message).await {
                Ok(JobFate::Dead) => {
                    metrics::counter!("assay_dead_jobs_total").increment(1);
                    tracing::error!(job = lease.job.0, error = %message, "job dead-lettered")
                }
                Ok(JobFate::Retry(at)) => {
                    tracing::warn!(job = lease.job.0, retry_at = at, error = %message, "job failed; will retry")
                }
                Ok(JobFate::LeaseLost) => {}
                Err(e) => {
                    tracing::warn!(job = lease.job.0, error = %error_chain(&e), "could not record a job's failure")
                }
            }
        }
    }

    /// Run a batch of claimed re-checks in the plugin host.
    async fn run_rechecks(&self, claimed: Vec<ClaimedRecheck>) -> Result<Vec<RecheckResult>, ServiceError> {
        // Each job's pack (loaded once per batch), whether it applies its verdicts, the partner
        // components (fetched once per digest) and the listing's waivers.
        // Check specs hash their component: built once per batch, not once per job.
        let mut packs: HashMap<Option<i64>, BatchPack> = HashMap::new();
        let mut components: HashMap<String, CheckSpec> = HashMap::new();
        let mut jobs = Vec::with_capacity(claimed.len());
        let now = self.clock.now();
        let mut api_flags: HashMap<String, Option<Finding>> = HashMap::new();
        for mut job in claimed {
            if let std::collections::hash_map::Entry::Vacant(slot) = packs.entry(job.pack) {
                let (pack, id, applied) = match job.pack {
                    Some(id) => {
                        let record = self.store.pack_by_id(id).await?;
                        let applied = record.as_ref().is_some_and(|p| p.applied_at.is_some());
                        (self.pack_by_id(id).await?, Some(id), applied)
                    }
                    None => (self.current_pack().await?, None, false),
                };
                let checks = self.checks_of(&pack);
                slot.insert((pack, checks, id, applied));
            }
            for (_, digest) in &job.checks {
                if !components.contains_key(digest) {
                    let bytes = self.store.plugin_bytes(digest).await?.unwrap_or_default();
                    components.insert(digest.clone(), CheckSpec::partner(String::new(), Arc::from(bytes)));
                }
            }
            let waivers = std::mem::take(&mut job.waivers);
            let listing = match Manifest::parse("listing.toml", &job.version.manifest) {
                Ok(parsed) => Some(parsed.manifest),
                Err(e) => {
                    tracing::error!(slug = %job.version.slug, error = %e, "a stored manifest no longer parses");
                    None
                }
            };
            let api_flag = match &listing {
                Some(listing) => match api_flags.get(&listing.api_version) {
                    Some(flag) => flag.clone(),
                    None => {
                        let flag = self.api_deprecation_finding(&listing.api_version).await?;
                        api_flags.insert(listing.api_version.clone(), flag.clone());
                        flag
                    }
                },
                None => None,
            };
            jobs.push((job, listing, waivers, api_flag));
        }
        let host = self.host.clone();
        let results = tokio::task::spawn_blocking(move || {
            // Every job's checks, then one call that spreads the batch over the host's workers a
            // listing at a time.
            let checks: Vec<Vec<CheckSpec>> = jobs
                .iter()
                .map(|(job, ..)| {
                    let mut checks = packs[&job.pack].1.to_vec();
                    for (name, digest) in &job.checks {
                        checks.push(CheckSpec { name: name.clone(), ..components[digest].clone() });
                    }
                    checks
                })
                .collect();
            let inputs: Vec<ReviewInput<'_>> = jobs
                .iter()
                .zip(&checks)
                .filter_map(|((_, listing, ..), checks)| Some(ReviewInput::new(listing.as_ref()?, None, checks)))
                .collect();
            let mut reviews = host.review_many(&inputs).into_iter();
            jobs.iter()
                .map(|(job, listing, waivers, api_flag)| {
                    let (pack, _, pack_id, applied) = &packs[&job.pack];
                    // Jobs whose manifest no longer parses were left out of `inputs`, in order.
                    let runs = listing.as_ref().and_then(|_| reviews.next()).map(|review| review.runs);
                    let (verdict, findings) = match &runs {
                        Some(runs) => view::decide(runs, waivers, &job.version.version, now),
                        None => (Verdict::Error, Vec::new()),
                    };
                    let mut blocking: Vec<&str> = findings
                        .iter()
                        .filter(|f| f.waived_by.is_none() && f.finding.severity >= view::FAIL_ON)
                        .map(|f| f.finding.rule_id.as_str())
                        .collect();
                    blocking.sort_unstable();
                    blocking.dedup();
                    let mut listed: Vec<serde_json::Value> =
                        findings.iter().map(|f| finding_json(&f.finding)).collect();
                    listed.extend(api_flag.iter().map(finding_json));
                    let fuel = runs.iter().flatten().filter_map(|r| r.usage.fuel).sum::<u64>();
                    RecheckResult {
                        lease: job.lease,
                        version: VersionId(job.version.id.0),
                        pack: *pack_id,
                        pack_name: pack.manifest.name.clone(),
                        pack_version: pack.manifest.version.to_string(),
                        verdict,
                        blocking: blocking.join(","),
                        findings: serde_json::Value::Array(listed).to_string(),
                        fuel: i64::try_from(fuel).unwrap_or(i64::MAX),
                        enforce: *applied && job.reason == "enforce",
                    }
                })
                .collect::<Vec<_>>()
        })
        .await;
        results.map_err(|e| ServiceError::invalid("", format!("the plugin host panicked during a re-check: {e}")))
    }

    /// A warning when the manifest targets a platform API version that is deprecated now.
    async fn api_deprecation_finding(&self, api: &str) -> Result<Option<Finding>, ServiceError> {
        let today = self.today();
        let found = self.store.api_deprecations(api).await?;
        let Some(d) = found.iter().filter(|d| d.schedule.deprecated_from <= today).min_by_key(|d| d.schedule.sunset)
        else {
            return Ok(None);
        };
        Ok(Some(Finding {
            rule_id: "platform.api-version-deprecated".into(),
            severity: Severity::Warning,
            message: format!(
                "the listing targets platform API version `{api}`, deprecated since {}; it stops working at its sunset on {}",
                d.schedule.deprecated_from, d.schedule.sunset
            ),
            pointer: "/api_version".into(),
            remediation: Some(format!("Move to a supported API version before {}.", d.schedule.sunset)),
            help_url: "https://docs.assay.dev/lifecycle#deprecations".into(),
        }))
    }

    /// Renew the leases every third of their length until aborted, so a long run keeps its
    /// jobs and a dead worker's jobs lapse quickly.
    fn heartbeat(&self, leases: Vec<Lease>) -> tokio::task::JoinHandle<()> {
        let (store, lease_secs) = (self.store.clone(), self.config.lease_secs);
        tokio::spawn(async move {
            let period = Duration::from_secs(u64::try_from(lease_secs / 3).unwrap_or(1).max(1));
            loop {
                tokio::time::sleep(period).await;
                for lease in &leases {
                    if let Err(e) = store.extend_lease(*lease, lease_secs).await {
                        tracing::warn!(error = %error_chain(&e), "could not renew a job lease");
                    }
                }
            }
        })
    }

    /// Run the pack and the version's partner checks; `None` when the stored manifest no longer
    /// parses (a later parser is stricter), which makes the verdict `error`.
    async fn run_review(&self, claimed: &ClaimedReview, pack: Arc<RulePack>) -> Option<Vec<CheckRun>> {
        let listing = match Manifest::parse("listing.toml", &claimed.version.manifest) {
            Ok(parsed) => parsed.manifest,
            Err(e) => {
                tracing::error!(slug = %claimed.version.slug, error = %e, "a stored manifest no longer parses");
                return None;
            }
        };
        let previous = claimed
            .previous_manifest
            .as_deref()
            .and_then(|text| Manifest::parse("previous/listing.toml", text).ok())
            .map(|p| p.manifest);
        let mut checks = self.checks_of(&pack).to_vec();
        for (name, _digest, bytes) in &claimed.checks {
            checks.push(CheckSpec::partner(name.clone(), Arc::from(bytes.as_slice())));
        }
        let quarantined = claimed.quarantined.clone();
        let host = self.host.clone();
        let review = tokio::task::spawn_blocking(move || {
            let mut runs = host.review(ReviewInput::new(&listing, previous.as_ref(), &checks)).runs;
            // A quarantined check does not run; it is reported so the partner knows why.
            runs.extend(quarantined.into_iter().map(quarantined_run));
            runs
        })
        .await;
        match review {
            Ok(runs) => Some(runs),
            Err(e) => {
                tracing::error!(error = %e, "the plugin host panicked during a review");
                None
            }
        }
    }
}

/// The run reported for a partner check that is quarantined.
fn quarantined_run(name: String) -> CheckRun {
    CheckRun {
        check_id: name,
        digest: String::new(),
        rule: None,
        outcome: CheckOutcome::InvalidPlugin,
        message: Some(
            "this component is quarantined: workers running it were lost repeatedly (crashed or killed); \
             ship a fixed component under a new digest"
                .into(),
        ),
        findings: Vec::new(),
        usage: Default::default(),
        logs: Vec::new(),
        platform: false,
        integration: false,
        transcript: Vec::new(),
    }
}

fn finding_json(f: &Finding) -> serde_json::Value {
    serde_json::json!({
        "rule_id": f.rule_id,
        "severity": f.severity.as_str(),
        "message": f.message,
        "pointer": f.pointer,
        "remediation": f.remediation,
    })
}
