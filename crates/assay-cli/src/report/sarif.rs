//! SARIF 2.1.0, for code-scanning tools: one run, the pack's rules as `tool.driver.rules`,
//! findings as results located in the manifest, and checks that did not complete as
//! tool execution notifications.

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

pub fn render(report: &Report) -> anyhow::Result<String> {
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
                "helpUri": r.help_url,
                "defaultConfiguration": { "level": level(&r.default_severity) },
                "properties": { "version": r.version, "severity": r.default_severity, "digest": c.digest },
            })
        })
        .collect();
    let invalid = report.error.iter().map(|e| {
        json!({
            "ruleId": "manifest.invalid",
            "level": "error",
            "message": { "text": e.message },
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": { "uri": uri(&report.listing.file) },
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
                        "artifactLocation": { "uri": uri(&report.listing.file) },
                        "region": { "startLine": f.line, "startColumn": f.column },
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
                "informationUri": "https://docs.assay.dev/",
                "rules": driver_rules,
                "properties": { "pack": report.pack.name, "packVersion": report.pack.version },
            }},
            "invocations": [{
                "executionSuccessful": report.verdict != "error" && report.verdict != "invalid",
                "toolExecutionNotifications": notifications,
            }],
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

/// The manifest as a URI reference: relative to the working directory where it can be (code
/// scanning maps those onto the repository), a `file://` URI otherwise.
fn uri(path: &str) -> String {
    let path = std::path::Path::new(path);
    let relative = match std::env::current_dir() {
        Ok(cwd) if path.is_absolute() => path.strip_prefix(&cwd).ok(),
        _ => (!path.is_absolute()).then_some(path),
    };
    match relative {
        Some(relative) => relative.to_string_lossy().replace('\\', "/").trim_start_matches("./").to_owned(),
        None => format!("file://{}", path.to_string_lossy().replace('\\', "/")),
    }
}
