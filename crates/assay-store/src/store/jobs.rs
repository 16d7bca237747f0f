//! The durable job queue: review jobs (a new version) and re-check jobs (a live version again,
//! because a rule pack, a partner check or the platform API moved).
//!
//! - **At-least-once.** A claim stamps the job with a lease computed from the *database's*
//!   clock (no two nodes' clocks need agree) and a new claim token (`lease`). A worker that dies
//!   leaves its lease to lapse; the next claim takes the job over.
//! - **Exactly-once verdicts.** A verdict and its job's completion commit in one transaction,
//!   and the completion only counts when the token is still the job's and its lease has not
//!   lapsed ([`StoreError::LeaseLost`] otherwise). Re-check verdicts are unique per job; a review
//!   also needs its version to still be `checking`.
//! - **Retries and dead letters.** A job that fails is retried with exponential backoff; after
//!   [`MAX_ATTEMPTS`] it is dead, with the reason. A job whose worker was lost (its lease lapsed)
//!   is claimed alone next time, so one poison job cannot take a batch down with it; after
//!   [`MAX_LOST`] losses the partner components it runs are quarantined (never run again) and it
//!   gets one more try without them, and if it has none it is dead.
//! - **Restart recovery.** Each process joins as a *node*: it takes the first free slot, a
//!   PostgreSQL session advisory lock held on a connection of its own for as long as it lives
//!   ([`Store::join_as_node`]), and stamps its claims with it. A slot is free only when the
//!   process that held it is gone (its connection died with it), so the leases stamped with a
//!   slot just taken belong to a dead process: they are released at once, and a process
//!   restarted after `kill -9` resumes its reviews without waiting out their leases. On SQLite
//!   one process owns the store and releases every lease when it starts.
//! - **Scale-out.** On PostgreSQL claims use `FOR UPDATE SKIP LOCKED`, so any number of workers
//!   share the queue without waiting on each other; re-check completions take no global lock.
//!   A review's claim and completion change its version's state and the audit chain, so they
//!   take the writer lock as every state change does.

use assay_core::{Transition, VersionState};
use sqlx::AnyConnection;

use super::waivers::{WaiverRow, waiver_columns};
use super::{
    Backend, Count, Id, Store, StoreError, Tally, VersionRow, WriteTx, advance, append, corrupt, now, select_versions,
};
use crate::model::{JobId, VersionId, VersionRecord};
pub use assay_core::queue::{DeadJob, JobCounts, JobGauge};

/// How many times a job may fail before it is dead.
pub const MAX_ATTEMPTS: i64 = 5;

/// How many times a job's worker may be lost (its lease lapsing) before the job's partner
/// components are quarantined, or the job is dead when it has none.
pub const MAX_LOST: i64 = 3;

/// The first retry waits this long; each further one twice as long, up to [`MAX_BACKOFF_SECS`].
const BACKOFF_SECS: i64 = 5;
const MAX_BACKOFF_SECS: i64 = 600;

/// The PostgreSQL advisory-lock class of node slots (`pg_try_advisory_lock(class, slot)`):
/// "asnd".
const NODE_LOCK_CLASS: i32 = 0x6173_6e64;

/// How many node slots a shared database offers: processes beyond that many run without one
/// (and fall back to waiting out a dead predecessor's leases).
const NODE_SLOTS: i32 = 1024;

/// A process's node slot, and on PostgreSQL the connection holding its lock.
pub(crate) struct NodeSlot {
    slot: i64,
    _lock: Option<std::sync::Mutex<AnyConnection>>,
}

impl std::fmt::Debug for NodeSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeSlot").field("slot", &self.slot).finish_non_exhaustive()
    }
}

/// What joining as a node found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeJoin {
    /// The slot taken (`None`: every slot is held by a live process).
    pub slot: Option<i64>,
    /// Leases a previous holder of the slot (or, on SQLite, any earlier process) left behind,
    /// released so their jobs are claimed again at once.
    pub released: u64,
    /// Webhook messages and e-mails it had in flight, due again at once.
    pub released_messages: u64,
}

/// A claimed job's identity: completing or renewing it needs both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job: JobId,
    /// The claim token: bumped by every claim, so an older claim's completion is refused.
    pub token: i64,
    /// How many times the job has been claimed, this time included.
    pub attempt: i64,
}

/// A review job a worker holds the lease of, with everything the review needs.
#[derive(Debug, Clone)]
pub struct ClaimedReview {
    /// The job and its claim.
    pub lease: Lease,
    /// The version under review (now `checking`).
    pub version: VersionRecord,
    /// The manifest of the listing's last live (approved, published or deprecated) version.
    pub previous_manifest: Option<String>,
    /// That last approved version's version string (when there is one).
    pub previous_version: Option<String>,
    /// The partner checks the version ships: name, digest and component bytes, in order.
    /// Quarantined components are left out (see [`ClaimedReview::quarantined`]).
    pub checks: Vec<(String, String, Vec<u8>)>,
    /// The names of the version's partner checks that are quarantined and will not run.
    pub quarantined: Vec<String>,
    /// When the review was queued (the submission), milliseconds since the Unix epoch; `None`
    /// for jobs queued before this was recorded.
    pub enqueued_ms: Option<i64>,
}

/// A re-check job a worker holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedRecheck {
    /// The job and its claim.
    pub lease: Lease,
    /// The live version to check again.
    pub version: VersionRecord,
    /// The rule pack to check it with; `None` for the platform's active pack.
    pub pack: Option<i64>,
    /// What triggered it: `pack` (a shadow re-check), `enforce`, `checks` or `api-deprecation`.
    pub reason: String,
    /// The partner checks the version ships: name and digest, in order; quarantined ones are
    /// left out.
    pub checks: Vec<(String, String)>,
    /// The listing's waivers, expired ones included.
    pub waivers: Vec<assay_core::Waiver>,
}

/// A finished re-check, as [`Store::complete_rechecks`] takes it.
#[derive(Debug, Clone)]
pub struct RecheckResult {
    /// The claim it completes.
    pub lease: Lease,
    /// The version checked.
    pub version: VersionId,
    /// The pack it ran, by id (`None`: the active pack, named below).
    pub pack: Option<i64>,
    /// The pack's name.
    pub pack_name: String,
    /// The pack's version.
    pub pack_version: String,
    /// The verdict, waivers applied.
    pub verdict: assay_core::Verdict,
    /// The rules with un-waived blocking findings, comma-separated.
    pub blocking: String,
    /// Every finding, as JSON.
    pub findings: String,
    /// Fuel the checks used in all.
    pub fuel: i64,
    /// Apply a failing verdict now (an enforced pack past its deadline): the live version
    /// leaves the marketplace (`changes_requested`), in the same transaction.
    pub enforce: bool,
}

/// What [`Store::complete_rechecks`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Completed {
    /// Verdicts recorded.
    pub recorded: usize,
    /// Completions refused because their lease had lapsed or been taken over.
    pub refused: usize,
    /// Live versions that left the marketplace.
    pub enforced: usize,
}

/// What became of a failed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobFate {
    /// It runs again, not before this time (Unix seconds, database clock).
    Retry(i64),
    /// It failed [`MAX_ATTEMPTS`] times and is dead.
    Dead,
    /// The claim had lapsed: another worker has the job now.
    LeaseLost,
}

impl Store {
    /// A transaction for work that changes no version and no audit chain (the queue, console
    /// sessions): on SQLite a
    /// write transaction (`BEGIN IMMEDIATE`, so it never fails upgrading a read), on PostgreSQL
    /// a plain one — row locks and `SKIP LOCKED` keep workers apart, not the writer lock.
    pub(crate) async fn queue_tx(&self) -> Result<WriteTx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.write().await,
            Backend::Postgres => Ok(WriteTx { tx: Some(self.pool.begin().await?), turn: None, since: None }),
        }
    }

    /// The database's clock, in Unix seconds, as SQL: leases are computed from it so nodes
    /// with skewed clocks still agree on when a lease lapses.
    pub(crate) fn db_now(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "CAST(strftime('%s', 'now') AS INTEGER)",
            Backend::Postgres => "CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp())) AS BIGINT)",
        }
    }

    /// Whether job `job` is a re-check of `slug`@`version` that is still to run (waiting or
    /// running): what a long poll for its verdict may wait for.
    pub async fn recheck_pending(&self, job: i64, slug: &str, version: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM jobs j JOIN versions v ON v.id = j.version_id JOIN listings l ON l.id = v.listing_id \
             WHERE j.id = $1 AND j.kind = 'recheck' AND j.state = 'pending' AND l.slug = $2 AND v.version = $3",
        )
        .bind(job)
        .bind(slug)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// The partner checks a version ships: name, digest and component bytes, in order.
    pub async fn version_checks(&self, version: VersionId) -> Result<Vec<(String, String, Vec<u8>)>, StoreError> {
        let rows = sqlx::query_as::<_, CheckRow>(
            "SELECT c.name, c.digest, p.bytes FROM version_checks c JOIN plugins p ON p.digest = c.digest \
             WHERE c.version_id = $1 ORDER BY c.position",
        )
        .bind(version.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|CheckRow { name, digest, bytes }| (name, digest, bytes)).collect())
    }

    /// A stored component's bytes by digest.
    pub async fn plugin_bytes(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query_as::<_, BytesRow>("SELECT bytes FROM plugins WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|BytesRow { bytes }| bytes))
    }

    /// Which of `digests` are quarantined, in one query.
    pub async fn quarantined(&self, digests: &[&str]) -> Result<Vec<String>, StoreError> {
        if digests.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT digest FROM quarantine WHERE digest IN ({})", params(1, digests.len()));
        let mut query = sqlx::query_as::<_, DigestRow>(sqlx::AssertSqlSafe(sql));
        for digest in digests {
            query = query.bind(*digest);
        }
        Ok(query.fetch_all(&self.pool).await?.into_iter().map(|DigestRow { digest }| digest).collect())
    }

    /// Claim the oldest waiting review job for `lease_secs` seconds, starting its version's
    /// checks. `None` when nothing is waiting.
    pub async fn claim_review(&self, actor: &str, lease_secs: i64) -> Result<Option<ClaimedReview>, StoreError> {
        // Look first without the writer: an idle poll (every worker, every pass) must not
        // queue behind every other writer.
        if !self.review_waiting().await? {
            return Ok(None);
        }
        let mut tx = self.write().await?;
        let claimed = self.claim_reviews_in(&mut tx, actor, lease_secs, 1).await?;
        tx.commit().await?;
        match claimed.into_iter().next() {
            Some((claim, version)) => Ok(Some(self.claimed_review(claim, version).await?)),
            None => Ok(None),
        }
    }

    /// Whether a review job is waiting to be claimed (read without the writer).
    pub(crate) async fn review_waiting(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(self.oldest_claimable_review())).fetch_optional(&self.pool).await?.is_some())
    }

    /// The oldest review job that may be claimed now, as SQL.
    fn oldest_claimable_review(&self) -> String {
        format!(
            "SELECT id FROM jobs WHERE state = 'pending' AND kind = 'review' AND run_after <= {now} \
             AND (leased_until IS NULL OR leased_until < {now}) ORDER BY id LIMIT 1",
            now = self.db_now()
        )
    }

    /// Claim up to `limit` waiting review jobs inside the caller's write transaction, moving
    /// each version to `checking` with its audit event; a job whose version moved on before
    /// its review ran is ended. The claims and their versions; [`Store::claimed_review`] reads
    /// the rest once the transaction commits.
    pub(crate) async fn claim_reviews_in(
        &self,
        tx: &mut AnyConnection,
        actor: &str,
        lease_secs: i64,
        limit: usize,
    ) -> Result<Vec<(Claim, VersionRecord)>, StoreError> {
        let mut out = Vec::new();
        while out.len() < limit {
            // The oldest claimable job is picked and stamped in one statement.
            let (stamped, mut claims) = self.stamp_claims(&mut *tx, Claiming::OldestReview, actor, lease_secs).await?;
            if stamped == 0 {
                break;
            }
            let Some(claim) = claims.pop() else { continue };
            let job = claim.lease.job.0;
            let mut version = sqlx::query_as::<_, VersionRow>(concat!(select_versions!(), " WHERE v.id = $1"))
                .bind(claim.version)
                .fetch_one(&mut *tx)
                .await?
                .record()?;
            match version.state {
                VersionState::Submitted => {
                    let moved = advance(
                        &mut *tx,
                        &version.slug,
                        &version.version,
                        VersionState::Submitted,
                        VersionState::Checking,
                        false,
                    )
                    .await?;
                    if moved.is_none() {
                        return Err(StoreError::Corrupt(format!("version {} vanished during a claim", version.id.0)));
                    }
                    let subject = format!("listing:{}@{}", version.slug, version.version);
                    append(
                        &mut *tx,
                        actor,
                        &format!("version.{}", Transition::StartChecks.as_str()),
                        &subject,
                        "submitted -> checking",
                    )
                    .await?;
                    version.state = VersionState::Checking;
                    version.revision += 1;
                }
                VersionState::Checking => {
                    tracing::info!(slug = %version.slug, version = %version.version, attempt = claim.lease.attempt, "resuming an interrupted review");
                }
                // Withdrawn (or otherwise moved on) before its review ran: nothing to do.
                _ => {
                    end_job(&mut *tx, JobId(job), None).await?;
                    continue;
                }
            }
            out.push((claim, version));
        }
        Ok(out)
    }

    /// Everything else a claimed review needs, read after its claim committed: the last
    /// approved version to compare with, and the partner checks (quarantined ones left out).
    pub(crate) async fn claimed_review(
        &self,
        claim: Claim,
        version: VersionRecord,
    ) -> Result<ClaimedReview, StoreError> {
        let previous = sqlx::query_as::<_, PreviousRow>(
            "SELECT manifest, version FROM versions WHERE listing_id = $1 AND id < $2 \
             AND state IN ('approved', 'published', 'deprecated') ORDER BY id DESC LIMIT 1",
        )
        .bind(version.listing.0)
        .bind(version.id.0)
        .fetch_optional(&self.pool)
        .await?;
        let (previous_manifest, previous_version) = previous.map(|p| (p.manifest, p.version)).unzip();
        let mut checks = self.version_checks(version.id).await?;
        let digests: Vec<&str> = checks.iter().map(|(_, d, _)| d.as_str()).collect();
        let bad = self.quarantined(&digests).await?;
        let quarantined = checks.iter().filter(|(_, d, _)| bad.contains(d)).map(|(n, ..)| n.clone()).collect();
        checks.retain(|(_, d, _)| !bad.contains(d));
        Ok(ClaimedReview {
            lease: claim.lease,
            version,
            previous_manifest,
            previous_version,
            checks,
            quarantined,
            enqueued_ms: claim.enqueued_ms,
        })
    }

    /// Claim up to `limit` waiting re-check jobs for `lease_secs` seconds, oldest first. A job
    /// whose worker was lost before is claimed alone, so a job that kills its workers takes no
    /// batch down with it.
    ///
    /// `suspects`: whether this claim may take a suspect. A process lets one worker at a time
    /// take one, so a poison job crashing the process charges a lost worker to itself and not
    /// to other suspects running beside it.
    pub async fn claim_rechecks(
        &self,
        worker: &str,
        lease_secs: i64,
        limit: i64,
        suspects: bool,
    ) -> Result<Vec<ClaimedRecheck>, StoreError> {
        let now = self.db_now();
        let skip_locked = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        // A suspect — a job whose worker was lost (its lease lapsed, or the process restarted)
        // — is claimed alone; fresh jobs in batches.
        let pick = |suspect: bool, limit: i64| {
            let lease = if suspect {
                // The first term is the partial index `jobs_suspects`'s, word for word, so the
                // planners may use it instead of scanning every waiting job.
                format!(
                    "(lost > 0 OR leased_until IS NOT NULL) \
                     AND ((leased_until IS NOT NULL AND leased_until < {now}) OR (leased_until IS NULL AND lost > 0))"
                )
            } else {
                "leased_until IS NULL AND lost = 0".to_owned()
            };
            // The partial indexes hold exactly the claimable rows. Without statistics SQLite
            // would walk every waiting job instead; PostgreSQL's planner picks them itself
            // (their predicates appear word for word).
            let index = match (self.backend, suspect) {
                (Backend::Sqlite, true) => " INDEXED BY jobs_suspects",
                (Backend::Sqlite, false) => " INDEXED BY jobs_waiting",
                (Backend::Postgres, _) => "",
            };
            format!(
                "SELECT id FROM jobs{index} WHERE state = 'pending' AND kind = 'recheck' AND run_after <= {now} AND {lease} \
                 ORDER BY id LIMIT {limit}{skip_locked}"
            )
        };
        let mut tx = self.queue_tx().await?;
        let mut ids: Vec<i64> = Vec::new();
        if suspects {
            ids = sqlx::query_as::<_, Id>(sqlx::AssertSqlSafe(pick(true, 1)))
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|Id { id }| id)
                .collect();
        }
        if ids.is_empty() {
            ids = sqlx::query_as::<_, Id>(sqlx::AssertSqlSafe(pick(false, limit.max(1))))
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|Id { id }| id)
                .collect();
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (_, claims) = self.stamp_claims(&mut tx, Claiming::Ids(&ids), worker, lease_secs).await?;
        if claims.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        // Everything the batch needs in three queries, not three per job.
        let versions: Vec<i64> = claims.iter().map(|c| c.version).collect();
        let sql = format!("{} WHERE v.id IN ({})", select_versions!(), params(1, versions.len()));
        let mut query = sqlx::query_as::<_, VersionRow>(sqlx::AssertSqlSafe(sql));
        for id in &versions {
            query = query.bind(*id);
        }
        let mut records = std::collections::HashMap::new();
        for row in query.fetch_all(&mut *tx).await? {
            let record = row.record()?;
            records.insert(record.id.0, record);
        }
        let mut checks = named_digests(
            &mut tx,
            "SELECT c.version_id, c.name, c.digest FROM version_checks c WHERE c.version_id IN ({}) \
             AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.digest = c.digest) ORDER BY c.version_id, c.position",
            &versions,
        )
        .await?;
        // A partner's latest check update replaces the checks its version shipped with, even
        // when all of its components are quarantined (then none run).
        let mut updated = named_digests(
            &mut tx,
            "SELECT u.version_id, c.name, c.digest FROM check_updates u JOIN check_update_components c ON c.update_id = u.id \
             WHERE u.version_id IN ({}) AND u.id = (SELECT MAX(x.id) FROM check_updates x WHERE x.version_id = u.version_id) \
             ORDER BY u.version_id, c.position",
            &versions,
        )
        .await?;
        let digests: Vec<&str> = updated.values().flatten().map(|(_, d)| d.as_str()).collect();
        let bad = self.quarantined(&digests).await?;
        for list in updated.values_mut() {
            list.retain(|(_, d)| !bad.contains(d));
        }
        checks.extend(updated);
        let listings: Vec<i64> = records.values().map(|r| r.listing.0).collect();
        let sql = format!(
            "SELECT w.listing_id, {} FROM waivers w WHERE w.listing_id IN ({}) ORDER BY w.id",
            waiver_columns!(),
            params(1, listings.len())
        );
        let mut query = sqlx::query_as::<_, ListingWaiverRow>(sqlx::AssertSqlSafe(sql));
        for id in &listings {
            query = query.bind(*id);
        }
        let mut waivers: std::collections::HashMap<i64, Vec<assay_core::Waiver>> = std::collections::HashMap::new();
        for row in query.fetch_all(&mut *tx).await? {
            waivers.entry(row.listing_id).or_default().push(row.waiver.waiver()?);
        }
        let mut out = Vec::with_capacity(claims.len());
        let mut finished = Vec::new();
        // Several jobs may name one version (a pack re-check and an API-deprecation one): each
        // gets the version and its checks.
        for claim in claims {
            let Some(version) = records.get(&claim.version).cloned() else {
                return Err(StoreError::Corrupt(format!("job {} names a missing version", claim.lease.job.0)));
            };
            if !version.state.is_live() {
                // Retired or withdrawn since it was enqueued: nothing to check.
                finished.push(claim.lease.job);
                continue;
            }
            out.push(ClaimedRecheck {
                lease: claim.lease,
                checks: checks.get(&version.id.0).cloned().unwrap_or_default(),
                waivers: waivers.get(&version.listing.0).cloned().unwrap_or_default(),
                version,
                pack: claim.pack,
                reason: claim.reason,
            });
        }
        for job in finished {
            end_job(&mut tx, job, None).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Stamp the jobs `which` names (chosen by the caller and locked on PostgreSQL, or the
    /// oldest claimable review, under the writer) with a new lease, and deal with jobs whose
    /// workers keep getting lost. Returns how many were stamped, and the claims to run.
    async fn stamp_claims(
        &self,
        tx: &mut AnyConnection,
        which: Claiming<'_>,
        worker: &str,
        lease_secs: i64,
    ) -> Result<(usize, Vec<Claim>), StoreError> {
        let jobs = match which {
            Claiming::Ids(ids) => format!("IN ({})", params(4, ids.len())),
            Claiming::OldestReview => format!("= ({})", self.oldest_claimable_review()),
        };
        let sql = format!(
            "UPDATE jobs SET lease = lease + 1, attempts = attempts + 1, worker = $1, leased_until = {} + $2, \
             node = $3, lost = lost + CASE WHEN leased_until IS NULL THEN 0 ELSE 1 END \
             WHERE id {jobs} RETURNING id, version_id, pack_id, reason, lease, attempts, lost, kind, enqueued_ms",
            self.db_now(),
        );
        let mut query = sqlx::query_as::<_, ClaimRow>(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(lease_secs)
            .bind(self.node_slot());
        if let Claiming::Ids(ids) = which {
            for id in ids {
                query = query.bind(*id);
            }
        }
        let mut rows: Vec<(Claim, i64)> = query.fetch_all(&mut *tx).await?.into_iter().map(ClaimRow::claim).collect();
        rows.sort_by_key(|(c, _)| c.lease.job.0);
        let stamped = rows.len();
        let mut out = Vec::with_capacity(rows.len());
        for (claim, lost) in rows {
            if lost < MAX_LOST {
                out.push(claim);
                continue;
            }
            // Its worker died MAX_LOST times: quarantine the partner components it runs and try
            // once more without them; a job with nothing to quarantine is dead. (`WHERE true`:
            // SQLite would read `ON CONFLICT` after a sub-select as a join constraint.)
            let reason = format!("the worker running this job was lost {lost} times (crashed or killed)");
            let quarantined = sqlx::query(
                "INSERT INTO quarantine (digest, job_id, reason, created_at) \
                 SELECT DISTINCT d.digest, $1, $2, $3 FROM ( \
                   SELECT c.digest FROM version_checks c WHERE c.version_id = $4 \
                   UNION SELECT c.digest FROM check_update_components c JOIN check_updates u ON u.id = c.update_id \
                   WHERE u.version_id = $4) d \
                 WHERE true ON CONFLICT (digest) DO NOTHING",
            )
            .bind(claim.lease.job.0)
            .bind(&reason)
            .bind(now())
            .bind(claim.version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if quarantined > 0 {
                tracing::warn!(
                    job = claim.lease.job.0,
                    quarantined,
                    "quarantined partner components that keep crashing workers"
                );
                sqlx::query("UPDATE jobs SET lost = 0 WHERE id = $1").bind(claim.lease.job.0).execute(&mut *tx).await?;
                out.push(claim);
            } else {
                tracing::error!(job = claim.lease.job.0, %reason, "dead-lettering a job");
                metrics::counter!("assay_dead_jobs_total").increment(1);
                sqlx::query(
                    "UPDATE jobs SET state = 'dead', last_error = $1, leased_until = NULL, finished_at = $2 WHERE id = $3",
                )
                .bind(&reason)
                .bind(now())
                .bind(claim.lease.job.0)
                .execute(&mut *tx)
                .await?;
                if claim.kind == "review" {
                    review_could_not_run(tx, actor_of(worker), claim.version, &reason).await?;
                }
            }
        }
        Ok((stamped, out))
    }

    /// Record re-check verdicts, each with its job's completion, in one transaction. A result
    /// whose claim has lapsed or been taken over records nothing (counted as refused).
    pub async fn complete_rechecks(&self, actor: &str, results: &[RecheckResult]) -> Result<Completed, StoreError> {
        let enforcing = results.iter().any(|r| r.enforce && r.verdict == assay_core::Verdict::Fail);
        // Only moving a version (an enforced verdict) needs the writer lock and the audit chain.
        let mut tx = if enforcing { self.write().await? } else { self.queue_tx().await? };
        let mut done = Completed::default();
        let at = now();
        // End every job whose claim still holds, in one statement; record only their verdicts.
        // `id IN` first, so the planners look the jobs up by key instead of scanning the queue.
        let pairs =
            (0..results.len()).map(|i| format!("(${}, ${})", 2 * i + 2, 2 * i + 3)).collect::<Vec<_>>().join(", ");
        let ids = (0..results.len()).map(|i| format!("${}", 2 * i + 2)).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "UPDATE jobs SET state = 'done', leased_until = NULL, finished_at = $1 \
             WHERE id IN ({ids}) AND (id, lease) IN ({pairs}) AND state = 'pending' AND leased_until >= {} RETURNING id",
            self.db_now()
        );
        let mut query = sqlx::query_as::<_, Id>(sqlx::AssertSqlSafe(sql)).bind(at);
        for result in results {
            query = query.bind(result.lease.job.0).bind(result.lease.token);
        }
        let ended: std::collections::HashSet<i64> =
            query.fetch_all(&mut *tx).await?.into_iter().map(|Id { id }| id).collect();
        let accepted: Vec<&RecheckResult> = results.iter().filter(|r| ended.contains(&r.lease.job.0)).collect();
        done.refused = results.len() - accepted.len();
        for chunk in accepted.chunks(200) {
            let rows = super::reviews::placeholders(self.backend, chunk.len(), 10);
            let sql = format!(
                "INSERT INTO rechecks (job_id, version_id, pack_id, pack_name, pack_version, verdict, blocking, findings, fuel, created_at) \
                 VALUES {rows}"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for result in chunk {
                query = query
                    .bind(result.lease.job.0)
                    .bind(result.version.0)
                    .bind(result.pack)
                    .bind(&result.pack_name)
                    .bind(&result.pack_version)
                    .bind(result.verdict.as_str())
                    .bind(&result.blocking)
                    .bind(&result.findings)
                    .bind(result.fuel)
                    .bind(at);
            }
            query.execute(&mut *tx).await?;
        }
        done.recorded = accepted.len();
        for result in accepted {
            if result.enforce && result.verdict == assay_core::Verdict::Fail {
                done.enforced += usize::from(enforce(&mut tx, actor, result).await?);
            }
        }
        self.fault("recheck.before-commit");
        tx.commit().await?;
        Ok(done)
    }

    /// A job failed (the worker could not finish it): retry it after a backoff, or dead-letter
    /// it with `error` after [`MAX_ATTEMPTS`].
    pub async fn fail_job(&self, lease: Lease, error: &str) -> Result<JobFate, StoreError> {
        let mut tx = self.queue_tx().await?;
        let now = self.db_now();
        let row = sqlx::query_as::<_, AttemptsRow>(sqlx::AssertSqlSafe(format!(
            "SELECT attempts, {now} AS db_now FROM jobs WHERE id = $1 AND lease = $2 AND state = 'pending' \
             AND leased_until >= {now}"
        )))
        .bind(lease.job.0)
        .bind(lease.token)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(AttemptsRow { attempts, db_now: at }) = row else { return Ok(JobFate::LeaseLost) };
        let fate = if attempts >= MAX_ATTEMPTS {
            sqlx::query(
                "UPDATE jobs SET state = 'dead', last_error = $1, leased_until = NULL, finished_at = $2 WHERE id = $3",
            )
            .bind(error)
            .bind(at)
            .bind(lease.job.0)
            .execute(&mut *tx)
            .await?;
            JobFate::Dead
        } else {
            let delay = (BACKOFF_SECS << (attempts - 1).clamp(0, 16)).min(MAX_BACKOFF_SECS);
            sqlx::query("UPDATE jobs SET last_error = $1, leased_until = NULL, run_after = $2 WHERE id = $3")
                .bind(error)
                .bind(at + delay)
                .bind(lease.job.0)
                .execute(&mut *tx)
                .await?;
            JobFate::Retry(at + delay)
        };
        tx.commit().await?;
        Ok(fate)
    }

    /// End a job without a verdict (its version moved on, or its review was recorded by
    /// another delivery).
    pub async fn finish_job(&self, job: JobId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        end_job(&mut tx, job, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Extend a running job's lease to `lease_secs` from now (the worker's heartbeat). `false`
    /// when the claim is no longer the job's, or the job is over.
    pub async fn extend_lease(&self, lease: Lease, lease_secs: i64) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE jobs SET leased_until = {} + $1 WHERE id = $2 AND lease = $3 AND state = 'pending'",
            self.db_now()
        );
        let _turn = self.single_write_turn().await;
        let extended = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lease_secs)
            .bind(lease.job.0)
            .bind(lease.token)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(extended > 0)
    }

    /// The slot this process holds as a node, stamped on what it claims (`None` before it joins).
    pub(super) fn node_slot(&self) -> Option<i64> {
        self.node.get().map(|n| n.slot)
    }

    /// Join as a node (see the module's "Restart recovery"): take the first free slot and
    /// release the leases its previous holder left. On SQLite, where one process owns the
    /// store, the slot is 0 and every lease is released. Once per process; a second call
    /// returns the slot taken and releases nothing.
    pub async fn join_as_node(&self) -> Result<NodeJoin, StoreError> {
        if let Some(node) = self.node.get() {
            return Ok(NodeJoin { slot: Some(node.slot), released: 0, released_messages: 0 });
        }
        if self.backend == Backend::Sqlite {
            let (released, released_messages) = self.release_node(None).await?;
            let _ = self.node.set(NodeSlot { slot: 0, _lock: None });
            return Ok(NodeJoin { slot: Some(0), released, released_messages });
        }
        let mut conn = self.pool.acquire().await?.detach();
        for slot in 0..NODE_SLOTS {
            let Taken { taken } = sqlx::query_as::<_, Taken>("SELECT pg_try_advisory_lock($1, $2) AS taken")
                .bind(NODE_LOCK_CLASS)
                .bind(slot)
                .fetch_one(&mut conn)
                .await?;
            if !taken {
                continue;
            }
            let (released, released_messages) = self.release_node(Some(i64::from(slot))).await?;
            let node = NodeSlot { slot: i64::from(slot), _lock: Some(std::sync::Mutex::new(conn)) };
            if self.node.set(node).is_err() {
                // Another task of this process joined meanwhile; this slot's lock ends with
                // the connection it was taken on.
                return Ok(NodeJoin { slot: self.node_slot(), released, released_messages });
            }
            return Ok(NodeJoin { slot: Some(i64::from(slot)), released, released_messages });
        }
        Ok(NodeJoin { slot: None, released: 0, released_messages: 0 })
    }

    /// Free every lease, so a restarted single-process service resumes interrupted jobs at
    /// once instead of waiting for their leases to run out. Each counts as a lost worker (a
    /// component that crashes the process is quarantined as it would be on a shared database).
    /// Only for SQLite, where one process owns the store; returns how many jobs were released
    /// (the messages in flight are released too).
    pub async fn release_leases(&self) -> Result<u64, StoreError> {
        Ok(self.release_node(None).await?.0)
    }

    /// Free the leases stamped with `node`'s slot, or every lease, and make the webhook
    /// messages and e-mails it had in flight due again at once (their attempts were never
    /// recorded, so they are sent again: webhooks are at least once, and receivers
    /// deduplicate by message id). One transaction; how many jobs and how many messages.
    async fn release_node(&self, node: Option<i64>) -> Result<(u64, u64), StoreError> {
        let jobs = format!(
            "UPDATE jobs SET leased_until = NULL, lost = lost + 1 WHERE state = 'pending' AND leased_until IS NOT NULL{}",
            if node.is_some() { " AND node = $1" } else { "" }
        );
        let in_flight = if node.is_some() { "node = $1" } else { "node IS NOT NULL" };
        let messages = ["webhook_messages", "email_messages"].map(|table| {
            format!("UPDATE {table} SET next_attempt_at = 0, node = NULL WHERE state = 'pending' AND {in_flight}")
        });
        let mut tx = self.write().await?;
        let mut released = [0; 3];
        for (sql, count) in std::iter::once(jobs).chain(messages).zip(&mut released) {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            if let Some(node) = node {
                query = query.bind(node);
            }
            *count = query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok((released[0], released[1] + released[2]))
    }

    /// How many review jobs are waiting or running.
    pub async fn pending_reviews(&self) -> Result<i64, StoreError> {
        let Count { n } =
            sqlx::query_as::<_, Count>("SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending' AND kind = 'review'")
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    /// Jobs by state: of one rule pack's rollout phase (`pack`, `reason`), or every job.
    pub async fn job_counts(&self, pack: Option<(i64, &str)>) -> Result<JobCounts, StoreError> {
        let now = self.db_now();
        let filter = if pack.is_some() { "WHERE pack_id = $1 AND reason = $2" } else { "" };
        let sql = format!(
            "SELECT CASE WHEN state = 'pending' AND leased_until IS NOT NULL AND leased_until >= {now} THEN 'running' \
             ELSE state END AS label, COUNT(*) AS n FROM jobs {filter} GROUP BY label"
        );
        let mut query = sqlx::query_as::<_, Tally>(sqlx::AssertSqlSafe(sql));
        if let Some((id, reason)) = pack {
            query = query.bind(id).bind(reason);
        }
        let mut counts = JobCounts::default();
        for Tally { label: state, n } in query.fetch_all(&self.pool).await? {
            match state.as_str() {
                "pending" => counts.waiting += n,
                "running" => counts.running += n,
                "done" => counts.done += n,
                "dead" => counts.dead += n,
                other => return Err(StoreError::Corrupt(format!("job state `{other}`"))),
            }
        }
        Ok(counts)
    }

    /// Per kind of job: how many wait, run and are dead, and the oldest waiting one's age.
    pub async fn job_gauges(&self) -> Result<Vec<JobGauge>, StoreError> {
        let now = self.db_now();
        let sql = format!(
            "SELECT kind, \
             SUM(CASE WHEN state = 'pending' AND (leased_until IS NULL OR leased_until < {now}) THEN 1 ELSE 0 END) AS waiting, \
             SUM(CASE WHEN state = 'pending' AND leased_until >= {now} THEN 1 ELSE 0 END) AS running, \
             SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) AS dead, \
             COALESCE({now} - MIN(CASE WHEN state = 'pending' AND (leased_until IS NULL OR leased_until < {now}) \
               THEN created_at END), 0) AS oldest_waiting_secs \
             FROM jobs WHERE state <> 'done' GROUP BY kind ORDER BY kind"
        );
        let rows = sqlx::query_as::<_, JobGaugeRow>(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| JobGauge {
                kind: r.kind,
                waiting: r.waiting,
                running: r.running,
                dead: r.dead,
                oldest_waiting_secs: r.oldest_waiting_secs.max(0),
            })
            .collect())
    }

    /// Jobs whose lease lapsed more than `grace_secs` ago and that nobody took over: stuck.
    pub async fn stuck_jobs(&self, grace_secs: i64) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending' AND leased_until IS NOT NULL AND leased_until < {} - $1",
            self.db_now()
        );
        let Count { n } =
            sqlx::query_as::<_, Count>(sqlx::AssertSqlSafe(sql)).bind(grace_secs).fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// How many unfinished jobs have lost their worker (crashed, killed, or its lease lapsed)
    /// at least `times` times. A job lost [`MAX_LOST`] times has its partner components
    /// quarantined on its next claim, or is dead when it has none.
    pub async fn jobs_lost_at_least(&self, times: i64) -> Result<i64, StoreError> {
        let Count { n } =
            sqlx::query_as::<_, Count>("SELECT COUNT(*) AS n FROM jobs WHERE state = 'pending' AND lost >= $1")
                .bind(times)
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    /// Dead-lettered jobs, newest first.
    pub async fn dead_jobs(&self, limit: i64) -> Result<Vec<DeadJob>, StoreError> {
        let rows = sqlx::query_as::<_, DeadJobRow>(
            "SELECT j.id, j.kind, l.slug, v.version, j.reason, j.last_error, j.attempts FROM jobs j \
             JOIN versions v ON v.id = j.version_id JOIN listings l ON l.id = v.listing_id \
             WHERE j.state = 'dead' ORDER BY j.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| DeadJob {
                job: JobId(row.id),
                kind: row.kind,
                subject: format!("{}@{}", row.slug, row.version),
                reason: row.reason,
                error: row.last_error.unwrap_or_default(),
                attempts: row.attempts,
            })
            .collect())
    }
}

/// [`NamedDigestRow`]s of `sql` (whose `{}` takes the versions' placeholders) grouped by
/// version, in order.
async fn named_digests(
    tx: &mut AnyConnection,
    sql: &str,
    versions: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<(String, String)>>, sqlx::Error> {
    let mut query =
        sqlx::query_as::<_, NamedDigestRow>(sqlx::AssertSqlSafe(sql.replace("{}", &params(1, versions.len()))));
    for id in versions {
        query = query.bind(*id);
    }
    let mut out: std::collections::HashMap<i64, Vec<(String, String)>> = std::collections::HashMap::new();
    for row in query.fetch_all(&mut *tx).await? {
        out.entry(row.version_id).or_default().push((row.name, row.digest));
    }
    Ok(out)
}

/// `$from, …` for `n` parameters (placeholders only, never data).
pub(crate) fn params(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A stamped claim.
pub(crate) struct Claim {
    lease: Lease,
    version: i64,
    pack: Option<i64>,
    reason: String,
    kind: String,
    enqueued_ms: Option<i64>,
}

/// Which jobs [`Store::stamp_claims`] claims.
#[derive(Clone, Copy)]
enum Claiming<'a> {
    /// These, picked by the caller.
    Ids(&'a [i64]),
    /// The oldest claimable review job, picked in the claim's own statement.
    OldestReview,
}

/// Whether an advisory lock was taken.
#[derive(sqlx::FromRow)]
struct Taken {
    taken: bool,
}

/// [`JobGauge`] as the query returns it.
#[derive(sqlx::FromRow)]
struct JobGaugeRow {
    kind: String,
    waiting: i64,
    running: i64,
    dead: i64,
    oldest_waiting_secs: i64,
}

/// A job as a claim stamps it (`RETURNING`).
#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: i64,
    version_id: i64,
    pack_id: Option<i64>,
    reason: String,
    lease: i64,
    attempts: i64,
    lost: i64,
    kind: String,
    enqueued_ms: Option<i64>,
}

impl ClaimRow {
    /// The claim, and how many times the job's worker was lost.
    fn claim(self) -> (Claim, i64) {
        let lease = Lease { job: JobId(self.id), token: self.lease, attempt: self.attempts };
        let claim = Claim {
            lease,
            version: self.version_id,
            pack: self.pack_id,
            reason: self.reason,
            kind: self.kind,
            enqueued_ms: self.enqueued_ms,
        };
        (claim, self.lost)
    }
}

/// A partner check a version ships, with its component.
#[derive(sqlx::FromRow)]
struct CheckRow {
    name: String,
    digest: String,
    bytes: Vec<u8>,
}

/// A stored component.
#[derive(sqlx::FromRow)]
struct BytesRow {
    bytes: Vec<u8>,
}

/// The version a review compares against.
#[derive(sqlx::FromRow)]
struct PreviousRow {
    manifest: String,
    version: String,
}

/// A quarantined component's digest.
#[derive(sqlx::FromRow)]
struct DigestRow {
    digest: String,
}

/// A partner check (shipped or updated) of a version.
#[derive(sqlx::FromRow)]
struct NamedDigestRow {
    version_id: i64,
    name: String,
    digest: String,
}

/// A waiver of one of a batch's listings.
#[derive(sqlx::FromRow)]
struct ListingWaiverRow {
    listing_id: i64,
    #[sqlx(flatten)]
    waiver: WaiverRow,
}

/// A job's attempts so far, and the database's clock.
#[derive(sqlx::FromRow)]
struct AttemptsRow {
    attempts: i64,
    db_now: i64,
}

/// A dead-lettered job and its version.
#[derive(sqlx::FromRow)]
struct DeadJobRow {
    id: i64,
    kind: String,
    slug: String,
    version: String,
    reason: String,
    last_error: Option<String>,
    attempts: i64,
}

/// Which version a job is about, and its state.
const VERSION_NAME: &str =
    "SELECT l.slug, v.version, v.state FROM versions v JOIN listings l ON l.id = v.listing_id WHERE v.id = $1";

/// A version's slug, version and state ([`VERSION_NAME`]).
#[derive(sqlx::FromRow)]
struct VersionNameRow {
    slug: String,
    version: String,
    state: String,
}

/// End a pending job inside the caller's transaction. With a claim (`token`, the database's
/// clock as SQL), only while that claim is the job's and its lease has not lapsed. Returns
/// whether the job ended.
pub(super) async fn end_job(
    tx: &mut AnyConnection,
    job: JobId,
    claim: Option<(i64, &str)>,
) -> Result<bool, sqlx::Error> {
    let ended = match claim {
        None => sqlx::query(
            "UPDATE jobs SET state = 'done', leased_until = NULL, finished_at = $1 WHERE id = $2 AND state = 'pending'",
        )
        .bind(now())
        .bind(job.0)
        .execute(&mut *tx)
        .await?,
        Some((token, db_now)) => {
            let sql = format!(
                "UPDATE jobs SET state = 'done', leased_until = NULL, finished_at = $1 \
                 WHERE id = $2 AND state = 'pending' AND lease = $3 AND leased_until >= {db_now}"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now()).bind(job.0).bind(token).execute(&mut *tx).await?
        }
    };
    Ok(ended.rows_affected() > 0)
}

/// The audit actor of a worker's claims.
fn actor_of(worker: &str) -> &str {
    if worker.is_empty() { "worker" } else { worker }
}

/// A review job that died: its version, stuck in `checking`, goes to a reviewer (as a review
/// that could not decide does), with the reason in the audit log. Runs under the writer lock
/// (review claims hold it).
async fn review_could_not_run(
    tx: &mut AnyConnection,
    actor: &str,
    version: i64,
    reason: &str,
) -> Result<(), StoreError> {
    let VersionNameRow { slug, version, .. } =
        sqlx::query_as::<_, VersionNameRow>(VERSION_NAME).bind(version).fetch_one(&mut *tx).await?;
    let next =
        assay_core::lifecycle::apply(VersionState::Checking, Transition::ChecksFinished(assay_core::Verdict::Error))?;
    if advance(tx, &slug, &version, VersionState::Checking, next, false).await?.is_some() {
        let detail = format!("checking -> {next}; the review could not run ({reason}); a reviewer decides");
        append(tx, actor, "version.checks_finished", &format!("listing:{slug}@{version}"), &detail).await?;
    }
    Ok(())
}

/// Apply an enforced pack's failing verdict to a live version: it leaves the marketplace.
async fn enforce(tx: &mut AnyConnection, actor: &str, result: &RecheckResult) -> Result<bool, StoreError> {
    let VersionNameRow { slug, version, state } =
        sqlx::query_as::<_, VersionNameRow>(VERSION_NAME).bind(result.version.0).fetch_one(&mut *tx).await?;
    let state: VersionState = state.parse().map_err(corrupt)?;
    let Ok(next) = assay_core::lifecycle::apply(state, Transition::Enforce) else { return Ok(false) };
    if advance(tx, &slug, &version, state, next, false).await?.is_none() {
        return Ok(false);
    }
    let detail = format!(
        "{state} -> {next}; fails {}@{} (enforced): {}",
        result.pack_name, result.pack_version, result.blocking
    );
    append(
        tx,
        actor,
        &format!("version.{}", Transition::Enforce.as_str()),
        &format!("listing:{slug}@{version}"),
        &detail,
    )
    .await?;
    Ok(true)
}
