//! What operators and installers ask of a running service: is it ready, what does it review
//! with, and the first partner and tokens of a new installation.

use assay_core::identity::{Capability, PartnerId, Role};
use assay_core::pack::PackManifest;
use assay_store::Backend;

use crate::{Service, ServiceError};

/// What a readiness probe reports.
#[derive(Debug)]
pub struct Readiness {
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// The rule pack reviews run, `name@version`.
    pub rule_pack: String,
    /// Review jobs waiting, or why the database did not answer.
    pub pending_reviews: Result<i64, ServiceError>,
    /// The audit chain's first broken link (seq, why), when the last verification found one.
    pub audit_broken: Option<(i64, String)>,
}

/// The gauges `/metrics` reports, read from the store when it is scraped (so every node
/// reports the shared queue as it is).
#[derive(Debug, Clone, Default)]
pub struct OperatorGauges {
    /// Versions awaiting a reviewer's decision (the review queue, holds included).
    pub awaiting_reviewer: i64,
    /// Of those, how many are past their review target.
    pub past_target: i64,
    /// Automated review jobs waiting or running.
    pub pending_reviews: i64,
    /// Jobs by kind: waiting, running, dead, the oldest waiting one's age.
    pub jobs: Vec<assay_core::queue::JobGauge>,
    /// Webhook endpoints whose deliveries fail.
    pub failing_endpoints: i64,
}

impl Service {
    /// Whether the database answers (and is migrated: the queue is read through the schema),
    /// with the pack reviews run.
    pub async fn readiness(&self) -> Readiness {
        let pack = &self.pack.manifest;
        Readiness {
            database: match self.store.backend() {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            },
            rule_pack: format!("{}@{}", pack.name, pack.version),
            pending_reviews: self.pending_reviews().await,
            audit_broken: self.audit_broken(),
        }
    }

    /// Review jobs waiting to be claimed.
    pub async fn pending_reviews(&self) -> Result<i64, ServiceError> {
        Ok(self.store.pending_reviews().await?)
    }

    /// What operators watch, read at scrape time: the queue of versions waiting for a
    /// reviewer, jobs by kind, and webhook endpoints that fail.
    pub async fn operator_gauges(&self) -> Result<OperatorGauges, ServiceError> {
        let now = self.clock.now();
        let target = self.config.review_target_days;
        let queue = self.store.review_queue().await?;
        let jobs = self.store.job_gauges().await?;
        let pending_reviews = jobs.iter().filter(|j| j.kind == "review").map(|j| j.waiting + j.running).sum();
        Ok(OperatorGauges {
            awaiting_reviewer: queue.len() as i64,
            past_target: queue.iter().filter(|e| e.due_at(target, now) < now).count() as i64,
            pending_reviews,
            jobs,
            failing_endpoints: self.store.failing_endpoints().await?,
        })
    }

    /// The built-in rule pack's manifest: its name, version and rules.
    pub fn pack_manifest(&self) -> &PackManifest {
        &self.pack.manifest
    }

    /// Bootstrap: the partner named `name` with `capabilities`, created if it does not exist.
    /// For installers and demos; `actor` names who ran it in the audit log.
    pub async fn bootstrap_partner(
        &self,
        actor: &str,
        name: &str,
        capabilities: &[Capability],
    ) -> Result<PartnerId, ServiceError> {
        Ok(self.store.ensure_partner(actor, name, capabilities).await?)
    }

    /// Bootstrap: a new token with `role` (for `partner`, when the role is `partner`). The
    /// secret is returned once; only its hash is stored.
    pub async fn bootstrap_token(
        &self,
        actor: &str,
        role: Role,
        partner: Option<PartnerId>,
    ) -> Result<String, ServiceError> {
        Ok(self.store.create_token(actor, role, partner).await?)
    }
}
