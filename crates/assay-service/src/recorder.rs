//! Group commit for review verdicts ([`crate::group`]): reviews that finish together are
//! recorded together, in one transaction with one commit (and one fsync) for all of them. Each
//! review keeps its own outcome (a version that moved on or a lapsed lease records nothing of
//! that review, through a savepoint); should the batch's transaction fail, each review is
//! recorded alone.

use assay_core::CheckRun;
use assay_core::Verdict;
use assay_core::listing::VersionRecord;
use assay_store::{ClaimedReview, Lease, ReviewRecord, Store, StoreError};

use crate::group::GroupCommit;

/// A finished review, owned while it waits for its commit.
#[derive(Debug)]
pub(crate) struct FinishedReview {
    pub(crate) slug: String,
    pub(crate) version: String,
    pub(crate) pack_name: String,
    pub(crate) pack_version: String,
    pub(crate) runs: Vec<CheckRun>,
    pub(crate) verdict: Verdict,
    pub(crate) job: Option<Lease>,
    pub(crate) seed: u64,
    pub(crate) limits: String,
    pub(crate) previous_version: Option<String>,
}

impl FinishedReview {
    fn record(&self) -> ReviewRecord<'_> {
        ReviewRecord {
            pack_name: &self.pack_name,
            pack_version: &self.pack_version,
            runs: &self.runs,
            verdict: self.verdict,
            job: self.job,
            seed: self.seed,
            limits: &self.limits,
            previous_version: self.previous_version.as_deref(),
        }
    }
}

/// What a review's commit answers: its outcome, and the next review claimed for its worker in
/// the same transaction (when it asked for one and one was waiting).
type Recorded = (Result<VersionRecord, StoreError>, Option<ClaimedReview>);

/// A finished review in the queue, with the lease (seconds) of the next review its worker wants
/// claimed with the commit (`None`: none).
type Queued = crate::group::Queued<(FinishedReview, Option<i64>), Recorded>;

/// The queue of finished reviews.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    group: GroupCommit<(FinishedReview, Option<i64>), Recorded>,
}

impl Recorder {
    /// Record `review` (as `actor`), with whichever other reviews are waiting; with
    /// `next_lease`, also claim the next waiting review (leased that many seconds) for this
    /// worker in the same transaction.
    pub(crate) async fn record(
        &self,
        store: &Store,
        actor: &str,
        review: FinishedReview,
        next_lease: Option<i64>,
    ) -> Recorded {
        let recorded = self.group.join((review, next_lease), |batch| commit(store, actor, batch)).await;
        recorded.unwrap_or_else(|| (Err(StoreError::Corrupt("a review's commit was abandoned".into())), None))
    }
}

/// One transaction for the whole batch, with the next reviews its workers asked for; each
/// review alone (and nothing claimed) if that fails.
async fn commit(store: &Store, actor: &str, batch: Vec<Queued>) {
    metrics::histogram!("assay_review_batch_size").record(batch.len() as f64);
    let records: Vec<_> = batch.iter().map(|((r, _), _)| (r.slug.as_str(), r.version.as_str(), r.record())).collect();
    let wanted = batch.iter().filter(|((_, next), _)| next.is_some()).count();
    let claim = batch.iter().find_map(|((_, next), _)| *next).map(|lease| (actor, lease, wanted));
    match store.record_reviews_then_claim(actor, &records, claim).await {
        Ok((outcomes, claimed)) => {
            let mut claimed = claimed.into_iter();
            for (((_, next), reply), outcome) in batch.into_iter().zip(outcomes) {
                let _ = reply.send((outcome, next.and_then(|_| claimed.next())));
            }
            return;
        }
        Err(e) if batch.len() > 1 => {
            tracing::warn!(error = %crate::error_chain(&e), reviews = records.len(), "a batch of verdicts failed to commit; recording each alone")
        }
        Err(e) => {
            if let Some((_, reply)) = batch.into_iter().next() {
                let _ = reply.send((Err(e), None));
            }
            return;
        }
    }
    for ((review, _), reply) in batch {
        let _ = reply.send((store.record_review(actor, &review.slug, &review.version, &review.record()).await, None));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use assay_core::{Capability, Verdict, VersionState};
    use assay_store::{Store, Submission};

    use super::{FinishedReview, Recorder};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reviews_that_finish_while_a_commit_runs_are_recorded_together() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_data_dir(dir.path()).await.unwrap();
        let partner = store.ensure_partner("test", "acme", &[Capability::List]).await.unwrap();
        store.create_listing("test", partner, "acme", "Acme").await.unwrap();
        let versions: Vec<String> = (0..8).map(|i| format!("1.0.{i}")).collect();
        for v in &versions {
            let submission = Submission { slug: "acme", version: v, manifest: "slug = \"acme\"", checks: &[] };
            store.submit_version("test", &submission).await.unwrap();
        }
        let mut claims = Vec::new();
        while let Some(claim) = store.claim_review("worker", 3600).await.unwrap() {
            claims.push(claim);
        }
        let recorder = Arc::new(Recorder::default());
        // A commit is running (its leader holds the lock) while eight reviews finish.
        let running = recorder.group.leader.lock().await;
        let tasks: Vec<_> = claims
            .into_iter()
            .map(|claim| {
                let (recorder, store) = (recorder.clone(), store.clone());
                let review = FinishedReview {
                    slug: "acme".into(),
                    version: claim.version.version.clone(),
                    pack_name: "assay-builtin".into(),
                    pack_version: "0.1.0".into(),
                    runs: Vec::new(),
                    verdict: Verdict::Pass,
                    job: Some(claim.lease),
                    seed: 1,
                    limits: "{}".into(),
                    previous_version: None,
                };
                tokio::spawn(async move { recorder.record(&store, "worker", review, None).await.0 })
            })
            .collect();
        while recorder.group.queue.lock().unwrap().len() < 8 {
            tokio::task::yield_now().await;
        }
        drop(running);
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().state, VersionState::AwaitingReview);
        }
        assert_eq!(recorder.group.commits.load(Ordering::Relaxed), 1, "eight verdicts, one transaction");
        for v in &versions {
            assert!(store.latest_review("acme", v).await.unwrap().is_some(), "{v}");
        }
        assert!(store.verify_audit().await.unwrap().is_ok());
    }
}
