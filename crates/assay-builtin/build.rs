//! Build the guest workspace in `plugins/` to wasm32-wasip2 components and embed the built-in
//! rule pack (the components `plugins/pack.toml` names) into this crate.
//!
//! The nested cargo uses its own target directory (`<target>/plugins`) so it never waits on the
//! outer build's lock, and drops the outer build's compiler flags, which are for the host.

#![allow(clippy::unwrap_used)] // a build script reports failure by panicking

use std::path::{Path, PathBuf};
use std::process::Command;

use std::fmt::Write as _;

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("../..").canonicalize().expect("workspace root");
    let plugins = root.join("plugins");
    for path in [
        "plugins/Cargo.toml",
        "plugins/Cargo.lock",
        "plugins/pack.toml",
        "plugins/rules",
        "plugins/lib",
        "plugins/hostile",
        "plugins/compat",
        "tests/frozen",
        "plugins/.cargo",
        "examples/integration-check/src",
        "examples/integration-check/Cargo.toml",
        "examples/integration-check/Cargo.lock",
        "crates/assay-sdk",
        "wit",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    println!("cargo:rerun-if-env-changed=CI");

    ensure_wasm_target();
    let out_dir = PathBuf::from(env("OUT_DIR"));
    let target_dir = outer_target_dir(&out_dir).join("plugins");
    // The built-in rules and fixtures, then the example partner check (its own workspace, as a
    // partner's crate would be), into one target directory.
    build_guests(&plugins, &target_dir);
    build_guests(&root.join("examples/integration-check"), &target_dir);

    let artifacts = target_dir.join("wasm32-wasip2/release");
    let pack_toml = plugins.join("pack.toml");
    let pack = std::fs::read_to_string(&pack_toml).expect("plugins/pack.toml");
    let mut generated = String::new();
    writeln!(generated, "/// `plugins/pack.toml`, the built-in pack's manifest.").unwrap();
    writeln!(generated, "pub const PACK_TOML: &str = include_str!({:?});", pack_toml.display().to_string()).unwrap();
    writeln!(generated, "/// The built-in pack's components, by the file names `pack.toml` uses.").unwrap();
    writeln!(generated, "pub const COMPONENTS: &[(&str, &[u8])] = &[").unwrap();
    for component in values_of(&pack, "component") {
        let path = artifacts.join(&component);
        assert!(path.exists(), "plugins/pack.toml names {component}, but the build did not produce {}", path.display());
        writeln!(generated, "    ({component:?}, include_bytes!({:?})),", path.display().to_string()).unwrap();
    }
    writeln!(generated, "];").unwrap();
    // A rule's documentation, `docs = "<crate>.md"`, is `plugins/rules/<crate>/RULE.md`.
    writeln!(generated, "/// The built-in rules' documentation, by the file names `pack.toml` uses.").unwrap();
    writeln!(generated, "pub const DOCS: &[(&str, &str)] = &[").unwrap();
    for docs in values_of(&pack, "docs") {
        let crate_dir = docs.strip_suffix(".md").expect("plugins/pack.toml: docs are .md files");
        let path = plugins.join("rules").join(crate_dir).join("RULE.md");
        assert!(path.exists(), "plugins/pack.toml names docs {docs}, but {} does not exist", path.display());
        writeln!(generated, "    ({docs:?}, include_str!({:?})),", path.display().to_string()).unwrap();
    }
    writeln!(generated, "];").unwrap();
    writeln!(generated, "/// Where every component built from `plugins/` is (hostile test fixtures included).")
        .unwrap();
    writeln!(generated, "pub const ARTIFACTS_DIR: &str = {:?};", artifacts.display().to_string()).unwrap();
    std::fs::write(out_dir.join("builtin.rs"), generated).expect("write builtin.rs");
}

/// `cargo build --release --target wasm32-wasip2` in `dir`, with the outer build's host flags removed.
fn build_guests(dir: &Path, target_dir: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(dir)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .env("CARGO_TARGET_DIR", target_dir);
    if std::env::var_os("CI").is_some() {
        build.arg("--locked");
    }
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        build.env_remove(var);
    }
    let status = build.status().unwrap_or_else(|e| panic!("could not run cargo to build {}: {e}", dir.display()));
    assert!(status.success(), "building {} for wasm32-wasip2 failed (see above)", dir.display());
}

/// The `key = "..."` values of `pack.toml` (`component`, `docs`), without a TOML parser at
/// build time.
fn values_of(pack: &str, key: &str) -> Vec<String> {
    pack.lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix(key))
        .filter_map(|rest| rest.trim_start().strip_prefix('='))
        .filter_map(|value| value.trim().strip_prefix('"').and_then(|v| v.split('"').next()))
        .map(str::to_owned)
        .collect()
}

/// The target directory of the outer build: the ancestor of OUT_DIR that holds CACHEDIR.TAG.
fn outer_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").exists())
        .map_or_else(|| out_dir.join("target"), Path::to_path_buf)
}

/// Install the wasm32-wasip2 standard library if this toolchain lacks it, so a fresh machine
/// needs nothing but `cargo` to build assay.
fn ensure_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc).args(["--print", "sysroot"]).output().expect("rustc --print sysroot");
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib/wasm32-wasip2").exists() {
        return;
    }
    println!("cargo:warning=installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)");
    let status = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "the wasm32-wasip2 target is missing and `rustup target add wasm32-wasip2` failed; install it and build again"
    );
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}
