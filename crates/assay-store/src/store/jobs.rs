//! Review jobs: enqueued with the submission, claimed with a lease, finished with the verdict.
//!
//! A claim takes the oldest pending job whose lease is free and, in the same transaction,
//! moves its version from `submitted` to `checking`. A job whose version is already `checking`
//! is a review a crash interrupted: it runs again. The job ends in the transaction that records
//! the review ([`Store::record_review`]), so a verdict is never recorded without its job ending,
//! nor a job ended without its verdict.

use assay_core::{Transition, VersionState};
use sqlx::Row;

use super::{Store, StoreError, advance, append, now, version_record};
use crate::model::{JobId, VersionId, VersionRecord};
use sqlx::AnyConnection;

/// A review job a worker holds the lease of, with everything the review needs.
#[derive(Debug, Clone)]
pub struct ClaimedReview {
    /// The job.
    pub job: JobId,
    /// The version under review (now `checking`).
    pub version: VersionRecord,
    /// How many times the job has been claimed, this time included.
    pub attempt: i64,
    /// The manifest of the listing's last live (approved, published or deprecated) version.
    pub previous_manifest: Option<String>,
    /// That last approved version's version string (when there is one).
    pub previous_version: Option<String>,
    /// The partner checks the version ships: name, digest and component bytes, in order.
    pub checks: Vec<(String, String, Vec<u8>)>,
}

impl Store {
    /// The partner checks a version ships: name, digest and component bytes, in order.
    pub async fn version_checks(&self, version: VersionId) -> Result<Vec<(String, String, Vec<u8>)>, StoreError> {
        sqlx::query(
            "SELECT c.name, c.digest, p.bytes FROM version_checks c JOIN plugins p ON p.digest = c.digest \
             WHERE c.version_id = $1 ORDER BY c.position",
        )
        .bind(version.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect()
    }

    /// Claim the oldest pending review job for `lease_secs` seconds, starting its version's
    /// checks. `None` when nothing is waiting.
    pub async fn claim_review(&self, actor: &str, lease_secs: i64) -> Result<Option<ClaimedReview>, StoreError> {
        loop {
            let at = now();
            let mut tx = self.write().await?;
            let job = sqlx::query(
                "SELECT id, version_id, attempts FROM review_jobs WHERE state = 'pending' \
                 AND (leased_until IS NULL OR leased_until < $1) ORDER BY id LIMIT 1",
            )
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(job) = job else { return Ok(None) };
            let (job_id, version_id, attempts): (i64, i64, i64) = (job.try_get(0)?, job.try_get(1)?, job.try_get(2)?);
            let row = sqlx::query(
                "SELECT v.id, v.listing_id, l.slug, v.version, v.manifest, v.digest, v.state, v.revision, v.certified \
                 FROM versions v JOIN listings l ON l.id = v.listing_id WHERE v.id = $1",
            )
            .bind(version_id)
            .fetch_one(&mut *tx)
            .await?;
            let mut version = version_record(&row)?;
            match version.state {
                VersionState::Submitted => {
                    let moved = advance(
                        &mut tx,
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
                        &mut tx,
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
                    tracing::info!(slug = %version.slug, version = %version.version, attempt = attempts + 1, "resuming an interrupted review");
                }
                // Withdrawn (or otherwise moved on) before its review ran: nothing to do.
                _ => {
                    end_job(&mut tx, JobId(job_id), at).await?;
                    tx.commit().await?;
                    continue;
                }
            }
            sqlx::query("UPDATE review_jobs SET leased_until = $1, attempts = attempts + 1 WHERE id = $2")
                .bind(at + lease_secs)
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            let previous: Option<(String, String)> = sqlx::query(
                "SELECT manifest, version FROM versions WHERE listing_id = $1 AND id < $2 \
                 AND state IN ('approved', 'published', 'deprecated') ORDER BY id DESC LIMIT 1",
            )
            .bind(version.listing.0)
            .bind(version.id.0)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))
            .transpose()?;
            let (previous_manifest, previous_version) = previous.unzip();
            let checks = self.version_checks(version.id).await?;
            return Ok(Some(ClaimedReview {
                job: JobId(job_id),
                version,
                attempt: attempts + 1,
                previous_manifest,
                previous_version,
                checks,
            }));
        }
    }

    /// End a job without a verdict (its version moved on, or its review was recorded by
    /// another delivery).
    pub async fn finish_job(&self, job: JobId) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        end_job(&mut tx, job, now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Extend a running job's lease to `lease_secs` from now (the worker's heartbeat). `false`
    /// when the job is no longer pending.
    pub async fn extend_lease(&self, job: JobId, lease_secs: i64) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let extended = sqlx::query("UPDATE review_jobs SET leased_until = $1 WHERE id = $2 AND state = 'pending'")
            .bind(now() + lease_secs)
            .bind(job.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(extended > 0)
    }

    /// Free every lease, so a restarted single-process service resumes interrupted reviews at
    /// once instead of waiting for their leases to run out. Only for SQLite, where one process
    /// owns the store; returns how many jobs were released.
    pub async fn release_leases(&self) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let released = sqlx::query(
            "UPDATE review_jobs SET leased_until = NULL WHERE state = 'pending' AND leased_until IS NOT NULL",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(released)
    }

    /// How many review jobs are waiting or running.
    pub async fn pending_reviews(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM review_jobs WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }
}

/// End a pending job inside the caller's write transaction (an ended job stays ended).
pub(super) async fn end_job(tx: &mut AnyConnection, job: JobId, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE review_jobs SET state = 'done', finished_at = $1 WHERE id = $2 AND state = 'pending'")
        .bind(at)
        .bind(job.0)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
