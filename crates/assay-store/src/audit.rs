//! The audit log: append-only and hash-chained.
//!
//! Each event's hash covers the previous event's hash and every field of the event, and events
//! are numbered without gaps, so editing or deleting any row (short of rewriting every later
//! one) breaks [`verify`]. Appends happen inside the transaction of the change they record.

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

/// Check a whole chain, in order. Returns the number of events.
pub fn verify(events: &[AuditEvent]) -> Result<usize, ChainBroken> {
    let mut prev = GENESIS.to_owned();
    for (i, event) in events.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        let broken = |reason: &str| ChainBroken { seq: event.seq, reason: reason.to_owned() };
        if event.seq != expected_seq {
            return Err(ChainBroken { seq: expected_seq, reason: "an event is missing".into() });
        }
        if event.prev_hash != prev {
            return Err(broken("it does not follow the event before it"));
        }
        let recomputed =
            hash(&event.prev_hash, event.seq, event.at, &event.actor, &event.action, &event.subject, &event.detail);
        if recomputed != event.hash {
            return Err(broken("its contents were changed after it was written"));
        }
        prev = event.hash.clone();
    }
    Ok(events.len())
}
