//! `assay rules new ID`: a rule project that builds as it is — Rust with the SDK and the
//! small-stack settings, or Python (componentize-py) or JavaScript (componentize-js) — with its
//! pack, its documentation and first test cases, so `./build.sh && assay rules test` passes
//! before the author changes a line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, anyhow};

use crate::args::{RuleLang, RulesNewArgs};
use crate::exit::{Failure, InputContext as _};

/// The files of every project, by path in the project.
const COMMON: &[(&str, &str)] = &[
    ("pack.toml", include_str!("../../scaffold/common/pack.toml")),
    ("{{dir}}.md", include_str!("../../scaffold/common/docs.md")),
    ("tests/cases.toml", include_str!("../../scaffold/common/cases.toml")),
    ("tests/listings/honest.toml", include_str!("../../../../examples/listings/clean/listing.toml")),
    ("README.md", include_str!("../../scaffold/common/README.md")),
];

const RUST: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../../scaffold/rust/Cargo.toml")),
    (".cargo/config.toml", include_str!("../../scaffold/rust/.cargo/config.toml")),
    ("src/lib.rs", include_str!("../../scaffold/rust/src/lib.rs")),
    ("build.sh", include_str!("../../scaffold/rust/build.sh")),
    (".gitignore", "/target\n"),
];

const PYTHON: &[(&str, &str)] = &[
    ("app.py", include_str!("../../scaffold/python/app.py")),
    ("build.sh", include_str!("../../scaffold/python/build.sh")),
    ("wit/assay-plugin.wit", include_str!("../../../../wit/assay-plugin.wit")),
    (".gitignore", ".venv/\n__pycache__/\n"),
];

const JS: &[(&str, &str)] = &[
    ("app.js", include_str!("../../scaffold/js/app.js")),
    ("build.mjs", include_str!("../../scaffold/js/build.mjs")),
    ("package.json", include_str!("../../scaffold/js/package.json")),
    ("build.sh", include_str!("../../scaffold/js/build.sh")),
    ("wit/assay-plugin.wit", include_str!("../../../../wit/assay-plugin.wit")),
    (".gitignore", "node_modules/\n"),
];

/// A rule id: two or more lowercase dotted segments of letters, digits and `-`.
fn valid_id(id: &str) -> bool {
    let segments: Vec<&str> = id.split('.').collect();
    segments.len() >= 2
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && !s.ends_with('-')
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// `copy.summary-length` → `SummaryLength` (the last segment, as a Rust type).
fn type_name(id: &str) -> String {
    let last = id.rsplit('.').next().unwrap_or(id);
    last.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

pub fn run(args: &RulesNewArgs) -> Result<ExitCode, Failure> {
    let id = args.id.as_str();
    if !valid_id(id) {
        return Err(Failure::Input(
            anyhow!(
                "`{id}` is not a rule id: use lowercase dotted segments of letters, digits and `-`, \
                 the area first (e.g. `copy.summary-length`)"
            ),
            None,
        ));
    }
    let dir_name = id.replace('.', "-");
    let target = args.dir.clone().unwrap_or_else(|| PathBuf::from(&dir_name));
    if target.exists() && std::fs::read_dir(&target).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Failure::Input(
            anyhow!("{} exists and is not empty; choose another --dir", target.display()),
            None,
        ));
    }
    let component = format!("rule_{}.wasm", dir_name.replace('-', "_"));
    let (files, lang, source): (&[(&str, &str)], &str, &str) = match args.lang {
        RuleLang::Rust => (RUST, "Rust", "src/lib.rs"),
        RuleLang::Python => (PYTHON, "Python, componentize-py", "app.py"),
        RuleLang::Js => (JS, "JavaScript, componentize-js", "app.js"),
    };
    let mut values = vec![
        ("id", id.to_owned()),
        ("dir", dir_name.clone()),
        ("dir_snake", dir_name.replace('-', "_")),
        ("type", type_name(id)),
        ("component", component.clone()),
        ("lang", lang.to_owned()),
        ("source", source.to_owned()),
        ("host", host_triple()),
    ];
    if matches!(args.lang, RuleLang::Rust) {
        let sdk = sdk_dir(args.sdk.as_deref())?;
        let testing = sdk.with_file_name("assay-sdk-testing");
        values.push(("sdk", sdk.display().to_string()));
        values.push(("sdk_testing", testing.display().to_string()));
    }
    let fill = |text: &str| {
        values.iter().fold(text.to_owned(), |text, (key, value)| text.replace(&format!("{{{{{key}}}}}"), value))
    };
    for (path, text) in COMMON.iter().chain(files) {
        let path = target.join(fill(path));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display())).input()?;
        }
        std::fs::write(&path, fill(text)).with_context(|| format!("writing {}", path.display())).input()?;
        if path.extension().is_some_and(|e| e == "sh") {
            executable(&path).input()?;
        }
    }
    let shown = target.display();
    eprintln!("created the {lang} rule `{id}` in {shown}:");
    eprintln!("  {source}  the rule · {dir_name}.md  its documentation · tests/cases.toml  its cases");
    eprintln!("next:\n  cd {shown} && ./build.sh && assay rules test");
    Ok(ExitCode::SUCCESS)
}

/// The SDK to depend on: `--sdk`, else the one in the assay source this binary was built from.
fn sdk_dir(given: Option<&Path>) -> Result<PathBuf, Failure> {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assay-sdk");
    let dir = given.map_or(built_from, Path::to_path_buf);
    std::fs::canonicalize(&dir).ok().filter(|d| d.join("Cargo.toml").is_file()).ok_or_else(|| {
        Failure::Input(
            anyhow!(
                "no assay-sdk crate at {}: pass --sdk PATH to crates/assay-sdk of an assay checkout",
                dir.display()
            ),
            None,
        )
    })
}

/// This machine's target triple, for `cargo test --target …` in the Rust project's docs.
fn host_triple() -> String {
    let arch = std::env::consts::ARCH;
    match std::env::consts::OS {
        "macos" => format!("{arch}-apple-darwin"),
        "windows" => format!("{arch}-pc-windows-msvc"),
        _ => format!("{arch}-unknown-linux-gnu"),
    }
}

#[cfg(unix)]
fn executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut permissions = std::fs::metadata(path)?.permissions();
    permissions.set_mode(0o755);
    Ok(std::fs::set_permissions(path, permissions)?)
}

#[cfg(not(unix))]
fn executable(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{type_name, valid_id};

    #[test]
    fn rule_ids_are_dotted_lowercase_and_name_their_type() {
        assert!(valid_id("copy.summary-length") && valid_id("acme.checks.v2"));
        for bad in ["summary", "Copy.summary", "copy.", "copy..x", "copy.x-", "copy.x_y", "copy.2x"] {
            assert!(!valid_id(bad), "{bad}");
        }
        assert_eq!(type_name("copy.summary-length"), "SummaryLength");
    }
}
