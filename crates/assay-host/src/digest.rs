//! Content addresses for plugins.

use std::fmt;

use sha2::{Digest, Sha256};

/// The SHA-256 of a plugin's bytes: how assay names, caches and records a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginDigest([u8; 32]);

impl PluginDigest {
    /// Digest some bytes.
    pub fn of(bytes: &[u8]) -> Self {
        PluginDigest(Sha256::digest(bytes).into())
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for PluginDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.to_hex())
    }
}
