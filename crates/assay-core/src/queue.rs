//! The job queue as operators read it: jobs by state and the dead letters.

use crate::identity::JobId;

/// Jobs by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Waiting to be claimed (or waiting out a backoff).
    pub waiting: i64,
    /// Claimed under a lease that has not lapsed.
    pub running: i64,
    /// Finished with a verdict (or with nothing left to do).
    pub done: i64,
    /// Dead-lettered.
    pub dead: i64,
}

impl JobCounts {
    /// Every job.
    pub fn total(&self) -> i64 {
        self.waiting + self.running + self.done + self.dead
    }
}

/// A dead-lettered job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadJob {
    /// The job.
    pub job: JobId,
    /// `review` or `recheck`.
    pub kind: String,
    /// The version, `slug@version`.
    pub subject: String,
    /// What triggered it.
    pub reason: String,
    /// Why it is dead.
    pub error: String,
    /// How many times it was claimed.
    pub attempts: i64,
}

/// One kind of job's numbers, for the operators' gauges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobGauge {
    /// `review` or `recheck`.
    pub kind: String,
    /// Waiting to be claimed (including those waiting for a retry).
    pub waiting: i64,
    /// Claimed under a live lease.
    pub running: i64,
    /// Dead-lettered.
    pub dead: i64,
    /// How long the oldest waiting one has waited, in seconds (0 when none waits).
    pub oldest_waiting_secs: i64,
}
