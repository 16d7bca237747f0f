//! API tokens: shown once, stored only as SHA-256 hashes.
//!
//! A token is `assay_`, 40 random base62 characters (238 bits) and a 6-character base62 CRC-32
//! of those 40, the shape of GitHub's `ghp_` tokens: the prefix lets secret scanners find a
//! leaked token, the checksum lets them (and the server, before any lookup) tell a real one from
//! a look-alike. So much randomness needs no slow hash: the store keeps the SHA-256. Tokens made
//! before the checksum (`assay_` and 64 hex digits) are still accepted until they expire.

use sha2::{Digest, Sha256};

/// How long a token lasts unless its creator says otherwise: 90 days.
pub const DEFAULT_TTL_SECS: i64 = 90 * 86_400;

/// The prefix of every token.
pub const PREFIX: &str = "assay_";
const BODY: usize = 40;
const CHECKSUM: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A new random token.
pub fn generate() -> String {
    // The thread RNG is a CSPRNG seeded from the operating system.
    let body: String = (0..BODY).map(|_| char::from(BASE62[rand::random_range(0..62)])).collect();
    format!("{PREFIX}{body}{}", checksum(&body))
}

/// The base62 CRC-32 of a token's body, 6 characters.
fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&digits).into_owned()
}

/// Whether `secret` is shaped like a token this server issues: the current form with a
/// checksum that matches, or the older `assay_` + 64 hex digits.
pub fn well_formed(secret: &str) -> bool {
    let Some(rest) = secret.strip_prefix(PREFIX) else { return false };
    if rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    rest.len() == BODY + CHECKSUM
        && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        && checksum(&rest[..BODY]) == rest[BODY..]
}

/// What the store keeps of a token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_checksummed_unique_and_hashed() {
        let (a, b) = (generate(), generate());
        assert!(a.starts_with("assay_") && a.len() == 6 + 40 + 6, "{a}");
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
        assert_ne!(hash(&a), a);
        assert_eq!(hash(&a), hash(&a));
    }

    #[test]
    fn a_changed_character_fails_the_checksum() {
        let token = generate();
        for i in PREFIX.len()..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(bytes).unwrap();
            assert!(!well_formed(&typo), "{typo} passed the checksum");
        }
        assert!(!well_formed("assay_"));
        assert!(!well_formed(&token.replace("assay_", "other_")));
        // The older form stays valid until such tokens expire.
        assert!(well_formed(&format!("assay_{}", "0a".repeat(32))));
    }
}
