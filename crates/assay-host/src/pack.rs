//! Rule packs: a `pack.toml` and the components it names, turned into checks.

use std::path::Path;
use std::sync::Arc;

use assay_core::pack::{PackError, PackManifest};

use crate::host::CheckSpec;

/// A rule pack with its components' bytes.
#[derive(Debug, Clone)]
pub struct RulePack {
    /// The pack's manifest.
    pub manifest: PackManifest,
    /// `pack.toml` as written: with the components, what the pack's digest is over.
    pub source: Arc<str>,
    /// Component bytes, in the order of `manifest.rules`.
    pub components: Vec<Arc<[u8]>>,
    /// Each rule's long-form documentation (Markdown), in the order of `manifest.rules`; `None`
    /// where the pack gives none.
    pub docs: Vec<Option<Arc<str>>>,
}

/// The largest documentation file a pack may carry for one rule.
pub const MAX_DOCS_BYTES: usize = 256 << 10;

/// Why a pack could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackLoadError {
    /// `pack.toml` is malformed.
    #[error(transparent)]
    Manifest(#[from] PackError),
    /// A file could not be read.
    #[error("could not read {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The manifest names a component the pack does not have.
    #[error("pack.toml names `{0}`, which the pack does not contain")]
    Missing(String),
    /// A rule's documentation is not UTF-8 text, or is too large.
    #[error("the documentation `{name}` {why}")]
    Docs {
        /// The file name.
        name: String,
        /// What is wrong.
        why: String,
    },
}

/// Read at most `max + 1` bytes of a file: enough to tell that it is too large.
pub fn read_bounded(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(max as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

impl RulePack {
    /// A pack from its manifest text and a lookup of its files (components and documentation)
    /// by the file names the manifest gives them.
    pub fn from_parts(
        manifest_source: &str,
        mut file: impl FnMut(&str) -> Option<Arc<[u8]>>,
    ) -> Result<RulePack, PackLoadError> {
        let manifest = PackManifest::parse("pack.toml", manifest_source)?;
        let mut components = Vec::with_capacity(manifest.rules.len());
        let mut docs = Vec::with_capacity(manifest.rules.len());
        for rule in &manifest.rules {
            components.push(file(&rule.component).ok_or_else(|| PackLoadError::Missing(rule.component.clone()))?);
            docs.push(match &rule.docs {
                Some(name) => Some(markdown(name, &file(name).ok_or_else(|| PackLoadError::Missing(name.clone()))?)?),
                None => None,
            });
        }
        Ok(RulePack { manifest, source: Arc::from(manifest_source), components, docs })
    }

    /// A pack from a directory holding `pack.toml` and the components it names.
    /// Components are read up to `max_component_bytes + 1` bytes, so an oversized file costs
    /// no memory and is refused (`invalid_plugin`) when it is loaded.
    pub fn from_dir(dir: &Path, max_component_bytes: usize) -> Result<RulePack, PackLoadError> {
        let read = |path: &Path| {
            read_bounded(path, max_component_bytes)
                .map_err(|source| PackLoadError::Read { path: path.display().to_string(), source })
        };
        let manifest_path = dir.join("pack.toml");
        let source = String::from_utf8_lossy(&read(&manifest_path)?).into_owned();
        let mut error = None;
        let pack = RulePack::from_parts(&source, |name| match read(&dir.join(name)) {
            Ok(bytes) => Some(Arc::from(bytes)),
            Err(e) => {
                error.get_or_insert(e);
                None
            }
        });
        match (pack, error) {
            (Ok(pack), _) => Ok(pack),
            (Err(_), Some(read_error)) => Err(read_error),
            (Err(e), None) => Err(e),
        }
    }

    /// The documentation of the rule whose component is `component`.
    pub fn docs_of(&self, component: &str) -> Option<&Arc<str>> {
        let i = self.manifest.rules.iter().position(|r| r.component == component)?;
        self.docs[i].as_ref()
    }

    /// The enabled rules as checks, configured as the pack says.
    pub fn checks(&self) -> Vec<CheckSpec> {
        self.manifest
            .rules
            .iter()
            .zip(&self.components)
            .filter(|(rule, _)| rule.enabled)
            .map(|(rule, bytes)| CheckSpec {
                config: rule.config.clone(),
                severity: rule.severity,
                ..CheckSpec::platform(rule.component.clone(), bytes.clone())
            })
            .collect()
    }
}

/// A documentation file's text: UTF-8, at most [`MAX_DOCS_BYTES`].
fn markdown(name: &str, bytes: &[u8]) -> Result<Arc<str>, PackLoadError> {
    if bytes.len() > MAX_DOCS_BYTES {
        let why = format!("is {} bytes; the limit is {MAX_DOCS_BYTES}", bytes.len());
        return Err(PackLoadError::Docs { name: name.to_owned(), why });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| PackLoadError::Docs {
        name: name.to_owned(),
        why: format!("is not UTF-8 text (byte {})", e.valid_up_to()),
    })?;
    Ok(Arc::from(text))
}
