//! # assay-builtin: the built-in rule pack
//!
//! The listing-QA rules every submission runs, compiled from `plugins/rules/*` to
//! `wasm32-wasip2` components by this crate's build script and embedded in the binary, so
//! `assay check` works offline with exactly the rules the service runs.
//!
//! The build script also builds the hostile test components in `plugins/hostile/`; tests find
//! them through [`ARTIFACTS_DIR`].

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

/// A component of the built-in pack by the name `pack.toml` gives it; what
/// `RulePack::from_parts(PACK_TOML, ..)` looks components up with.
pub fn component(name: &str) -> Option<&'static [u8]> {
    COMPONENTS.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
}

/// A file of the built-in pack by the name `pack.toml` gives it: a component or a rule's
/// documentation. What `RulePack::from_parts(PACK_TOML, ..)` looks files up with.
pub fn file(name: &str) -> Option<&'static [u8]> {
    component(name).or_else(|| DOCS.iter().find(|(n, _)| *n == name).map(|(_, text)| text.as_bytes()))
}

/// The built-in pack's files (components and documentation) as owned `(file name, bytes)`
/// pairs, as an upload of a new version of the pack carries them.
pub fn files() -> Vec<(String, Vec<u8>)> {
    let components = COMPONENTS.iter().map(|(name, bytes)| ((*name).to_owned(), bytes.to_vec()));
    components.chain(DOCS.iter().map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))).collect()
}

/// The bytes of a component built from `plugins/`, by artifact name (e.g. `hostile_loop.wasm`).
/// For tests and benchmarks; panics with the path when the artifact is missing.
pub fn artifact(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(ARTIFACTS_DIR).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
