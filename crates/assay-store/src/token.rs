//! API tokens: shown once, stored only as SHA-256 hashes.
//!
//! Tokens carry 256 random bits, so a fast hash is enough (there is nothing to brute-force);
//! the `assay_` prefix makes a leaked token easy to find with a secret scanner.

use sha2::{Digest, Sha256};

/// The prefix of every token.
pub const PREFIX: &str = "assay_";

/// A new random token.
pub fn generate() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{PREFIX}{}", hex::encode(bytes))
}

/// What the store keeps of a token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_prefixed_unique_and_hashed() {
        let (a, b) = (super::generate(), super::generate());
        assert!(a.starts_with("assay_") && a.len() == 6 + 64);
        assert_ne!(a, b);
        assert_ne!(super::hash(&a), a);
        assert_eq!(super::hash(&a), super::hash(&a));
    }
}
