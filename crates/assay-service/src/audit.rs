//! The audit chain's guard: signed checkpoints of its head, and verification.
//!
//! The store chains every event to the one before it by hash, which catches an edited or deleted
//! row. It cannot catch events cut off the end, or a tail rewritten with hashes recomputed to fit:
//! those leave a chain consistent with itself. So the service signs the head's `(seq, hash)`
//! periodically with an Ed25519 key kept outside the database ([`AuditKey`], a PKCS#8 file), and
//! stores and publishes the checkpoints (`GET /v1/audit/checkpoints`, with the public key). A
//! verifier walks the chain, checks every checkpoint's event still has the hash it had, and checks
//! every checkpoint's signature with the public key, so rewriting the checkpoints needs the key.

use std::path::Path;
use std::sync::Arc;

use assay_core::audit::Checkpoint;
use assay_core::identity::Principal;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use sha2::{Digest as _, Sha256};

use crate::access::{Permission, require};
use crate::{Service, ServiceError};

/// How many of the newest events `assay serve` verifies at start and after each checkpoint.
pub const VERIFY_AT_START: i64 = 10_000;

/// The key that signs checkpoints.
pub struct AuditKey {
    pair: Ed25519KeyPair,
    id: String,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl AuditKey {
    /// The key in `path`, which must exist.
    pub fn load(path: &Path) -> Result<AuditKey, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("reading the audit signing key {}: {e}", path.display()))?;
        AuditKey::from_pkcs8(path, &bytes)
    }

    /// The key in `path` (PKCS#8 v2, DER), created with mode 0600 if the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<AuditKey, String> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                    .map_err(|_| "the system's random source failed".to_owned())?;
                write_private(path, document.as_ref())
                    .map_err(|e| format!("writing the audit signing key {}: {e}", path.display()))?;
                document.as_ref().to_vec()
            }
            Err(e) => return Err(format!("reading the audit signing key {}: {e}", path.display())),
        };
        AuditKey::from_pkcs8(path, &bytes)
    }

    fn from_pkcs8(path: &Path, bytes: &[u8]) -> Result<AuditKey, String> {
        let pair = Ed25519KeyPair::from_pkcs8(bytes)
            .map_err(|e| format!("{} is not an Ed25519 key in PKCS#8: {e}", path.display()))?;
        let id = key_id(pair.public_key().as_ref());
        Ok(AuditKey { pair, id })
    }

    /// Its id: the first 16 hex digits of the SHA-256 of the public key.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The public key, base64 (the raw 32 bytes).
    pub fn public_key(&self) -> String {
        BASE64.encode(self.pair.public_key().as_ref())
    }

    fn sign(&self, seq: i64, hash: &str, at: i64) -> Checkpoint {
        let signature = self.pair.sign(Checkpoint::message(seq, hash, at).as_bytes());
        Checkpoint { seq, hash: hash.to_owned(), at, key_id: self.id.clone(), signature: BASE64.encode(signature) }
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A key's id: the first 16 hex digits of the SHA-256 of its raw public key.
pub fn key_id(public_key: &[u8]) -> String {
    hex::encode(Sha256::digest(public_key))[..16].to_owned()
}

/// Check every checkpoint's signature with `public_key` (base64, raw 32 bytes): the number
/// checked, or the first checkpoint's seq that does not verify, and why (seq 0: the key itself).
pub fn check_signatures(checkpoints: &[Checkpoint], public_key: &str) -> Result<usize, (i64, String)> {
    let raw = BASE64.decode(public_key.trim()).map_err(|e| (0, format!("the public key is not base64: {e}")))?;
    let id = key_id(&raw);
    let key = UnparsedPublicKey::new(&ED25519, raw);
    for c in checkpoints {
        if c.key_id != id {
            return Err((c.seq, format!("its checkpoint was signed by key {}, not by {id}", c.key_id)));
        }
        let signature = BASE64.decode(&c.signature).unwrap_or_default();
        if key.verify(Checkpoint::message(c.seq, &c.hash, c.at).as_bytes(), &signature).is_err() {
            return Err((c.seq, "its checkpoint's signature does not verify: it was forged or altered".to_owned()));
        }
    }
    Ok(checkpoints.len())
}

/// What verifying the audit chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Events walked.
    pub events: usize,
    /// Checkpoints whose event and signature were checked.
    pub checkpoints: usize,
    /// The newest checkpoint.
    pub newest_checkpoint: Option<Checkpoint>,
    /// The first broken link, if any: the event's seq and what is wrong.
    pub broken: Option<(i64, String)>,
}

/// What a walk found (`Ok(events)` or the first broken link), with the checkpoints it checked
/// against, whose signatures are then checked with `public_key` when there is one.
pub fn report(
    walked: Result<usize, (i64, String)>,
    checkpoints: Vec<Checkpoint>,
    public_key: Option<&str>,
) -> AuditReport {
    let broken = match (walked.as_ref().err(), public_key) {
        (Some(broken), _) => Some(broken.clone()),
        (None, Some(key)) => check_signatures(&checkpoints, key).err(),
        (None, None) => None,
    };
    AuditReport {
        events: walked.unwrap_or(0),
        checkpoints: checkpoints.len(),
        newest_checkpoint: checkpoints.into_iter().max_by_key(|c| c.seq),
        broken,
    }
}

/// The checkpoints as published: the key that signs them, and every checkpoint.
#[derive(Debug, Clone)]
pub struct PublishedCheckpoints {
    /// The signing key's id, when this process has one.
    pub key_id: Option<String>,
    /// Its public key, base64.
    pub public_key: Option<String>,
    /// Every checkpoint, oldest first.
    pub checkpoints: Vec<Checkpoint>,
}

impl Service {
    /// The same service signing audit checkpoints with `key`.
    pub fn with_audit_key(mut self, key: Arc<AuditKey>) -> Service {
        self.audit_key = Some(key);
        self
    }

    /// Sign the chain's head if it moved since the newest checkpoint; the new checkpoint. A chain
    /// the last verification found broken is not signed: a checkpoint vouches for what it covers.
    pub async fn checkpoint_audit(&self) -> Result<Option<Checkpoint>, ServiceError> {
        let Some(key) = &self.audit_key else { return Ok(None) };
        if self.audit_broken().is_some() {
            return Ok(None);
        }
        let Some(head) = self.store.audit_head().await? else { return Ok(None) };
        let newest = self.store.audit_checkpoints().await?.last().map_or(0, |c| c.seq);
        if head.seq <= newest {
            return Ok(None);
        }
        let checkpoint = key.sign(head.seq, &head.hash, self.clock.now());
        self.store.add_audit_checkpoint(&checkpoint).await?;
        Ok(Some(checkpoint))
    }

    /// Verify the newest `count` events (all of them with `i64::MAX`), the checkpoints among and
    /// after them, and every checkpoint's signature with this process's key. The outcome is kept
    /// for `/readyz`.
    pub async fn verify_audit_newest(&self, count: i64) -> Result<AuditReport, ServiceError> {
        let (walked, checkpoints) = self.store.verify_audit_with(count, &[]).await?;
        let public_key = self.audit_key.as_ref().map(|k| k.public_key());
        let report = report(walked.map_err(|b| (b.seq, b.reason)), checkpoints, public_key.as_deref());
        *self.audit_broken.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = report.broken.clone();
        if let Some((seq, why)) = &report.broken {
            tracing::error!(seq, reason = %why, "the audit chain is broken");
        }
        Ok(report)
    }

    /// An admin verifies the whole chain.
    pub async fn verify_audit(&self, who: &Principal) -> Result<AuditReport, ServiceError> {
        require(who, Permission::VerifyAudit)?;
        self.verify_audit_newest(i64::MAX).await
    }

    /// The published checkpoints and the key that signs them (public).
    pub async fn audit_checkpoints(&self) -> Result<PublishedCheckpoints, ServiceError> {
        Ok(PublishedCheckpoints {
            key_id: self.audit_key.as_ref().map(|k| k.id().to_owned()),
            public_key: self.audit_key.as_ref().map(|k| k.public_key()),
            checkpoints: self.store.audit_checkpoints().await?,
        })
    }

    /// The broken link the last verification found, if any.
    pub fn audit_broken(&self) -> Option<(i64, String)> {
        self.audit_broken.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Every `period`: verify the newest events, then sign the head if it moved, until `stop`.
    pub async fn run_checkpointer(&self, period: std::time::Duration, stop: impl std::future::Future<Output = ()>) {
        crate::clock::every(period, stop, "checkpointing the audit chain", || async {
            self.verify_audit_newest(VERIFY_AT_START).await?;
            self.checkpoint_audit().await.map(|_| ())
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_with_its_key_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuditKey::load_or_create(&dir.path().join("keys/audit.p8")).unwrap();
        let again = AuditKey::load_or_create(&dir.path().join("keys/audit.p8")).unwrap();
        assert_eq!(key.public_key(), again.public_key(), "the key is created once, then read");
        let other = AuditKey::load_or_create(&dir.path().join("other.p8")).unwrap();
        let checkpoint = key.sign(42, "ab12", 1_700_000_000);
        assert_eq!(check_signatures(std::slice::from_ref(&checkpoint), &key.public_key()), Ok(1));
        let error = check_signatures(std::slice::from_ref(&checkpoint), &other.public_key()).unwrap_err();
        assert_eq!(error.0, 42);
        assert!(error.1.contains("signed by key"), "{error:?}");
        for forged in [
            Checkpoint { hash: "cd34".into(), ..checkpoint.clone() },
            Checkpoint { seq: 41, ..checkpoint.clone() },
            Checkpoint { signature: other.sign(42, "ab12", 1_700_000_000).signature, ..checkpoint.clone() },
        ] {
            let (_, error) = check_signatures(&[forged], &key.public_key()).unwrap_err();
            assert!(error.contains("does not verify"), "{error}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("keys/audit.p8")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_file_that_is_not_a_key_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.p8");
        std::fs::write(&path, b"not a key").unwrap();
        let error = AuditKey::load_or_create(&path).unwrap_err();
        assert!(error.contains("is not an Ed25519 key"), "{error}");
    }
}
