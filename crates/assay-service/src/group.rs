//! Group commit: writes that arrive together are committed together, in one transaction with one
//! commit (and one fsync) for all of them.
//!
//! No added delay: a caller queues its write and takes the leader's lock; while a leader commits
//! its batch, the writes arriving meanwhile queue up, and the next leader commits them all at
//! once. Alone, a write is committed at once, as before. The store has one writer at a time, so
//! while one batch waits for the writer the next one gathers.
//!
//! Two kinds of write use it: finished reviews ([`crate::recorder`]) and submissions
//! ([`crate::Service::submit`]).

use std::sync::Mutex;

use tokio::sync::oneshot;

/// A queued write and where its answer goes.
pub(crate) type Queued<T, R> = (T, oneshot::Sender<R>);

/// The queue of writes and the lock its leader holds while committing.
#[derive(Debug)]
pub(crate) struct GroupCommit<T, R> {
    pub(crate) queue: Mutex<Vec<Queued<T, R>>>,
    pub(crate) leader: tokio::sync::Mutex<()>,
    /// Batches committed, for tests.
    #[cfg(test)]
    pub(crate) commits: std::sync::atomic::AtomicUsize,
}

impl<T, R> Default for GroupCommit<T, R> {
    fn default() -> Self {
        GroupCommit {
            queue: Mutex::new(Vec::new()),
            leader: tokio::sync::Mutex::new(()),
            #[cfg(test)]
            commits: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

impl<T, R> GroupCommit<T, R> {
    /// Queue `write`, then, as the leader, hand everything queued to `commit`, which answers
    /// each write through its sender. `None` when the write's answer was dropped unanswered.
    pub(crate) async fn join<F, Fut>(&self, write: T, commit: F) -> Option<R>
    where
        F: FnOnce(Vec<Queued<T, R>>) -> Fut,
        Fut: Future<Output = ()>,
    {
        let (reply, answer) = oneshot::channel();
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((write, reply));
        {
            let _leader = self.leader.lock().await;
            let batch = std::mem::take(&mut *self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
            // Empty: an earlier leader committed this write with its batch.
            if !batch.is_empty() {
                #[cfg(test)]
                self.commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                commit(batch).await;
            }
        }
        answer.await.ok()
    }
}
