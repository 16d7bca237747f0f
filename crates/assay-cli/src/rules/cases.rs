//! `assay rules test`: a pack's data-driven test cases, as `opa test` or `conftest verify` run
//! a policy's.
//!
//! A case file is TOML holding `[[case]]` tables. A case names a listing (a `listing.toml`,
//! relative to the case file), optionally edits it with JSON pointers (the pointers findings
//! carry), optionally names the previous approved version, and lists the exact findings the
//! pack must produce — rule, severity and pointer — or `"none"`:
//!
//! ```toml
//! [[case]]
//! name = "a homepage over plain http"
//! listing = "listings/inventory-free.toml"
//! set = { "/urls/homepage" = "http://stock.example/" }
//! findings = [{ rule = "urls.https", severity = "error", pointer = "/urls/homepage" }]
//! ```
//!
//! Every case runs through the real host with the pack's own configuration. A finding the case
//! does not list fails it, and so does a listed finding that did not come.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use assay_core::{Manifest, Severity};
use serde::Deserialize;

/// One case, loaded: the listings are parsed and every expectation is well-formed.
#[derive(Debug)]
pub struct Case {
    /// The case file, as the user gave it or as found under the directory.
    pub file: String,
    /// The case's name, unique within its file.
    pub name: String,
    /// The version under review.
    pub listing: Manifest,
    /// The last approved version, for rules that compare.
    pub previous: Option<Manifest>,
    /// The findings the pack must produce, sorted.
    pub expected: Vec<Expected>,
}

/// A finding a case expects (or one a run produced), compared as a whole.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    /// The rule id, e.g. `urls.https`.
    pub rule: String,
    /// The finding's severity after the pack's overrides.
    pub severity: Severity,
    /// Where it points in the listing, a JSON pointer (`/urls/homepage`).
    pub pointer: String,
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} at {}", self.rule, self.severity, if self.pointer.is_empty() { "/" } else { &self.pointer })
    }
}

/// How a case came out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mismatch {
    /// Expected, not produced.
    pub missing: Vec<Expected>,
    /// Produced, not expected.
    pub unexpected: Vec<Expected>,
    /// Rules that could not run (trapped, timed out…), with why.
    pub broken: Vec<String>,
}

impl Mismatch {
    pub fn passed(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.broken.is_empty()
    }
}

/// Compare what a case expects with what the rules in scope produced. Both are multisets: a
/// finding expected once and produced twice is one unexpected finding.
pub fn compare(expected: &[Expected], produced: &[Expected]) -> Mismatch {
    let mut unexpected = produced.to_vec();
    unexpected.sort();
    let mut missing = Vec::new();
    for want in expected {
        match unexpected.iter().position(|got| got == want) {
            Some(i) => {
                unexpected.remove(i);
            }
            None => missing.push(want.clone()),
        }
    }
    Mismatch { missing, unexpected, broken: Vec::new() }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "case")]
    cases: Vec<RawCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCase {
    name: String,
    listing: String,
    #[serde(default)]
    set: BTreeMap<String, toml::Value>,
    #[serde(default)]
    remove: Vec<String>,
    previous: Option<String>,
    #[serde(default)]
    previous_set: BTreeMap<String, toml::Value>,
    #[serde(default)]
    previous_remove: Vec<String>,
    findings: RawFindings,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFindings {
    None(String),
    Listed(Vec<RawFinding>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    rule: String,
    severity: String,
    pointer: String,
}

/// The case files at `path`: the file itself, or every `*.toml` under the directory that holds
/// `[[case]]` tables (listings beside them are not cases), in path order.
pub fn discover(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    if !path.is_dir() {
        bail!("{} does not exist; give a case file or a directory of them", path.display());
    }
    let mut found = Vec::new();
    walk(path, &mut found).with_context(|| format!("reading {}", path.display()))?;
    found.sort();
    let mut cases = Vec::new();
    for file in found {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        if text.lines().any(|line| line.trim() == "[[case]]") {
            cases.push(file);
        }
    }
    if cases.is_empty() {
        bail!("no case files under {}: a case file is a .toml file with [[case]] tables", path.display());
    }
    Ok(cases)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Load the cases of one file. Every problem names the file and the case.
pub fn load(file: &Path) -> anyhow::Result<Vec<Case>> {
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {shown}"))?;
    let raw: RawFile = toml::from_str(&text).map_err(|e| anyhow!("{shown}: {}", e.to_string().trim_end()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut names = std::collections::BTreeSet::new();
    let mut cases = Vec::new();
    for raw in raw.cases {
        let name = raw.name.clone();
        if !names.insert(name.clone()) {
            bail!("{shown}: two cases are named `{name}`; a case's name says which one failed");
        }
        let case = load_case(&shown, base, raw).with_context(|| format!("{shown}: case `{name}`"))?;
        cases.push(case);
    }
    Ok(cases)
}

fn load_case(file: &str, base: &Path, raw: RawCase) -> anyhow::Result<Case> {
    let listing = listing(base, &raw.listing, &raw.set, &raw.remove)?;
    let previous = match &raw.previous {
        Some(path) => Some(listing_with(base, path, &raw.previous_set, &raw.previous_remove, "previous")?),
        None if !raw.previous_set.is_empty() || !raw.previous_remove.is_empty() => {
            bail!("`previous-set` and `previous-remove` edit a `previous` listing, and the case names none")
        }
        None => None,
    };
    let mut expected = match raw.findings {
        RawFindings::None(word) if word == "none" => Vec::new(),
        RawFindings::None(other) => {
            bail!("`findings = \"{other}\"`: give the findings as a list of {{ rule, severity, pointer }}, or \"none\"")
        }
        RawFindings::Listed(list) => list
            .into_iter()
            .map(|f| {
                let severity = f.severity.parse::<Severity>().map_err(|e| anyhow!("finding of `{}`: {e}", f.rule))?;
                if !(f.pointer.is_empty() || f.pointer.starts_with('/')) {
                    bail!(
                        "finding of `{}`: pointer `{}` is not a JSON pointer (it starts with `/`)",
                        f.rule,
                        f.pointer
                    );
                }
                Ok(Expected { rule: f.rule, severity, pointer: f.pointer })
            })
            .collect::<anyhow::Result<_>>()?,
    };
    expected.sort();
    Ok(Case { file: file.to_owned(), name: raw.name, listing, previous, expected })
}

fn listing(
    base: &Path,
    path: &str,
    set: &BTreeMap<String, toml::Value>,
    remove: &[String],
) -> anyhow::Result<Manifest> {
    listing_with(base, path, set, remove, "listing")
}

fn listing_with(
    base: &Path,
    path: &str,
    set: &BTreeMap<String, toml::Value>,
    remove: &[String],
    what: &str,
) -> anyhow::Result<Manifest> {
    let full = base.join(path);
    let shown = full.display().to_string();
    let source = std::fs::read_to_string(&full).with_context(|| format!("reading the {what} {shown}"))?;
    let source = if set.is_empty() && remove.is_empty() {
        source
    } else {
        let mut doc: toml::Value =
            toml::from_str(&source).map_err(|e| anyhow!("{shown}: {}", e.to_string().trim_end()))?;
        for pointer in remove {
            edit(&mut doc, pointer, None).with_context(|| format!("removing `{pointer}` from the {what}"))?;
        }
        for (pointer, value) in set {
            edit(&mut doc, pointer, Some(value.clone()))
                .with_context(|| format!("setting `{pointer}` in the {what}"))?;
        }
        toml::to_string(&doc).context("writing the edited listing")?
    };
    let label = if set.is_empty() && remove.is_empty() { shown } else { format!("{shown} (edited)") };
    Manifest::parse(&label, &source).map(|parsed| parsed.manifest).map_err(|e| anyhow!("{e}"))
}

/// Set (`Some`) or remove (`None`) the value at a JSON pointer (RFC 6901). Missing tables on
/// the way are created (an array when `-` follows); `-` as the last segment appends.
pub fn edit(doc: &mut toml::Value, pointer: &str, value: Option<toml::Value>) -> anyhow::Result<()> {
    let Some(rest) = pointer.strip_prefix('/') else {
        bail!("`{pointer}` is not a JSON pointer (it starts with `/`)");
    };
    let segments: Vec<String> = rest.split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
    let (last, path) = segments.split_last().expect("split always yields one segment");
    let mut at = doc;
    for (i, segment) in path.iter().enumerate() {
        // A missing container is made: an array when the next segment appends (`-`).
        let next = segments.get(i + 1).map(String::as_str);
        at = match at {
            toml::Value::Table(table) => table.entry(segment.clone()).or_insert_with(|| match next {
                Some("-") => toml::Value::Array(Vec::new()),
                _ => toml::Value::Table(toml::Table::new()),
            }),
            toml::Value::Array(items) => {
                let len = items.len();
                index(segment).and_then(|i| items.get_mut(i)).ok_or_else(|| out_of_range(segment, len))?
            }
            _ => bail!("`{segment}` is inside a value that is neither a table nor an array"),
        };
    }
    match (at, value) {
        (toml::Value::Table(table), Some(value)) => {
            table.insert(last.clone(), value);
        }
        (toml::Value::Table(table), None) => {
            table.remove(last).ok_or_else(|| anyhow!("there is no `{last}` to remove"))?;
        }
        (toml::Value::Array(items), Some(value)) if last == "-" => items.push(value),
        (toml::Value::Array(items), value) => {
            let len = items.len();
            let i = index(last).filter(|i| *i < len).ok_or_else(|| out_of_range(last, len))?;
            match value {
                Some(value) => items[i] = value,
                None => {
                    items.remove(i);
                }
            }
        }
        _ => bail!("the parent of `{last}` is neither a table nor an array"),
    }
    Ok(())
}

fn index(segment: &str) -> Option<usize> {
    segment.parse().ok()
}

fn out_of_range(segment: &str, len: usize) -> anyhow::Error {
    anyhow!("`{segment}` is not an index of this array of {len} (use `-` to append)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, severity: Severity, pointer: &str) -> Expected {
        Expected { rule: rule.into(), severity, pointer: pointer.into() }
    }

    #[test]
    fn missing_and_unexpected_findings_are_both_reported() {
        let a = finding("urls.https", Severity::Error, "/urls/homepage");
        let b = finding("urls.https", Severity::Error, "/urls/terms");
        let c = finding("copy.shouting", Severity::Warning, "/name");
        assert!(compare(&[a.clone(), b.clone()], &[b.clone(), a.clone()]).passed(), "order does not matter");
        let outcome = compare(&[a.clone(), b.clone()], &[a.clone(), c.clone()]);
        assert_eq!(outcome.missing, std::slice::from_ref(&b));
        assert_eq!(outcome.unexpected, [c]);
        // A finding expected once and produced twice: one is unexpected.
        let once = std::slice::from_ref(&a);
        assert_eq!(compare(once, &[a.clone(), a.clone()]).unexpected, once);
        // Another severity is another finding.
        let warning = finding("urls.https", Severity::Warning, "/urls/homepage");
        let outcome = compare(std::slice::from_ref(&a), std::slice::from_ref(&warning));
        assert_eq!((outcome.missing, outcome.unexpected), (vec![a], vec![warning]));
    }

    #[test]
    fn pointers_set_append_and_remove() {
        let mut doc: toml::Value = toml::from_str(
            "name = \"x\"\n[urls]\nhomepage = \"https://a.example\"\n[[scopes]]\nname = \"read_orders\"\n",
        )
        .unwrap();
        edit(&mut doc, "/urls/homepage", Some("http://a.example".into())).unwrap();
        edit(&mut doc, "/scopes/-", Some(toml::Value::Table(toml::toml! { name = "write_orders" }))).unwrap();
        edit(&mut doc, "/scopes/0/name", Some("read_products".into())).unwrap();
        edit(&mut doc, "/support/email", Some("help@a.example".into())).unwrap();
        edit(&mut doc, "/keywords/-", Some("stock".into())).unwrap();
        assert_eq!(doc["keywords"].as_array().unwrap().len(), 1, "a missing array is made to append to");
        assert_eq!(doc["urls"]["homepage"].as_str(), Some("http://a.example"));
        assert_eq!(doc["scopes"][1]["name"].as_str(), Some("write_orders"));
        assert_eq!(doc["scopes"][0]["name"].as_str(), Some("read_products"));
        assert_eq!(doc["support"]["email"].as_str(), Some("help@a.example"), "missing tables are made");
        edit(&mut doc, "/scopes/0", None).unwrap();
        assert_eq!(doc["scopes"].as_array().unwrap().len(), 1);
        edit(&mut doc, "/name", None).unwrap();
        assert!(doc.get("name").is_none());
        let e = edit(&mut doc, "/scopes/5/name", Some("x".into())).unwrap_err().to_string();
        assert!(e.contains("not an index of this array of 1"), "{e}");
        assert!(edit(&mut doc, "/name", None).unwrap_err().to_string().contains("no `name` to remove"));
        assert!(edit(&mut doc, "name", None).unwrap_err().to_string().contains("not a JSON pointer"));
    }
}
