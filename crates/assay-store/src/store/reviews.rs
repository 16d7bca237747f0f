//! Review runs: recorded in one transaction with the version's transition and the job's end.

use std::time::Duration;

use assay_core::integration::PlatformCall;
use assay_core::lifecycle;
use assay_core::{CheckRun, Finding, ResourceUsage, Transition, Verdict, VersionState};

use sqlx::AnyConnection;

use super::jobs::Lease;
use super::{Backend, Id, Store, StoreError, advance_to_record, append, corrupt, now};
pub use assay_core::review::StoredReview;

/// A finished review, as [`Store::record_review`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct ReviewRecord<'a> {
    /// The rule pack's name.
    pub pack_name: &'a str,
    /// The rule pack's version.
    pub pack_version: &'a str,
    /// Every check run, with findings and resource usage.
    pub runs: &'a [CheckRun],
    /// The verdict over them.
    pub verdict: Verdict,
    /// The claim on the review job this completes, if it came from one: the review records
    /// nothing ([`StoreError::LeaseLost`]) unless the claim still holds.
    pub job: Option<Lease>,
    /// The sandbox seed the integration checks ran against.
    pub seed: u64,
    /// The limits every check ran under, as the caller serialises them (the store keeps the
    /// text as it is, so a replay uses the limits of the review rather than today's).
    pub limits: &'a str,
    /// The version of the same listing the review compared against, if any.
    pub previous_version: Option<&'a str>,
}

const CHECK_RUNS_PER_INSERT: usize = 100;
const FINDINGS_PER_INSERT: usize = 500;
const CALLS_PER_INSERT: usize = 500;

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` values on PostgreSQL, `(?, ?), (?, ?)` on
/// SQLite (placeholders only, never data), for a statement whose every parameter is one of them.
///
/// SQLite finds a numbered parameter's name by walking a list, and sqlx asks for it once per
/// parameter bound, so binding n numbered parameters takes n² steps: a review's 34 check runs
/// (510 values) took 130,000, a batch of 200 re-checks (2,000 values) two million, all of it
/// under the writer. Anonymous `?`s are bound by position, and these are bound in order.
pub(super) fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let row = |r: usize| -> String {
        let values: Vec<String> = match backend {
            Backend::Postgres => (1..=columns).map(|c| format!("${}", r * columns + c)).collect(),
            Backend::Sqlite => vec!["?".to_owned(); columns],
        };
        format!("({})", values.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A stored count or size back as unsigned (a negative one, which the store never writes, as 0).
fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A review run and the version it compared against.
#[derive(sqlx::FromRow)]
struct ReviewRunRow {
    id: i64,
    pack_name: String,
    pack_version: String,
    verdict: String,
    created_at: i64,
    seed: Option<i64>,
    previous_version: Option<String>,
    limits: Option<String>,
}

/// A check run. Flags (`platform`, `integration`) are 0 or 1.
#[derive(sqlx::FromRow)]
struct CheckRunRow {
    id: i64,
    check_id: String,
    digest: String,
    rule_version: Option<String>,
    platform: i64,
    outcome: String,
    message: Option<String>,
    wall_time_us: i64,
    fuel: Option<i64>,
    peak_memory_bytes: i64,
    output_bytes: i64,
    log_bytes: i64,
    integration: i64,
    platform_calls: i64,
    bytes_out: i64,
}

impl CheckRunRow {
    /// The run without findings or transcript, and the rule version it reported.
    fn run(self) -> Result<(CheckRun, Option<String>), StoreError> {
        let run = CheckRun {
            check_id: self.check_id,
            digest: self.digest,
            rule: None,
            outcome: self.outcome.parse().map_err(corrupt)?,
            message: self.message,
            findings: Vec::new(),
            usage: ResourceUsage {
                wall_time: Duration::from_micros(uint(self.wall_time_us)),
                fuel: self.fuel.map(uint),
                peak_memory: uint(self.peak_memory_bytes),
                output_bytes: uint(self.output_bytes),
                log_bytes: uint(self.log_bytes),
                platform_calls: uint(self.platform_calls),
                bytes_out: uint(self.bytes_out),
            },
            logs: Vec::new(),
            platform: self.platform != 0,
            integration: self.integration != 0,
            transcript: Vec::new(),
        };
        Ok((run, self.rule_version))
    }
}

/// A finding; `check_run_id` is `None` in rows from before findings named their check run.
#[derive(sqlx::FromRow)]
struct FindingRow {
    check_run_id: Option<i64>,
    rule_id: String,
    severity: String,
    message: String,
    pointer: String,
    remediation: Option<String>,
    help_url: String,
}

/// A platform call of an integration check's transcript.
#[derive(sqlx::FromRow)]
struct PlatformCallRow {
    check_run_id: i64,
    operation: String,
    scope: String,
    outcome: String,
    bytes_out: i64,
}

impl Store {
    /// Record a finished review of a version that is `checking`: the review run, every check run
    /// and finding, the version's transition by the verdict, the end of its job and the audit
    /// event, in one transaction. A version that is no longer `checking` (a concurrent or
    /// repeated delivery) records nothing and gets [`StoreError::Conflict`].
    pub async fn record_review(
        &self,
        actor: &str,
        slug: &str,
        version: &str,
        review: &ReviewRecord<'_>,
    ) -> Result<crate::VersionRecord, StoreError> {
        let recorded = self.record_reviews(actor, &[(slug, version, *review)]).await?;
        recorded.into_iter().next().unwrap_or_else(|| Err(StoreError::Corrupt("a review recorded no outcome".into())))
    }

    /// Record several finished reviews in one transaction — one commit, one fsync — each as
    /// [`Store::record_review`] would, with its own result: a review whose version moved on
    /// ([`StoreError::Conflict`]) or whose lease lapsed ([`StoreError::LeaseLost`]) records
    /// nothing (its savepoint is rolled back) and the others are recorded. A database error
    /// fails the whole batch, and nothing of it is recorded.
    pub async fn record_reviews(
        &self,
        actor: &str,
        reviews: &[(&str, &str, ReviewRecord<'_>)],
    ) -> Result<Vec<Result<crate::VersionRecord, StoreError>>, StoreError> {
        Ok(self.record_reviews_then_claim(actor, reviews, None).await?.0)
    }

    /// [`Store::record_reviews`], and in the same transaction claim up to `claim.2` waiting
    /// review jobs for `claim.0` with a lease of `claim.1` seconds, as [`Store::claim_review`]
    /// would: a worker that just recorded its review goes on to the next without a
    /// transaction of its own for the claim. Nothing is claimed when no review waits (looked
    /// up before the writer is taken), or when the only review of the batch records nothing.
    pub async fn record_reviews_then_claim(
        &self,
        actor: &str,
        reviews: &[(&str, &str, ReviewRecord<'_>)],
        claim: Option<(&str, i64, usize)>,
    ) -> Result<(Vec<Result<crate::VersionRecord, StoreError>>, Vec<super::jobs::ClaimedReview>), StoreError> {
        let claim = match claim {
            Some(claim) if claim.2 > 0 && self.review_waiting().await? => Some(claim),
            _ => None,
        };
        let mut tx = self.write().await?;
        let mut recorded = Vec::with_capacity(reviews.len());
        if let [(slug, version, review)] = reviews {
            // One review: no savepoint. If it records nothing, nothing is claimed either.
            match self.record_in(&mut tx, actor, slug, version, review).await {
                Ok(Some(record)) => recorded.push(Ok(record)),
                Ok(None) => {
                    drop(tx);
                    return Ok((vec![Err(self.lost_race(slug, version).await)], Vec::new()));
                }
                Err(StoreError::LeaseLost) => return Ok((vec![Err(StoreError::LeaseLost)], Vec::new())),
                Err(e) => return Err(e),
            }
        }
        for (slug, version, review) in reviews.iter().skip(recorded.len()) {
            let mut savepoint = sqlx::Acquire::begin(&mut *tx).await?;
            match self.record_in(&mut savepoint, actor, slug, version, review).await {
                Ok(Some(record)) => {
                    savepoint.commit().await?;
                    recorded.push(Ok(record));
                }
                Ok(None) => {
                    savepoint.rollback().await?;
                    recorded.push(Err(None));
                }
                Err(StoreError::LeaseLost) => {
                    savepoint.rollback().await?;
                    recorded.push(Err(Some(StoreError::LeaseLost)));
                }
                Err(e) => return Err(e),
            }
        }
        let claimed = match claim {
            Some((worker, lease_secs, limit)) => self.claim_reviews_in(&mut tx, worker, lease_secs, limit).await?,
            None => Vec::new(),
        };
        self.fault("review.before-commit");
        tx.commit().await?;
        let mut out = Vec::with_capacity(reviews.len());
        for ((slug, version, _), result) in reviews.iter().zip(recorded) {
            out.push(match result {
                Ok(record) => Ok(record),
                Err(None) => Err(self.lost_race(slug, version).await),
                Err(Some(e)) => Err(e),
            });
        }
        let mut next = Vec::with_capacity(claimed.len());
        for (claim, version) in claimed {
            next.push(self.claimed_review(claim, version).await?);
        }
        Ok((out, next))
    }

    /// Everything [`Store::record_review`] writes, on `tx`, and the version as it left it.
    /// `None` when the version is not `checking` any more (nothing written).
    async fn record_in(
        &self,
        tx: &mut AnyConnection,
        actor: &str,
        slug: &str,
        version: &str,
        review: &ReviewRecord<'_>,
    ) -> Result<Option<crate::VersionRecord>, StoreError> {
        let next = lifecycle::apply(VersionState::Checking, Transition::ChecksFinished(review.verdict))?;
        let Some(record) = advance_to_record(&mut *tx, slug, version, VersionState::Checking, next).await? else {
            return Ok(None);
        };
        let version_id = record.id.0;
        let at = now();
        let previous_id: Option<i64> = match review.previous_version {
            Some(previous) => sqlx::query_as::<_, Id>(
                "SELECT p.id FROM versions p JOIN versions v ON v.listing_id = p.listing_id WHERE v.id = $1 AND p.version = $2",
            )
            .bind(version_id)
            .bind(previous)
            .fetch_optional(&mut *tx)
            .await?
            .map(|Id { id }| id),
            None => None,
        };
        let Id { id: review_id } = sqlx::query_as::<_, Id>(
            "INSERT INTO review_runs \
             (version_id, pack_name, pack_version, verdict, created_at, seed, previous_version_id, limits) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(version_id)
        .bind(review.pack_name)
        .bind(review.pack_version)
        .bind(review.verdict.as_str())
        .bind(at)
        .bind(int(review.seed))
        .bind(previous_id)
        .bind(review.limits)
        .fetch_one(&mut *tx)
        .await?;
        // Bulk inserts: a review is two statements per chunk, not one per check and finding.
        let mut check_run_ids = Vec::with_capacity(review.runs.len());
        for chunk in review.runs.chunks(CHECK_RUNS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO check_runs (review_id, check_id, digest, rule_version, platform, outcome, message, wall_time_us, \
                 fuel, peak_memory_bytes, output_bytes, log_bytes, integration, platform_calls, bytes_out) VALUES {} RETURNING id",
                placeholders(self.backend, chunk.len(), 15)
            );
            let mut query = sqlx::query_as::<_, Id>(sqlx::AssertSqlSafe(sql));
            for run in chunk {
                query = query
                    .bind(review_id)
                    .bind(&run.check_id)
                    .bind(&run.digest)
                    .bind(run.rule.as_ref().map(|r| r.version.to_string()))
                    .bind(i64::from(run.platform))
                    .bind(run.outcome.as_str())
                    .bind(run.message.as_deref())
                    .bind(i64::try_from(run.usage.wall_time.as_micros()).unwrap_or(i64::MAX))
                    .bind(run.usage.fuel.map(int))
                    .bind(int(run.usage.peak_memory))
                    .bind(int(run.usage.output_bytes))
                    .bind(int(run.usage.log_bytes))
                    .bind(i64::from(run.integration))
                    .bind(int(run.usage.platform_calls))
                    .bind(int(run.usage.bytes_out));
            }
            let mut ids: Vec<i64> = query.fetch_all(&mut *tx).await?.into_iter().map(|Id { id }| id).collect();
            // Ids are assigned in row order under the write lock; RETURNING need not keep it.
            ids.sort_unstable();
            check_run_ids.extend(ids);
        }
        let findings: Vec<_> = review
            .runs
            .iter()
            .zip(&check_run_ids)
            .flat_map(|(run, id)| run.findings.iter().map(move |f| (run.platform, *id, f)))
            .collect();
        for chunk in findings.chunks(FINDINGS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO findings (review_id, check_run_id, rule_id, severity, message, pointer, remediation, help_url, author) \
                 VALUES {}",
                placeholders(self.backend, chunk.len(), 9)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (platform, check_run_id, f) in chunk {
                query = query
                    .bind(review_id)
                    .bind(*check_run_id)
                    .bind(&f.rule_id)
                    .bind(f.severity.as_str())
                    .bind(&f.message)
                    .bind(&f.pointer)
                    .bind(f.remediation.as_deref())
                    .bind(&f.help_url)
                    .bind(if *platform { "platform" } else { "partner" });
            }
            query.execute(&mut *tx).await?;
        }
        let calls: Vec<_> = review
            .runs
            .iter()
            .zip(&check_run_ids)
            .flat_map(|(run, id)| run.transcript.iter().enumerate().map(move |(seq, c)| (*id, seq, c)))
            .collect();
        for chunk in calls.chunks(CALLS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO platform_calls (check_run_id, seq, operation, scope, outcome, bytes_out) VALUES {}",
                placeholders(self.backend, chunk.len(), 6)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (check_run_id, seq, call) in chunk {
                query = query
                    .bind(*check_run_id)
                    .bind(*seq as i64)
                    .bind(&call.operation)
                    .bind(&call.scope)
                    .bind(call.outcome.as_str())
                    .bind(int(call.bytes_out));
            }
            query.execute(&mut *tx).await?;
        }
        if let Some(lease) = review.job
            && !super::jobs::end_job(&mut *tx, lease.job, Some((lease.token, self.db_now()))).await?
        {
            return Err(StoreError::LeaseLost);
        }
        let findings = findings.len();
        let detail = format!(
            "checking -> {next}; verdict {} from {}@{} ({} checks, {findings} findings)",
            review.verdict,
            review.pack_name,
            review.pack_version,
            review.runs.len()
        );
        append(&mut *tx, actor, "version.review", &format!("listing:{slug}@{version}"), &detail).await?;
        Ok(Some(record))
    }

    /// The latest review of a version, with every check run and its findings.
    pub async fn latest_review(&self, slug: &str, version: &str) -> Result<Option<StoredReview>, StoreError> {
        let review = sqlx::query_as::<_, ReviewRunRow>(
            "SELECT r.id, r.pack_name, r.pack_version, r.verdict, r.created_at, r.seed, p.version AS previous_version, \
             r.limits FROM review_runs r JOIN versions v ON v.id = r.version_id JOIN listings l ON l.id = v.listing_id \
             LEFT JOIN versions p ON p.id = r.previous_version_id \
             WHERE l.slug = $1 AND v.version = $2 ORDER BY r.id DESC LIMIT 1",
        )
        .bind(slug)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        let Some(review) = review else { return Ok(None) };
        let checks = sqlx::query_as::<_, CheckRunRow>(
            "SELECT id, check_id, digest, rule_version, platform, outcome, message, wall_time_us, fuel, peak_memory_bytes, \
             output_bytes, log_bytes, integration, platform_calls, bytes_out FROM check_runs WHERE review_id = $1 ORDER BY id",
        )
        .bind(review.id)
        .fetch_all(&self.pool)
        .await?;
        let findings = sqlx::query_as::<_, FindingRow>(
            "SELECT check_run_id, rule_id, severity, message, pointer, remediation, help_url FROM findings \
             WHERE review_id = $1 ORDER BY id",
        )
        .bind(review.id)
        .fetch_all(&self.pool)
        .await?;
        let mut runs = Vec::with_capacity(checks.len());
        let mut ids = Vec::with_capacity(checks.len());
        let mut rule_versions = Vec::with_capacity(checks.len());
        for row in checks {
            ids.push(row.id);
            let (run, rule_version) = row.run()?;
            runs.push(run);
            rule_versions.push(rule_version);
        }
        let calls = sqlx::query_as::<_, PlatformCallRow>(
            "SELECT c.check_run_id, c.operation, c.scope, c.outcome, c.bytes_out FROM platform_calls c \
             JOIN check_runs r ON r.id = c.check_run_id WHERE r.review_id = $1 ORDER BY c.check_run_id, c.seq",
        )
        .bind(review.id)
        .fetch_all(&self.pool)
        .await?;
        for row in calls {
            let call = PlatformCall {
                operation: row.operation,
                scope: row.scope,
                outcome: row.outcome.parse().map_err(corrupt)?,
                bytes_out: uint(row.bytes_out),
            };
            let i = ids
                .iter()
                .position(|&i| i == row.check_run_id)
                .ok_or_else(|| corrupt("platform call of no check run"))?;
            runs[i].transcript.push(call);
        }
        for row in findings {
            let finding = Finding {
                rule_id: row.rule_id,
                severity: row.severity.parse().map_err(corrupt)?,
                message: row.message,
                pointer: row.pointer,
                remediation: row.remediation,
                help_url: row.help_url,
            };
            // Rows from before findings named their check run belong to the run of their rule.
            let index = match row.check_run_id {
                Some(id) => ids.iter().position(|&i| i == id),
                None => runs.iter().position(|r| r.check_id == finding.rule_id),
            };
            match index {
                Some(i) => runs[i].findings.push(finding),
                None => return Err(StoreError::Corrupt(format!("finding of `{}` has no check run", finding.rule_id))),
            }
        }
        Ok(Some(StoredReview {
            pack_name: review.pack_name,
            pack_version: review.pack_version,
            verdict: review.verdict.parse().map_err(corrupt)?,
            finished_at: review.created_at,
            runs,
            rule_versions,
            seed: review.seed.map(|s| s as u64),
            previous_version: review.previous_version,
            limits: review.limits,
        }))
    }
}
