//! The report of one `assay check`, and its renderings.
//!
//! [`Report`] is the JSON report's shape (its schema is generated from these types and checked
//! in as `docs/report.schema.json`); the human, SARIF and JUnit renderings are built from it.

pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use assay_core::manifest::ParsedManifest;
use assay_core::pack::PackManifest;
use assay_core::{CheckRun, Severity, Verdict};
use schemars::JsonSchema;
use serde::Serialize;

/// The result of checking one listing.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Report {
    /// Version of this report format.
    pub report_version: u32,
    /// The tool that produced it.
    pub tool: ToolInfo,
    /// What was checked.
    pub listing: ListingInfo,
    /// The rule pack.
    pub pack: PackInfo,
    /// `pass`, `fail` (blocking findings), `error` (a platform rule could not run) or
    /// `invalid` (the manifest was refused; see `error`).
    pub verdict: String,
    /// Why the manifest was refused, when the verdict is `invalid`.
    pub error: Option<InputError>,
    /// The lowest severity that fails the verdict.
    pub fail_on: String,
    /// Findings per severity.
    pub summary: Summary,
    /// Every check that ran, with its outcome and resource usage.
    pub checks: Vec<CheckReport>,
    /// Every finding, most severe first.
    pub findings: Vec<FindingReport>,
    /// When the run started and how long it took, for the reports that carry them (JUnit).
    #[serde(skip)]
    pub run: Option<RunTiming>,
}

/// When a run started and how long it took, loading the pack and components included.
#[derive(Debug, Clone, Copy)]
pub struct RunTiming {
    /// When it started.
    pub started: jiff::Timestamp,
    /// How long it took.
    pub elapsed: std::time::Duration,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ToolInfo {
    pub name: String,
    /// Its version.
    pub version: String,
}

impl From<&PackManifest> for PackInfo {
    fn from(pack: &PackManifest) -> Self {
        PackInfo { name: pack.name.clone(), version: pack.version.to_string() }
    }
}

impl ToolInfo {
    fn current() -> Self {
        ToolInfo { name: "assay".into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListingInfo {
    /// The manifest file, as given.
    pub file: String,
    /// Absent when the manifest was refused.
    pub slug: Option<String>,
    /// Absent when the manifest was refused.
    pub version: Option<String>,
}

/// A refused manifest, located.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InputError {
    pub message: String,
    /// The offending field as a dotted path; empty for the whole document.
    pub field: String,
    /// The same place as a JSON Pointer.
    pub pointer: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PackInfo {
    /// The pack's name.
    pub name: String,
    pub version: String,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct Summary {
    pub blocker: usize,
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

/// One check run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckReport {
    /// The rule id (or the component's file name when it could not be loaded).
    pub id: String,
    /// The rule, when the component could describe itself.
    pub rule: Option<RuleReport>,
    /// SHA-256 of the component.
    pub digest: String,
    /// `passed`, `findings`, `trapped`, `timed_out`, `out_of_memory`, `output_too_large`,
    /// `invalid_plugin`, `rule_error` or `budget_exceeded`.
    pub outcome: String,
    /// Why the check did not complete, for every outcome but `passed` and `findings`.
    pub message: Option<String>,
    /// A platform rule, or a partner's own check.
    pub platform: bool,
    /// An integration check (world `integration-check`), which drives the sandbox platform.
    pub integration: bool,
    /// Resources used.
    pub usage: Usage,
    /// Log lines the check wrote.
    pub logs: Vec<String>,
    /// An integration check's platform calls, in order.
    pub transcript: Vec<CallReport>,
}

/// One platform call of an integration check.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CallReport {
    /// The platform operation, e.g. `list-orders`.
    pub operation: String,
    /// The scope it needs.
    pub scope: String,
    /// `ok`, `forbidden`, `not_found`, `invalid` or `budget_exhausted`.
    pub outcome: String,
    /// Bytes sent in its arguments.
    pub bytes_out: u64,
}

/// What a rule says about itself.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleReport {
    pub name: String,
    pub version: String,
    pub description: String,
    pub default_severity: String,
    pub help_url: String,
    /// The long-form documentation (CommonMark) the pack ships for the rule; SARIF carries it
    /// as the rule's help. Not part of the JSON report.
    #[serde(skip)]
    #[schemars(skip)]
    pub docs: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Usage {
    pub wall_time_us: u64,
    /// Fuel consumed: deterministic, the same on every run of the same inputs.
    pub fuel: Option<u64>,
    /// Peak linear memory, summed over all memories.
    pub peak_memory_bytes: u64,
    pub output_bytes: u64,
    pub log_bytes: u64,
    /// Platform calls an integration check made.
    pub platform_calls: u64,
    /// Bytes an integration check sent to the platform.
    pub bytes_out: u64,
}

/// One finding.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FindingReport {
    pub rule_id: String,
    /// `info`, `warning`, `error` or `blocker`.
    pub severity: String,
    pub message: String,
    /// JSON Pointer into the manifest; empty for the whole listing.
    pub pointer: String,
    /// 1-based line of the manifest the pointer resolves to.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// 1-based line where the value the pointer names ends.
    pub end_line: usize,
    /// 1-based column just after the value's last character.
    pub end_column: usize,
    pub remediation: Option<String>,
    pub help_url: String,
    /// Who wrote the rule: `platform` (the rule pack) or `partner` (a `--check` component).
    pub author: String,
    /// The review service's waiver that keeps this finding from blocking (`assay check
    /// --server` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<i64>,
}

impl Report {
    /// Mark each finding a live waiver covers on listing `version` at `now`.
    pub fn mark_waived(&mut self, waivers: &[assay_core::waiver::Waiver], version: &semver::Version, now: i64) {
        for finding in &mut self.findings {
            finding.waived_by = assay_core::waiver::find(waivers, &finding.rule_id, version, now).map(|w| w.id);
        }
    }

    /// Give each rule of `pack` that ran the documentation the pack ships for it (matched by
    /// component digest, so a partner's `--check` is never mistaken for a pack rule).
    pub fn attach_docs(&mut self, pack: &assay_host::RulePack) {
        let docs: std::collections::HashMap<String, &str> = pack
            .components
            .iter()
            .zip(&pack.docs)
            .filter_map(|(bytes, docs)| Some((assay_host::PluginDigest::of(bytes).to_hex(), docs.as_deref()?)))
            .collect();
        for check in &mut self.checks {
            if let (Some(rule), Some(text)) = (&mut check.rule, docs.get(&check.digest)) {
                rule.docs = Some((*text).to_owned());
            }
        }
    }

    pub fn new(
        file: &str,
        listing: &ParsedManifest,
        pack: PackInfo,
        runs: Vec<CheckRun>,
        verdict: Verdict,
        fail_on: Severity,
    ) -> Report {
        let mut findings: Vec<FindingReport> = runs
            .iter()
            .flat_map(|run| run.findings.iter().map(move |f| (f, run.platform)))
            .map(|(f, platform)| {
                let span = listing.source_map.span(&f.pointer).unwrap_or(0..0);
                let (line, column) = listing.source_map.line_column(span.start);
                let (end_line, end_column) = listing.source_map.line_column(span.end);
                FindingReport {
                    rule_id: f.rule_id.clone(),
                    severity: f.severity.to_string(),
                    message: f.message.clone(),
                    pointer: f.pointer.clone(),
                    line,
                    column,
                    end_line,
                    end_column,
                    remediation: f.remediation.clone(),
                    help_url: f.help_url.clone(),
                    author: if platform { "platform" } else { "partner" }.to_owned(),
                    waived_by: None,
                }
            })
            .collect();
        let rank = |s: &str| s.parse::<Severity>().map_or(0, |s| s as u8);
        findings.sort_by(|a, b| {
            rank(&b.severity).cmp(&rank(&a.severity)).then(a.line.cmp(&b.line)).then(a.rule_id.cmp(&b.rule_id))
        });
        let mut summary = Summary::default();
        for f in &findings {
            match f.severity.as_str() {
                "blocker" => summary.blocker += 1,
                "error" => summary.error += 1,
                "warning" => summary.warning += 1,
                _ => summary.info += 1,
            }
        }
        let checks = runs
            .into_iter()
            .map(|run| CheckReport {
                id: run.check_id,
                rule: run.rule.map(|r| RuleReport {
                    name: r.name,
                    version: r.version.to_string(),
                    description: r.description,
                    default_severity: r.default_severity.to_string(),
                    help_url: r.help_url,
                    docs: None,
                }),
                digest: run.digest,
                outcome: run.outcome.to_string(),
                message: run.message,
                platform: run.platform,
                integration: run.integration,
                usage: Usage {
                    wall_time_us: u64::try_from(run.usage.wall_time.as_micros()).unwrap_or(u64::MAX),
                    fuel: run.usage.fuel,
                    peak_memory_bytes: run.usage.peak_memory,
                    output_bytes: run.usage.output_bytes,
                    log_bytes: run.usage.log_bytes,
                    platform_calls: run.usage.platform_calls,
                    bytes_out: run.usage.bytes_out,
                },
                logs: run.logs,
                transcript: run
                    .transcript
                    .into_iter()
                    .map(|c| CallReport {
                        operation: c.operation,
                        scope: c.scope,
                        outcome: c.outcome.to_string(),
                        bytes_out: c.bytes_out,
                    })
                    .collect(),
            })
            .collect();
        Report {
            report_version: 1,
            tool: ToolInfo::current(),
            listing: ListingInfo {
                file: file.to_owned(),
                slug: Some(listing.manifest.slug.to_string()),
                version: Some(listing.manifest.version.to_string()),
            },
            error: None,
            pack,
            verdict: verdict.to_string(),
            fail_on: fail_on.to_string(),
            summary,
            checks,
            findings,
            run: None,
        }
    }

    /// The report for a manifest that was refused before any rule ran.
    pub fn invalid(error: &assay_core::ManifestError, pack: &PackManifest, fail_on: Severity) -> Report {
        Report {
            report_version: 1,
            tool: ToolInfo::current(),
            listing: ListingInfo { file: error.file.clone(), slug: None, version: None },
            pack: pack.into(),
            verdict: "invalid".into(),
            error: Some(InputError {
                message: error.message.clone(),
                field: error.field.clone(),
                pointer: error.pointer.clone(),
                line: error.line,
                column: error.column,
            }),
            fail_on: fail_on.to_string(),
            summary: Summary::default(),
            checks: Vec::new(),
            findings: Vec::new(),
            run: None,
        }
    }

    /// `slug@version`, or the file name for a refused manifest.
    pub fn subject(&self) -> String {
        match (&self.listing.slug, &self.listing.version) {
            (Some(slug), Some(version)) => format!("{slug}@{version}"),
            _ => self.listing.file.clone(),
        }
    }

    /// Checks that did not complete.
    pub fn failed_checks(&self) -> impl Iterator<Item = &CheckReport> {
        self.checks.iter().filter(|c| c.outcome != "passed" && c.outcome != "findings")
    }
}

/// The JSON Schema of the JSON report.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Report);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
