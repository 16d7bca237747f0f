//! Rule-pack rollout: publish in shadow, read the blast radius, enforce with a grace deadline.
//!
//! 1. **Shadow.** [`Service::publish_pack`] stores the pack and, in the same transaction,
//!    enqueues a re-check of every live listing. Verdicts are recorded, never applied.
//! 2. **Blast radius.** [`Service::rollout`] reports the progress of the re-check and, as
//!    verdicts arrive, who would fail and on which rules.
//! 3. **Enforce.** [`Service::enforce_pack`] (only once the shadow re-check is complete) sets the
//!    deadline and sends each affected partner a change notice, in one transaction.
//! 4. **Apply.** At the deadline the scheduler ([`Service::apply_rollouts`]) makes the pack the
//!    active one and enqueues a fresh re-check of every live listing: versions fixed during the
//!    grace period pass, waivers granted meanwhile count, and a version that still fails leaves
//!    the marketplace (`changes_requested`) in the transaction that records its verdict.

use std::collections::BTreeMap;
use std::sync::Arc;

use assay_core::identity::Principal;
use assay_core::notice::{Audience, NoticeKind};
use assay_core::queue::JobCounts;
use assay_core::rollout::{Affected, PackMode, PackRecord, VerdictCounts};
use assay_host::RulePack;
use assay_store::{NewNotice, NewPack};
use sha2::{Digest, Sha256};

use crate::access::{Permission, require};
use crate::clock::{Clock as _, SystemClock};
use crate::{Service, ServiceError};

/// How the audit log names the scheduler when it applies a pack.
const SCHEDULER: &str = "scheduler";

/// The most affected listings a rollout report lists (the counts cover all of them).
pub const AFFECTED_SHOWN: i64 = 500;

/// A rule pack as uploaded: its `pack.toml` and the components it names.
#[derive(Debug, Clone)]
pub struct PackUpload {
    /// The `pack.toml`.
    pub manifest: String,
    /// The files `pack.toml` names, by file name: the components and the rules' documentation.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Where a rollout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Re-checking every live listing; verdicts are recorded, not applied.
    Shadow,
    /// Enforced from a deadline that has not come yet.
    Grace,
    /// The active pack; its failing verdicts are applied.
    Enforced,
}

impl Phase {
    /// The name shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Shadow => "shadow",
            Phase::Grace => "grace",
            Phase::Enforced => "enforced",
        }
    }
}

/// A rollout's progress and blast radius.
#[derive(Debug, Clone)]
pub struct Rollout {
    /// The pack.
    pub pack: PackRecord,
    /// Where it is.
    pub phase: Phase,
    /// The re-check jobs of the current phase (the shadow re-check, or the enforcing one once
    /// applied) by state.
    pub jobs: JobCounts,
    /// Their verdicts so far.
    pub verdicts: VerdictCounts,
    /// When the current phase's re-check began (Unix seconds).
    pub started_at: i64,
    /// Seconds until the re-check is done at the rate so far, once there is a rate.
    pub eta_secs: Option<i64>,
    /// Failing listings per rule, most first: who would fail, on which rules.
    pub by_rule: Vec<(String, i64)>,
    /// The failing listings, by slug (at most [`AFFECTED_SHOWN`]).
    pub affected: Vec<Affected>,
}

impl Rollout {
    /// The re-check of the current phase has finished (every job done or dead).
    pub fn complete(&self) -> bool {
        self.jobs.waiting + self.jobs.running == 0
    }
}

/// The longest grace period before an enforced pack's verdicts apply, in days.
pub const MAX_GRACE_DAYS: u32 = 3650;

impl Service {
    /// Publish a rule pack in shadow mode: every live listing is re-checked with it, nothing
    /// is blocked. Reviewers and admins only. Each component must load in the plugin host.
    pub async fn publish_pack(&self, who: &Principal, upload: PackUpload) -> Result<Rollout, ServiceError> {
        require(who, Permission::Govern)?;
        let files: BTreeMap<String, Arc<[u8]>> =
            upload.files.into_iter().map(|(name, bytes)| (name, Arc::from(bytes))).collect();
        let pack = RulePack::from_parts(&upload.manifest, |name| files.get(name).cloned())
            .map_err(|e| ServiceError::invalid("/pack.toml", e.to_string()))?;
        // Every component must load (world, version, describe) before anything is stored, under
        // the same compile limits as partner uploads.
        let uploads: Vec<crate::UploadedCheck> = pack
            .manifest
            .rules
            .iter()
            .zip(&pack.components)
            .map(|(rule, bytes)| crate::UploadedCheck { name: rule.component.clone(), bytes: bytes.to_vec() })
            .collect();
        let digests = self.validate_checks(&uploads).await?;
        let digest = pack_digest(&upload.manifest, &pack.components);
        let new_components = crate::service::stored(&uploads, &digests);
        let (name, version) = (pack.manifest.name.clone(), pack.manifest.version.to_string());
        // By file name: two rules may share one page.
        let docs: BTreeMap<&str, &str> = pack
            .manifest
            .rules
            .iter()
            .zip(&pack.docs)
            .filter_map(|(rule, docs)| Some((rule.docs.as_deref()?, docs.as_deref()?)))
            .collect();
        let docs: Vec<(&str, &str)> = docs.into_iter().collect();
        let new = NewPack {
            name: &name,
            version: &version,
            digest: &digest,
            manifest: &upload.manifest,
            components: &new_components,
            docs: &docs,
        };
        let (record, enqueued) = self.store.publish_pack(&who.actor, &new).await?;
        tracing::info!(pack = %format!("{name}@{version}"), enqueued, "rule pack published in shadow mode");
        self.wake.notify_waiters();
        self.rollout_of(record).await
    }

    /// Every published pack, newest first, with its rollout.
    pub async fn rollouts(&self, who: &Principal) -> Result<Vec<Rollout>, ServiceError> {
        require(who, Permission::SeeOperations)?;
        let mut out = Vec::new();
        for pack in self.store.packs().await? {
            out.push(self.rollout_of(pack).await?);
        }
        Ok(out)
    }

    /// One pack's rollout: progress and blast radius.
    pub async fn rollout(&self, who: &Principal, name: &str, version: &str) -> Result<Rollout, ServiceError> {
        require(who, Permission::SeeOperations)?;
        let pack = self.published(name, version).await?;
        self.rollout_of(pack).await
    }

    /// [`Service::rollout`], once its re-check has no job waiting or running, or `wait` has
    /// passed, whichever comes first: a long poll. Woken by this process's recorded re-checks,
    /// and counting again at most every 100 ms (a count reads the whole re-check), so a storm's
    /// batches do not each cost one; other processes' progress is seen within
    /// [`crate::LONG_POLL_RECHECK`].
    pub async fn rollout_when_done(
        &self,
        who: &Principal,
        name: &str,
        version: &str,
        wait: std::time::Duration,
    ) -> Result<Rollout, ServiceError> {
        const SPACING: std::time::Duration = std::time::Duration::from_millis(100);
        self.long_poll(&self.rechecked, wait, SPACING, || async move {
            let rollout = self.rollout(who, name, version).await?;
            let done = rollout.jobs.waiting + rollout.jobs.running == 0;
            Ok((rollout, done))
        })
        .await
    }

    /// Enforce a shadow pack `grace_days` (at most [`MAX_GRACE_DAYS`]) from now: each partner
    /// whose live listing it fails gets a change notice naming the rules and the deadline.
    /// Refused while the shadow re-check is still running, since the notices come from its
    /// verdicts.
    pub async fn enforce_pack(
        &self,
        who: &Principal,
        name: &str,
        version: &str,
        grace_days: u32,
    ) -> Result<Rollout, ServiceError> {
        require(who, Permission::Govern)?;
        if grace_days > MAX_GRACE_DAYS {
            return Err(ServiceError::invalid(
                "/grace_days",
                format!("a grace period is at most {MAX_GRACE_DAYS} days (ten years); {grace_days} is more"),
            ));
        }
        let pack = self.published(name, version).await?;
        if pack.mode == PackMode::Enforce {
            return Err(ServiceError::Exists(format!("enforcement of rule pack {name}@{version}")));
        }
        let shadow = self.rollout_of(pack.clone()).await?;
        if !shadow.complete() {
            return Err(ServiceError::NotReady(format!(
                "the shadow re-check of {name}@{version} is still running ({} of {} done); enforce it once it is complete",
                shadow.jobs.done + shadow.jobs.dead,
                shadow.jobs.total()
            )));
        }
        let enforce_at = self.clock.now() + i64::from(grace_days) * 86_400;
        let day = jiff::Timestamp::from_second(enforce_at)
            .map_err(|e| ServiceError::invalid("/grace_days", e.to_string()))?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        let affected = self.store.blast_radius(pack.id, "pack", i64::MAX).await?;
        let texts: Vec<(String, String, String)> = affected
            .iter()
            .map(|a| {
                let rules = a.blocking.replace(',', ", ");
                (
                    a.slug.clone(),
                    format!(
                        "Rule pack {name}@{version} is enforced from {day}: version {} of this listing fails {rules}",
                        a.version
                    ),
                    format!(
                        "Ship a version that passes {rules} before {day}, or ask a reviewer for a waiver; \
                         a live version that still fails then leaves the marketplace."
                    ),
                )
            })
            .collect();
        let notices: Vec<NewNotice<'_>> = texts
            .iter()
            .map(|(slug, summary, action)| NewNotice {
                slug: Some(slug),
                kind: NoticeKind::Breaking,
                summary,
                effective: day,
                action_required: Some(action),
                audience: Audience::Partners,
            })
            .collect();
        let Some(enforced) = self.store.enforce_pack(&who.actor, pack.id, enforce_at, &notices).await? else {
            return Err(ServiceError::Exists(format!("enforcement of rule pack {name}@{version}")));
        };
        tracing::info!(pack = %format!("{name}@{version}"), %day, notified = notices.len(), "rule pack enforced");
        self.rollout_of(enforced).await
    }

    /// Apply every enforced pack whose deadline has come (a scheduler pass): it becomes the
    /// active pack and every live listing is re-checked with its verdicts applied. Returns
    /// the packs applied. Safe on several nodes: each pack is applied once.
    pub async fn apply_rollouts(&self) -> Result<Vec<String>, ServiceError> {
        let mut applied = Vec::new();
        for pack in self.store.packs_due(self.clock.now()).await? {
            if let Some(enqueued) = self.store.apply_pack(SCHEDULER, pack.id, self.clock.now()).await? {
                tracing::info!(pack = %format!("{}@{}", pack.name, pack.version), enqueued, "rule pack applied");
                applied.push(format!("{}@{}", pack.name, pack.version));
            }
        }
        if !applied.is_empty() {
            self.wake.notify_waiters();
        }
        Ok(applied)
    }

    /// The job queue: every job by state, and the newest dead letters with their reasons.
    pub async fn queue(&self, who: &Principal) -> Result<(JobCounts, Vec<assay_core::queue::DeadJob>), ServiceError> {
        require(who, Permission::SeeOperations)?;
        Ok((self.store.job_counts(None).await?, self.store.dead_jobs(100).await?))
    }

    /// The manifest of the pack new reviews run: its name, version and rules.
    pub async fn active_pack(&self) -> Result<assay_core::pack::PackManifest, ServiceError> {
        Ok(self.current_pack().await?.manifest.clone())
    }

    /// The pack new reviews run: the last one applied, else the one the service started with.
    pub(crate) async fn current_pack(&self) -> Result<Arc<RulePack>, ServiceError> {
        match self.store.active_pack().await? {
            Some(active) => self.pack_by_id(active.id).await,
            None => Ok(self.pack.clone()),
        }
    }

    /// A published pack, loaded once per process.
    pub(crate) async fn pack_by_id(&self, id: i64) -> Result<Arc<RulePack>, ServiceError> {
        if let Some(pack) = self.packs.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(pack.clone());
        }
        let (manifest, components) = self.store.pack_contents(id).await?;
        let components: BTreeMap<String, Arc<[u8]>> =
            components.into_iter().map(|(name, bytes)| (name, Arc::from(bytes))).collect();
        let pack = RulePack::from_parts(&manifest, |name| components.get(name).cloned())
            .map_err(|e| ServiceError::internal(assay_store::StoreError::Corrupt(format!("rule pack {id}: {e}"))))?;
        let pack = Arc::new(pack);
        self.packs.lock().unwrap_or_else(|p| p.into_inner()).insert(id, pack.clone());
        Ok(pack)
    }

    /// The pack named `name@version`: the one the service started with, or a published one.
    pub(crate) async fn pack_named(&self, name: &str, version: &str) -> Result<Option<Arc<RulePack>>, ServiceError> {
        if self.pack.manifest.name == name && self.pack.manifest.version.to_string() == version {
            return Ok(Some(self.pack.clone()));
        }
        match self.store.pack(name, version).await? {
            Some(record) => Ok(Some(self.pack_by_id(record.id).await?)),
            None => Ok(None),
        }
    }

    async fn published(&self, name: &str, version: &str) -> Result<PackRecord, ServiceError> {
        self.store
            .pack(name, version)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("rule pack {name}@{version}")))
    }

    async fn rollout_of(&self, pack: PackRecord) -> Result<Rollout, ServiceError> {
        let (phase, reason, started_at) = match (pack.mode, pack.applied_at) {
            (PackMode::Shadow, _) => (Phase::Shadow, "pack", pack.created_at),
            (PackMode::Enforce, None) => (Phase::Grace, "pack", pack.created_at),
            (PackMode::Enforce, Some(at)) => (Phase::Enforced, "enforce", at),
        };
        let jobs = self.store.job_counts(Some((pack.id, reason))).await?;
        let verdicts = self.store.recheck_verdicts(pack.id, reason).await?;
        let by_rule = self.store.blast_by_rule(pack.id, reason).await?;
        let affected = self.store.blast_radius(pack.id, reason, AFFECTED_SHOWN).await?;
        let finished = jobs.done + jobs.dead;
        let remaining = jobs.waiting + jobs.running;
        // Progress rates are about real time, whatever the service's clock says.
        let elapsed = (SystemClock.now() - started_at).max(1);
        let eta_secs = (finished > 0 && remaining > 0).then(|| remaining * elapsed / finished);
        Ok(Rollout { pack, phase, jobs, verdicts, started_at, eta_secs, by_rule, affected })
    }
}

/// A pack's digest, as the service records it and `assay rules publish` compares it:
/// SHA-256 over `pack.toml` and each component's SHA-256 (hex), in the manifest's order.
pub fn pack_digest(manifest: &str, components: &[impl AsRef<[u8]>]) -> String {
    let mut digest = Sha256::new();
    digest.update(manifest.as_bytes());
    for component in components {
        digest.update(hex::encode(Sha256::digest(component.as_ref())).as_bytes());
    }
    hex::encode(digest.finalize())
}
