//! The crate graph's rules, checked rather than hoped for (ARCHITECTURE.md, "Invariants").
//!
//! - The server reaches the store and the plugin host only through the service: `assay-server`
//!   has no normal dependency on `assay-store` or `assay-host` (tests and benches may build
//!   their own), and the service's public signatures name no store or host type (but for the
//!   composition root, listed below with its reason).
//! - The wire contract links no HTTP framework: nothing `assay-api` depends on, directly or
//!   not, is axum, askama, the store or the host.
//! - `assay-core` does no IO; nothing depends on `assay-cli`; the SDK and the host share only
//!   `wit/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The workspace's packages and, for each, its normal (not dev, not build) dependencies by
/// package name, direct and transitive.
struct Graph {
    direct: BTreeMap<String, BTreeSet<String>>,
    resolved: BTreeMap<String, Vec<String>>,
    names: BTreeMap<String, String>,
}

fn graph() -> &'static Graph {
    static GRAPH: std::sync::OnceLock<Graph> = std::sync::OnceLock::new();
    GRAPH.get_or_init(|| {
        // The packages this platform builds (others' were never downloaded: offline works).
        let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("-vV")
            .output()
            .expect("running rustc -vV");
        let host = String::from_utf8_lossy(&rustc.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
            .expect("rustc's host triple");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", &host])
            .current_dir(root())
            .output()
            .expect("running cargo metadata");
        assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
        let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
        let mut names = BTreeMap::new();
        let mut direct = BTreeMap::new();
        for package in metadata["packages"].as_array().expect("packages") {
            let name = package["name"].as_str().expect("name").to_owned();
            names.insert(package["id"].as_str().expect("id").to_owned(), name.clone());
            if package["source"].is_null() {
                let normal = package["dependencies"]
                    .as_array()
                    .expect("dependencies")
                    .iter()
                    .filter(|d| d["kind"].is_null())
                    .map(|d| d["name"].as_str().expect("dependency name").to_owned())
                    .collect();
                direct.insert(name, normal);
            }
        }
        let mut resolved = BTreeMap::new();
        for node in metadata["resolve"]["nodes"].as_array().expect("resolve nodes") {
            let deps = node["deps"]
                .as_array()
                .expect("deps")
                .iter()
                .filter(|d| d["dep_kinds"].as_array().expect("dep_kinds").iter().any(|k| k["kind"].is_null()))
                .map(|d| d["pkg"].as_str().expect("pkg").to_owned())
                .collect();
            resolved.insert(node["id"].as_str().expect("node id").to_owned(), deps);
        }
        Graph { direct, resolved, names }
    })
}

impl Graph {
    fn direct(&self, package: &str) -> &BTreeSet<String> {
        self.direct.get(package).unwrap_or_else(|| panic!("no workspace package `{package}`"))
    }

    /// Every package `package` links, through normal dependencies.
    fn linked(&self, package: &str) -> BTreeSet<String> {
        let start = self.names.iter().find(|(_, name)| *name == package).map(|(id, _)| id.clone());
        assert!(start.is_some(), "no package `{package}`");
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = start.into_iter().collect();
        while let Some(id) = todo.pop() {
            for dep in self.resolved.get(&id).into_iter().flatten() {
                if seen.insert(dep.clone()) {
                    todo.push(dep.clone());
                }
            }
        }
        seen.iter().map(|id| self.names[id].clone()).collect()
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_owned()
}

#[track_caller]
fn refuse_edges(package: &str, forbidden: &[&str], why: &str) {
    let found: Vec<_> = forbidden.iter().filter(|f| graph().direct(package).contains(**f)).collect();
    assert!(found.is_empty(), "{package} depends on {found:?}: {why}");
}

#[test]
fn the_server_reaches_the_store_and_the_host_only_through_the_service() {
    refuse_edges(
        "assay-server",
        &["assay-store", "assay-host"],
        "the server calls assay-service, which owns the store and the host (a dev-dependency for tests is fine)",
    );
}

#[test]
fn the_wire_contract_links_no_http_framework() {
    let linked = graph().linked("assay-api");
    for forbidden in
        ["axum", "askama", "hyper", "tower", "assay-server", "assay-service", "assay-store", "assay-host", "wasmtime"]
    {
        assert!(!linked.contains(forbidden), "assay-api links {forbidden}; a Rust client of the API must not");
    }
}

#[test]
fn the_clients_talk_to_the_server_through_the_wire_contract() {
    let cli = graph().direct("assay-cli");
    assert!(cli.contains("assay-api"), "the CLI's client uses assay-api's types");
    let client = std::fs::read_to_string(root().join("crates/assay-cli/src/client.rs")).expect("client.rs");
    assert!(!client.contains("assay_server"), "the CLI's HTTP client imports from assay-server, not assay-api");
}

#[test]
fn the_core_does_no_io() {
    let linked = graph().linked("assay-core");
    for forbidden in ["tokio", "sqlx", "wasmtime", "axum", "ureq", "assay-store", "assay-host"] {
        assert!(!linked.contains(forbidden), "assay-core links {forbidden}; it decides, callers do the IO");
    }
}

#[test]
fn nothing_depends_on_the_binary_and_guests_share_only_wit() {
    for (package, deps) in &graph().direct {
        assert!(!deps.contains("assay-cli"), "{package} depends on assay-cli");
    }
    refuse_edges("assay-sdk", &["assay-host", "assay-core"], "the SDK and the host share only wit/");
    refuse_edges("assay-host", &["assay-sdk"], "the SDK and the host share only wit/");
    // Native rule tests use the service's parser; the SDK a rule compiles with does not.
    refuse_edges(
        "assay-sdk-testing",
        &["assay-host"],
        "the SDK's tests share the host's conversion by path, not by linking it",
    );
}

/// Service functions that take or return store or host types on purpose, each with its reason.
const COMPOSITION_ROOT: &[(&str, &str)] = &[
    ("new", "the composition root: the binary opens the store and builds the host, then hands both over"),
    ("specs", "a run bundle's checks, for `assay replay` in the CLI, which owns a host"),
    ("replay", "runs a bundle in the CLI's own host"),
    ("with_webhooks", "installs the sender the binary chose"),
    ("bundle", "the run bundle of a local `assay check`, written by the CLI, which ran its own host"),
];

/// The public type names `crate_dir` defines itself (not those it re-exports from core).
fn defined_types(crate_dir: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for file in rust_files(&root().join(crate_dir)) {
        let text = std::fs::read_to_string(&file).expect("source");
        for line in text.lines() {
            for kind in ["pub struct ", "pub enum ", "pub type ", "pub trait "] {
                if let Some(rest) = line.strip_prefix(kind) {
                    names
                        .insert(rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("").to_owned());
                }
            }
        }
    }
    names
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Each public item's signature in `text`: `pub fn …` up to its body, and `pub field: Type`.
fn public_signatures(text: &str) -> Vec<(String, String)> {
    let mut signatures = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("pub ") {
        let item = &rest[at..];
        let after = item.trim_start_matches("pub ");
        let name_of = |s: &str| s.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("").to_owned();
        if let Some(f) = after.strip_prefix("async fn ").or_else(|| after.strip_prefix("fn ")) {
            let end = item.find(['{', ';']).unwrap_or(item.len());
            signatures.push((name_of(f), item[..end].to_owned()));
        } else if after.starts_with("use ") {
            let end = item.find(';').unwrap_or(item.len());
            signatures.push(("use".into(), item[..end].to_owned()));
        } else if let Some((field, ty)) = after.split_once(':')
            && !field.contains(' ')
            && !field.contains('(')
        {
            let end = ty.find('\n').unwrap_or(ty.len());
            signatures.push((field.to_owned(), ty[..end].to_owned()));
        }
        rest = &rest[at + 4..];
    }
    signatures
}

#[test]
fn the_services_public_signatures_name_no_store_or_host_type() {
    let mut forbidden = defined_types("crates/assay-store/src");
    forbidden.extend(defined_types("crates/assay-host/src"));
    assert!(forbidden.contains("Store") && forbidden.contains("Host"), "{forbidden:?}");
    let mut leaks = Vec::new();
    for file in rust_files(&root().join("crates/assay-service/src")) {
        let text = std::fs::read_to_string(&file).expect("source");
        // Unit tests at the end of a file are not the API.
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for (name, signature) in public_signatures(text) {
            if COMPOSITION_ROOT.iter().any(|(allowed, _)| *allowed == name) {
                continue;
            }
            let named: Vec<_> = signature
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .filter(|word| forbidden.contains(*word) || *word == "assay_store" || *word == "assay_host")
                .collect();
            if !named.is_empty() {
                leaks.push(format!("{}: `{}` names {named:?}", file.display(), signature.trim()));
            }
        }
    }
    assert!(leaks.is_empty(), "the service's API names store or host types:\n{}", leaks.join("\n"));
}

#[test]
fn the_signature_check_sees_a_leak() {
    let leaky = "impl Service {\n    pub async fn rows(&self) -> Result<Vec<assay_store::Lease>, E> {\n";
    let signatures = public_signatures(leaky);
    assert_eq!(signatures.len(), 1, "{signatures:?}");
    assert!(signatures[0].1.contains("assay_store::Lease"));
    let field = public_signatures("pub struct View {\n    pub store: Store,\n}");
    assert_eq!(field, [("store".to_owned(), " Store,".to_owned())]);
}
