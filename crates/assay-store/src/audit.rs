//! The audit log: append-only and hash-chained.
//!
//! Each event's hash covers the previous event's hash and every field of the event, and events
//! are numbered without gaps, so editing or deleting any row (short of rewriting every later
//! one) breaks [`verify`]. Appends happen inside the transaction of the change they record.
//!
//! Rewriting every later row, or cutting events off the end, keeps the chain consistent with
//! itself; [`Checkpoint`]s catch that. A checkpoint is the head's `(seq, hash)` signed with a key
//! kept outside the database (`assay_service::audit`); the [`Walk`] checks that every checkpoint's
//! event still exists with the hash it had.

pub use assay_core::audit::AuditEvent;
use sha2::{Digest, Sha256};

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an event with the given fields.
pub fn hash(prev_hash: &str, seq: i64, at: i64, actor: &str, action: &str, subject: &str, detail: &str) -> String {
    let mut hasher = Sha256::new();
    for field in [prev_hash, &seq.to_string(), &at.to_string(), actor, action, subject, detail] {
        // Length-prefixed, so no two field lists hash alike.
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Where a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit log is broken at event {seq}: {reason}")]
pub struct ChainBroken {
    /// The first event that does not verify.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

pub use assay_core::audit::Checkpoint;

/// Check a whole chain, in order. Returns the number of events.
pub fn verify(events: &[AuditEvent]) -> Result<usize, ChainBroken> {
    let mut walk = Walk::from_start(&[]);
    for event in events {
        walk.next(event)?;
    }
    walk.finish()
}

/// A walk along the chain, one event at a time, so a chain of any length is checked in constant
/// memory: each event must follow the one before it (its seq and `prev_hash`), hash to its
/// `hash`, and match any checkpoint taken at its seq; at the end, no checkpoint may lie beyond
/// the last event.
#[derive(Debug)]
pub struct Walk {
    seq: i64,
    prev: String,
    /// Checkpoints still ahead, newest first (so the next one is at the end).
    checkpoints: Vec<(i64, String)>,
    events: usize,
}

impl Walk {
    /// A walk from the first event, checking `checkpoints` on the way.
    pub fn from_start(checkpoints: &[Checkpoint]) -> Walk {
        Walk::after(0, GENESIS.to_owned(), checkpoints)
    }

    /// A walk from the event after `seq`, whose hash is `hash` (to check the newest events
    /// only); checkpoints at or before `seq` are not checked.
    pub fn after(seq: i64, hash: String, checkpoints: &[Checkpoint]) -> Walk {
        let mut ahead: Vec<(i64, String)> =
            checkpoints.iter().filter(|c| c.seq > seq).map(|c| (c.seq, c.hash.clone())).collect();
        ahead.sort_by(|a, b| b.cmp(a));
        ahead.dedup();
        Walk { seq, prev: hash, checkpoints: ahead, events: 0 }
    }

    /// The next event of the chain.
    pub fn next(&mut self, event: &AuditEvent) -> Result<(), ChainBroken> {
        let expected_seq = self.seq + 1;
        let broken = |reason: &str| ChainBroken { seq: event.seq, reason: reason.to_owned() };
        if event.seq != expected_seq {
            return Err(ChainBroken { seq: expected_seq, reason: "an event is missing".into() });
        }
        if event.prev_hash != self.prev {
            return Err(broken("it does not follow the event before it"));
        }
        let recomputed =
            hash(&event.prev_hash, event.seq, event.at, &event.actor, &event.action, &event.subject, &event.detail);
        if recomputed != event.hash {
            return Err(broken("its contents were changed after it was written"));
        }
        while let Some((_, signed)) = self.checkpoints.pop_if(|(seq, _)| *seq == event.seq) {
            if signed != event.hash {
                return Err(broken(
                    "it is not the event its signed checkpoint recorded: this event and every later one were rewritten",
                ));
            }
        }
        self.seq = event.seq;
        self.prev.clone_from(&event.hash);
        self.events += 1;
        Ok(())
    }

    /// The end of the chain: the number of events walked, unless a checkpoint lies beyond it.
    pub fn finish(self) -> Result<usize, ChainBroken> {
        if let Some((seq, _)) = self.checkpoints.first() {
            return Err(ChainBroken {
                seq: self.seq + 1,
                reason: format!(
                    "the log ends at event {} but a signed checkpoint recorded event {seq}: events were removed from the end",
                    self.seq
                ),
            });
        }
        Ok(self.events)
    }
}
