//! Precompiled components on disk, so a restart does not recompile.
//!
//! Loading a precompiled artifact is `unsafe` in wasmtime: the bytes are trusted to be
//! wasmtime's own output for this engine configuration. This cache earns that trust:
//!
//! - artifacts live in a directory named after the engine's compatibility hash, so a cache
//!   written under another configuration or wasmtime version is never consulted;
//! - each file is written to a temporary file and renamed into place, so a crash never leaves
//!   half a file under the final name;
//! - each file records the SHA-256 of its payload, checked before the payload is handed to
//!   wasmtime; a corrupt, truncated or foreign file is deleted and the component recompiled.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::PluginDigest;

const MAGIC: &[u8; 12] = b"assay-cwasm2";
/// MAGIC, the component's digest, SHA-256(component digest ‖ payload).
const HEADER: usize = MAGIC.len() + 32 + 32;

/// What the header records: binds the payload to the component it was compiled from, so an
/// artifact copied under another component's name is refused like a corrupt one.
fn seal(digest: &PluginDigest, payload: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(digest.as_bytes());
    hasher.update(payload);
    hasher.finalize().into()
}

/// A directory of precompiled components for one engine configuration.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
}

/// What happened when the cache was asked for a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Loaded from a verified artifact.
    Hit,
    /// No artifact.
    Miss,
    /// An artifact was there but failed verification or deserialization; it was deleted.
    Discarded,
}

impl ArtifactCache {
    /// The cache under `root` for `engine`'s configuration; creates the directory.
    pub fn open(root: &Path, engine: &Engine) -> io::Result<Self> {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        // The compatibility hash covers wasmtime's version and every setting that shapes code.
        let dir = root.join(format!("engine-{:016x}", hasher.finish()));
        std::fs::create_dir_all(&dir)?;
        Ok(ArtifactCache { dir })
    }

    /// Where the artifact for `digest` lives.
    pub fn path(&self, digest: &PluginDigest) -> PathBuf {
        self.dir.join(format!("{}.cwasm", digest.to_hex()))
    }

    /// Load the artifact for `digest`, if a valid one exists.
    pub fn load(&self, engine: &Engine, digest: &PluginDigest) -> (Option<Component>, Lookup) {
        let path = self.path(digest);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(_) => return (None, Lookup::Miss),
        };
        let verified = bytes.len() >= HEADER
            && &bytes[..MAGIC.len()] == MAGIC
            && bytes[MAGIC.len()..MAGIC.len() + 32] == digest.as_bytes()[..]
            && bytes[MAGIC.len() + 32..HEADER] == seal(digest, &bytes[HEADER..]);
        if verified {
            // SAFETY: the payload is byte-for-byte what `Component::serialize` produced for this
            // component (the header names its digest and the seal over digest and payload has just
            // been checked), on an engine with this configuration (the directory is keyed by the
            // compatibility hash; wasmtime also checks its own header). The cache directory is
            // trusted like the binary: whoever can write it can forge a seal.
            #[allow(unsafe_code)]
            match unsafe { Component::deserialize(engine, &bytes[HEADER..]) } {
                Ok(component) => return (Some(component), Lookup::Hit),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "discarding incompatible precompiled component")
                }
            }
        } else {
            tracing::warn!(path = %path.display(), "discarding corrupt precompiled component");
        }
        let _ = std::fs::remove_file(&path);
        (None, Lookup::Discarded)
    }

    /// Store the compiled `component` for `digest`, atomically.
    pub fn store(&self, digest: &PluginDigest, component: &Component) -> io::Result<()> {
        let payload = component.serialize().map_err(io::Error::other)?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(MAGIC)?;
        file.write_all(digest.as_bytes())?;
        file.write_all(&seal(digest, &payload))?;
        file.write_all(&payload)?;
        file.as_file().sync_all()?;
        file.persist(self.path(digest)).map_err(|e| e.error)?;
        Ok(())
    }
}
