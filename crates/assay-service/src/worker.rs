//! The review worker: claim a job, run the checks, record the verdict and end the job.
//!
//! Runs inside `assay serve`. Jobs are at-least-once (a review a crash interrupted runs again
//! after restart); verdicts are recorded once, because recording needs the version to still be
//! `checking` and ends the job in the same transaction.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assay_core::{CheckRun, Manifest, Verdict};
use assay_host::{CheckSpec, ReviewInput};
use assay_store::{ClaimedReview, ReviewRecord, StoreError, VersionRecord};

use crate::view;
use crate::{Service, ServiceError, error_chain};

/// How the audit log names the worker.
const ACTOR: &str = "worker";

/// How often an idle worker looks for work it was not woken for (another node's submissions,
/// expired leases).
const POLL: Duration = Duration::from_secs(2);

impl Service {
    /// Review every waiting version until `shutdown` completes. Errors are logged and retried.
    pub async fn run_worker(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.review_next().await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => tracing::error!(error = %error_chain(&e), "review worker failed; retrying"),
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Claim and finish one review; `None` when nothing is waiting.
    pub async fn review_next(&self) -> Result<Option<VersionRecord>, ServiceError> {
        let Some(claimed) = self.store.claim_review(ACTOR, self.config.lease_secs).await? else { return Ok(None) };
        let (slug, version) = (claimed.version.slug.clone(), claimed.version.version.clone());
        let started = Instant::now();
        let heartbeat = self.heartbeat(claimed.job);
        let mut runs = self.run_checks(&claimed).await;
        heartbeat.abort();
        let host_time = started.elapsed();
        if let (Some(runs), Some(previous)) = (runs.as_mut(), claimed.previous_version.as_deref()) {
            // Resource regressions against the last approved version's own review.
            if let Some(baseline) = self.store.latest_review(&slug, previous).await? {
                let factor = self.config.resource_regression_factor;
                runs.extend(assay_core::integration::resource_regressions(runs, &baseline.runs, factor));
            }
        }
        let waivers: Vec<_> = self.store.waivers(&slug).await?.into_iter().map(|w| w.waiver).collect();
        let verdict = match &runs {
            Some(runs) => view::decide(runs, &waivers, &version, self.clock.now()).0,
            None => Verdict::Error,
        };
        let runs = runs.unwrap_or_default();
        let pack = &self.pack.manifest;
        let limits = crate::bundle::BundleLimits::from(self.host.limits()).to_json();
        let record = ReviewRecord {
            pack_name: &pack.name,
            pack_version: &pack.version.to_string(),
            runs: &runs,
            verdict,
            job: Some(claimed.job),
            seed: assay_host::platform::DEFAULT_SEED,
            limits: &limits,
            previous_version: claimed.previous_version.as_deref(),
        };
        let started = Instant::now();
        let result = self.store.record_review(ACTOR, &slug, &version, &record).await;
        metrics::histogram!("assay_review_host_seconds").record(host_time.as_secs_f64());
        metrics::histogram!("assay_review_store_seconds").record(started.elapsed().as_secs_f64());
        match result {
            Ok(recorded) => {
                metrics::counter!("assay_reviews_total", "verdict" => verdict.as_str()).increment(1);
                tracing::info!(%slug, %version, %verdict, state = %recorded.state, host_ms = host_time.as_millis() as u64, "review finished");
                Ok(Some(recorded))
            }
            // Recorded by another delivery, or the version moved on: this job is over.
            Err(StoreError::Conflict { current }) => {
                tracing::info!(%slug, %version, %current, "review result not needed any more");
                self.store.finish_job(claimed.job).await?;
                Ok(self.store.version(&slug, &version).await?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Renew the job's lease every third of it until aborted, so a long review keeps its job
    /// and a dead worker's job lapses quickly.
    fn heartbeat(&self, job: assay_store::JobId) -> tokio::task::JoinHandle<()> {
        let (store, lease) = (self.store.clone(), self.config.lease_secs);
        tokio::spawn(async move {
            let period = Duration::from_secs(u64::try_from(lease / 3).unwrap_or(1).max(1));
            loop {
                tokio::time::sleep(period).await;
                if let Err(e) = store.extend_lease(job, lease).await {
                    tracing::warn!(error = %error_chain(&e), "could not renew a review lease");
                }
            }
        })
    }

    /// Run the pack and the version's partner checks; `None` when the stored manifest no longer
    /// parses (a later parser is stricter), which makes the verdict `error`.
    async fn run_checks(&self, claimed: &ClaimedReview) -> Option<Vec<CheckRun>> {
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
        let mut checks = self.pack.checks();
        for (name, _digest, bytes) in &claimed.checks {
            checks.push(CheckSpec::partner(name.clone(), Arc::from(bytes.as_slice())));
        }
        let host = self.host.clone();
        let review = tokio::task::spawn_blocking(move || {
            host.review(ReviewInput::new(&listing, previous.as_ref(), &checks)).runs
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
