//! The audit chain's signed checkpoints, and what verifying the chain found.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A signed checkpoint of the audit chain's head.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Checkpoint {
    /// The newest event's seq when it was taken.
    pub seq: i64,
    /// That event's hash (hex SHA-256).
    pub hash: String,
    /// When it was taken (Unix seconds; signed as such).
    pub at: i64,
    /// The signing key's id (the first 16 hex digits of the SHA-256 of its public key).
    pub key_id: String,
    /// The Ed25519 signature, base64, of the UTF-8 text
    /// `assay audit checkpoint v1\nseq {seq}\nhash {hash}\nat {at}\n`.
    pub signature: String,
}

/// `GET /v1/audit/checkpoints`: every checkpoint and the key that signs them. Keep a copy: a
/// later `assay audit verify --checkpoints FILE` against it detects events removed from the end
/// even if the checkpoints in the database were removed too.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Checkpoints {
    /// Always `ed25519`.
    pub algorithm: String,
    /// The signing key's id; absent when this server signs no checkpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The raw 32-byte public key, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// Every checkpoint, oldest first.
    pub checkpoints: Vec<Checkpoint>,
}

/// `GET /v1/audit/verify`: the whole chain walked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Verification {
    /// Whether every event and checkpoint verified.
    pub intact: bool,
    /// Events walked before the end or the first broken link.
    pub events: usize,
    /// Checkpoints checked (event and signature).
    pub checkpoints: usize,
    /// The newest checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest_checkpoint: Option<Checkpoint>,
    /// The first broken link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<BrokenLink>,
}

/// Where the chain is broken.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BrokenLink {
    /// The first event that does not verify.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}
