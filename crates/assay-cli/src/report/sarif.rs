//! SARIF 2.1.0, for code-scanning tools: one run, the pack's rules as `tool.driver.rules` with
//! their documentation as `help` (text and Markdown, as GitHub code scanning requires),
//! findings as results located in the manifest relative to `%SRCROOT%`, and checks that did
//! not complete as tool execution notifications.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Report;

fn level(severity: &str) -> &'static str {
    match severity {
        "blocker" | "error" => "error",
        "warning" => "warning",
        _ => "note",
    }
}

/// The directory SARIF locations are relative to: `--base-dir`, else the git work tree's root,
/// else the working directory.
pub fn base_dir(given: Option<&Path>) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let Some(dir) = given {
        return std::fs::canonicalize(cwd.join(dir)).unwrap_or_else(|_| cwd.join(dir));
    }
    let mut dir = cwd.as_path();
    loop {
        if dir.join(".git").exists() {
            return dir.to_owned();
        }
        match dir.parent() {
            Some(parent) => dir = parent,
            None => return cwd,
        }
    }
}

/// A rule's help: its documentation, else its description; as plain text and as Markdown.
fn help(r: &super::RuleReport) -> Value {
    let markdown = r.docs.clone().unwrap_or_else(|| r.description.clone());
    json!({ "text": plain_text(&markdown), "markdown": markdown })
}

/// CommonMark as plain text: the words and code, paragraphs and list items on their own lines.
fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut out = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::Item) => {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                if !matches!(event, Event::End(TagEnd::Item)) {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
    out.trim_end().to_owned()
}

pub fn render(report: &Report, base: &Path) -> anyhow::Result<String> {
    let location = artifact_location(&report.listing.file, base);
    let rules: Vec<&super::CheckReport> = report.checks.iter().filter(|c| c.rule.is_some()).collect();
    let rule_index = |id: &str| rules.iter().position(|c| c.id == id);
    let driver_rules: Vec<Value> = rules
        .iter()
        .filter_map(|c| c.rule.as_ref().map(|r| (c, r)))
        .map(|(c, r)| {
            json!({
                "id": c.id,
                "name": r.name,
                "shortDescription": { "text": r.name },
                "fullDescription": { "text": r.description },
                "help": help(r),
                "defaultConfiguration": { "level": level(&r.default_severity) },
                "properties": { "version": r.version, "severity": r.default_severity, "digest": c.digest },
            })
        })
        .collect();
    // A rule with a help page links to it (a local run has none: its help is inline).
    let mut driver_rules = driver_rules;
    for (rule, (_, r)) in driver_rules.iter_mut().zip(rules.iter().filter_map(|c| c.rule.as_ref().map(|r| (c, r)))) {
        if !r.help_url.is_empty() {
            rule["helpUri"] = json!(r.help_url);
        }
    }
    let invalid = report.error.iter().map(|e| {
        json!({
            "ruleId": "manifest.invalid",
            "level": "error",
            "message": { "text": e.message },
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": { "startLine": e.line, "startColumn": e.column },
                },
                "logicalLocations": [{ "fullyQualifiedName": e.pointer, "kind": "member" }],
            }],
        })
    });
    let results: Vec<Value> = invalid.chain(report
        .findings
        .iter()
        .map(|f| {
            let fingerprint = hex(&Sha256::digest(format!("{}\0{}\0{}", f.rule_id, f.pointer, f.message)));
            let mut result = json!({
                "ruleId": f.rule_id,
                "level": level(&f.severity),
                "message": { "text": match &f.remediation { Some(hint) => format!("{} — {hint}", f.message), None => f.message.clone() } },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": location,
                        "region": {
                            "startLine": f.line, "startColumn": f.column, "endLine": f.end_line, "endColumn": f.end_column,
                        },
                    },
                    "logicalLocations": [{ "fullyQualifiedName": f.pointer, "kind": "member" }],
                }],
                "partialFingerprints": { "assayFinding/v1": fingerprint },
                "properties": { "severity": f.severity, "pointer": f.pointer },
            });
            if let Some(i) = rule_index(&f.rule_id) {
                result["ruleIndex"] = json!(i);
            }
            result
        }))
        .collect();
    let notifications: Vec<Value> = report
        .failed_checks()
        .map(|c| {
            json!({
                "level": "error",
                "message": { "text": format!("{} {}: {}", c.id, c.outcome, c.message.as_deref().unwrap_or("")) },
                "properties": { "outcome": c.outcome, "digest": c.digest },
            })
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "assay",
                "version": report.tool.version,
                "rules": driver_rules,
                "properties": { "pack": report.pack.name, "packVersion": report.pack.version },
            }},
            "invocations": [{
                "executionSuccessful": report.verdict != "error" && report.verdict != "invalid",
                "toolExecutionNotifications": notifications,
            }],
            "originalUriBaseIds": { SRCROOT: { "uri": directory_uri(base) } },
            "results": results,
            "properties": { "verdict": report.verdict },
        }],
    });
    // Round-trip through the schema-generated types: a shape SARIF does not allow fails here.
    let typed: serde_sarif::sarif::Sarif = serde_json::from_value(sarif)?;
    Ok(serde_json::to_string_pretty(&typed)? + "\n")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The base every location is relative to.
const SRCROOT: &str = "%SRCROOT%";

/// Where the manifest is: relative to `base` with `uriBaseId` where it is inside it, an
/// absolute `file://` URI otherwise.
fn artifact_location(file: &str, base: &Path) -> Value {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let path = cwd.join(file);
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    match path.strip_prefix(base) {
        Ok(relative) => json!({ "uri": segments(relative), "uriBaseId": SRCROOT }),
        Err(_) => json!({ "uri": file_uri(&path) }),
    }
}

/// A relative path as a URI reference: `/`-separated, each segment percent-encoded.
fn segments(path: &Path) -> String {
    path.components()
        .map(|c| url::form_urlencoded::byte_serialize(c.as_os_str().to_string_lossy().as_bytes()).collect::<String>())
        .map(|s| s.replace('+', "%20"))
        .collect::<Vec<_>>()
        .join("/")
}

fn file_uri(path: &Path) -> String {
    url::Url::from_file_path(path).map_or_else(|()| format!("file://{}", path.display()), |u| u.to_string())
}

/// The base directory as a `file://` URI ending in `/`, as SARIF requires of a base.
fn directory_uri(base: &Path) -> String {
    url::Url::from_directory_path(base).map_or_else(|()| format!("file://{}/", base.display()), |u| u.to_string())
}
