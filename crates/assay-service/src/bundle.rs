//! Run bundles: everything one review ran — the manifest, the previous version's manifest, every
//! component with its configuration, the limits and the sandbox seed — and what it found, so
//! that `assay replay` can run it again and say whether it matched, bit for bit.
//!
//! A bundle is one JSON document (format `assay-run-bundle/1`). Components travel as base64,
//! each with its SHA-256, checked before anything runs. The recorded result is the
//! deterministic part of every run (outcome, message, findings, transcript, fuel, peak memory,
//! bytes) and its SHA-256; wall time and log lines are left out because they are not inputs'
//! functions. A run that hit the wall-time limit stops at a point the clock chose, so it may
//! not replay exactly; set a fuel budget where that matters.

use std::sync::Arc;
use std::time::Duration;

use assay_core::integration::RESOURCE_REGRESSION;
use assay_core::{CheckRun, Manifest, Severity, Verdict};
use assay_host::{CheckSpec, Host, Limits, PluginDigest, ReviewInput};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The format identifier this version writes and reads.
pub const FORMAT: &str = "assay-run-bundle/1";

/// A replayable record of one review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunBundle {
    /// Always [`FORMAT`].
    pub format: String,
    /// The assay version that made it (replays on another version may differ in fuel).
    pub assay_version: String,
    /// The sandbox seed.
    pub seed: u64,
    /// The limits every check ran under.
    pub limits: BundleLimits,
    /// The listing version reviewed.
    pub listing: Document,
    /// The last approved version it was compared against.
    pub previous: Option<Document>,
    /// Every check, in review order.
    pub checks: Vec<BundleCheck>,
    /// What the review found.
    pub result: BundleResult,
}

/// A manifest with its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// SHA-256 of `text`, hex.
    pub sha256: String,
    /// The `listing.toml` text.
    pub text: String,
}

impl Document {
    /// A document for `text`.
    pub fn new(text: &str) -> Self {
        Document { sha256: hex::encode(Sha256::digest(text.as_bytes())), text: text.to_owned() }
    }
}

/// One check of the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleCheck {
    /// Its name (file name).
    pub name: String,
    /// SHA-256 of the component, hex.
    pub sha256: String,
    /// A platform rule, or the partner's own check.
    pub platform: bool,
    /// The pack's severity override.
    pub severity: Option<String>,
    /// The pack's configuration for it.
    pub config: Vec<(String, String)>,
    /// The component, base64.
    pub component: String,
}

/// [`Limits`], as a bundle records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct BundleLimits {
    pub wall_time_ms: u64,
    pub fuel: Option<u64>,
    pub max_memory_bytes: usize,
    pub max_table_elements: usize,
    pub max_instances: usize,
    pub max_memories: usize,
    pub max_tables: usize,
    pub max_wasm_stack: usize,
    pub max_output_bytes: usize,
    pub max_log_bytes: usize,
    pub max_component_bytes: usize,
    pub max_platform_calls: usize,
    pub max_platform_bytes: usize,
}

impl BundleLimits {
    /// As JSON text, the way the store keeps a review's limits.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Read limits kept with [`BundleLimits::to_json`].
    pub fn from_json(text: &str) -> Result<BundleLimits, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl From<&Limits> for BundleLimits {
    fn from(l: &Limits) -> Self {
        BundleLimits {
            wall_time_ms: u64::try_from(l.wall_time.as_millis()).unwrap_or(u64::MAX),
            fuel: l.fuel,
            max_memory_bytes: l.max_memory_bytes,
            max_table_elements: l.max_table_elements,
            max_instances: l.max_instances,
            max_memories: l.max_memories,
            max_tables: l.max_tables,
            max_wasm_stack: l.max_wasm_stack,
            max_output_bytes: l.max_output_bytes,
            max_log_bytes: l.max_log_bytes,
            max_component_bytes: l.max_component_bytes,
            max_platform_calls: l.max_platform_calls,
            max_platform_bytes: l.max_platform_bytes,
        }
    }
}

impl From<&BundleLimits> for Limits {
    fn from(l: &BundleLimits) -> Self {
        Limits {
            wall_time: Duration::from_millis(l.wall_time_ms),
            fuel: l.fuel,
            max_memory_bytes: l.max_memory_bytes,
            max_table_elements: l.max_table_elements,
            max_instances: l.max_instances,
            max_memories: l.max_memories,
            max_tables: l.max_tables,
            max_wasm_stack: l.max_wasm_stack,
            max_output_bytes: l.max_output_bytes,
            max_log_bytes: l.max_log_bytes,
            max_component_bytes: l.max_component_bytes,
            max_platform_calls: l.max_platform_calls,
            max_platform_bytes: l.max_platform_bytes,
            // Not part of the record: a replay may compile on a slower machine.
            ..Limits::default()
        }
    }
}

/// What the review found: the deterministic part of every run and its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleResult {
    /// The verdict, at fail-on `error` and without waivers.
    pub verdict: String,
    /// SHA-256 of the canonical JSON of `runs`.
    pub runs_sha256: String,
    /// Every run.
    pub runs: Vec<RunRecord>,
}

/// The deterministic part of one check run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct RunRecord {
    pub check_id: String,
    pub digest: String,
    pub outcome: String,
    pub message: Option<String>,
    pub fuel: Option<u64>,
    pub peak_memory: u64,
    pub output_bytes: u64,
    pub platform_calls: u64,
    pub bytes_out: u64,
    /// `[rule id, severity, message, pointer, remediation]` per finding.
    pub findings: Vec<(String, String, String, String, Option<String>)>,
    /// `[operation, scope, outcome, bytes out]` per platform call.
    pub transcript: Vec<(String, String, String, u64)>,
}

impl RunRecord {
    fn of(run: &CheckRun) -> Self {
        RunRecord {
            check_id: run.check_id.clone(),
            digest: run.digest.clone(),
            outcome: run.outcome.as_str().to_owned(),
            message: run.message.clone(),
            fuel: run.usage.fuel,
            peak_memory: run.usage.peak_memory,
            output_bytes: run.usage.output_bytes,
            platform_calls: run.usage.platform_calls,
            bytes_out: run.usage.bytes_out,
            findings: run
                .findings
                .iter()
                .map(|f| {
                    (
                        f.rule_id.clone(),
                        f.severity.as_str().to_owned(),
                        f.message.clone(),
                        f.pointer.clone(),
                        f.remediation.clone(),
                    )
                })
                .collect(),
            transcript: run
                .transcript
                .iter()
                .map(|c| (c.operation.clone(), c.scope.clone(), c.outcome.as_str().to_owned(), c.bytes_out))
                .collect(),
        }
    }
}

/// The recorded result of `runs`. Resource regressions compare against another review and are
/// not part of this one's record.
pub fn result_of(runs: &[CheckRun]) -> BundleResult {
    let runs: Vec<&CheckRun> = runs.iter().filter(|r| r.check_id != RESOURCE_REGRESSION).collect();
    let owned: Vec<CheckRun> = runs.iter().map(|r| (*r).clone()).collect();
    let records: Vec<RunRecord> = runs.iter().map(|r| RunRecord::of(r)).collect();
    BundleResult {
        verdict: Verdict::decide(&owned, Severity::Error).as_str().to_owned(),
        runs_sha256: digest_of(&records),
        runs: records,
    }
}

fn digest_of(records: &[RunRecord]) -> String {
    // serde_json writes struct fields in declaration order: the encoding is canonical.
    let json = serde_json::to_vec(records).unwrap_or_default();
    hex::encode(Sha256::digest(&json))
}

/// Why a bundle cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Not JSON, or not this format.
    #[error("not an assay run bundle: {0}")]
    Format(String),
    /// A component or manifest does not match its recorded digest.
    #[error("{what} does not match its recorded SHA-256 (the bundle was altered)")]
    Tampered {
        /// Which part.
        what: String,
    },
    /// A manifest in the bundle does not parse.
    #[error("the bundle's {which} manifest does not parse: {message}")]
    Manifest {
        /// `listing` or `previous`.
        which: &'static str,
        /// The parser's message.
        message: String,
    },
    /// The host could not start with the bundle's limits.
    #[error("could not start the plugin host: {0}")]
    Host(String),
}

/// Make a bundle of a review that ran `checks` against `listing` (and `previous`).
pub fn bundle(
    limits: &Limits,
    seed: u64,
    listing: &str,
    previous: Option<&str>,
    checks: &[CheckSpec],
    runs: &[CheckRun],
) -> RunBundle {
    let b64 = base64::engine::general_purpose::STANDARD;
    RunBundle {
        format: FORMAT.to_owned(),
        assay_version: env!("CARGO_PKG_VERSION").to_owned(),
        seed,
        limits: limits.into(),
        listing: Document::new(listing),
        previous: previous.map(Document::new),
        checks: checks
            .iter()
            .map(|c| BundleCheck {
                name: c.name.clone(),
                sha256: c.digest.to_hex(),
                platform: c.platform,
                severity: c.severity.map(|s| s.as_str().to_owned()),
                config: c.config.clone(),
                component: b64.encode(&c.bytes),
            })
            .collect(),
        result: result_of(runs),
    }
}

impl RunBundle {
    /// Parse a bundle and check every digest in it.
    pub fn parse(json: &[u8]) -> Result<RunBundle, BundleError> {
        let bundle: RunBundle = serde_json::from_slice(json).map_err(|e| BundleError::Format(e.to_string()))?;
        if bundle.format != FORMAT {
            return Err(BundleError::Format(format!("format `{}`; this assay reads `{FORMAT}`", bundle.format)));
        }
        for (which, doc) in [("listing", Some(&bundle.listing)), ("previous", bundle.previous.as_ref())] {
            if let Some(doc) = doc
                && Document::new(&doc.text).sha256 != doc.sha256
            {
                return Err(BundleError::Tampered { what: format!("the {which} manifest") });
            }
        }
        bundle.specs()?;
        Ok(bundle)
    }

    /// The checks as the host takes them, each verified against its digest.
    pub fn specs(&self) -> Result<Vec<CheckSpec>, BundleError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        self.checks
            .iter()
            .map(|c| {
                let tampered = || BundleError::Tampered { what: format!("component `{}`", c.name) };
                let bytes = b64.decode(&c.component).map_err(|_| tampered())?;
                let digest = PluginDigest::of(&bytes);
                if digest.to_hex() != c.sha256 {
                    return Err(tampered());
                }
                let severity = match &c.severity {
                    Some(s) => Some(s.parse::<Severity>().map_err(|e| BundleError::Format(e.to_string()))?),
                    None => None,
                };
                Ok(CheckSpec {
                    name: c.name.clone(),
                    bytes: Arc::from(bytes),
                    digest,
                    config: c.config.clone(),
                    severity,
                    platform: c.platform,
                })
            })
            .collect()
    }

    /// Run the bundle again on `host` (which should have the bundle's limits) and compare.
    pub fn replay(&self, host: &Host) -> Result<Replay, BundleError> {
        let parse = |which: &'static str, doc: &Document| {
            Manifest::parse("listing.toml", &doc.text)
                .map(|p| p.manifest)
                .map_err(|e| BundleError::Manifest { which, message: e.to_string() })
        };
        let listing = parse("listing", &self.listing)?;
        let previous = self.previous.as_ref().map(|d| parse("previous", d)).transpose()?;
        let checks = self.specs()?;
        let review =
            host.review(ReviewInput { seed: self.seed, ..ReviewInput::new(&listing, previous.as_ref(), &checks) });
        let now = result_of(&review.runs);
        let differences = differences(&self.result, &now);
        Ok(Replay { recorded: self.result.clone(), replayed: now, differences })
    }
}

/// The outcome of a replay.
#[derive(Debug, Clone)]
pub struct Replay {
    /// What the bundle recorded.
    pub recorded: BundleResult,
    /// What the replay found.
    pub replayed: BundleResult,
    /// Every difference, one line each; empty when the replay matched bit for bit.
    pub differences: Vec<String>,
}

impl Replay {
    /// Whether the replay reproduced the recorded result exactly.
    pub fn matched(&self) -> bool {
        self.differences.is_empty() && self.recorded.runs_sha256 == self.replayed.runs_sha256
    }
}

fn differences(recorded: &BundleResult, replayed: &BundleResult) -> Vec<String> {
    let mut out = Vec::new();
    if recorded.verdict != replayed.verdict {
        out.push(format!("verdict: recorded {}, replayed {}", recorded.verdict, replayed.verdict));
    }
    if recorded.runs.len() != replayed.runs.len() {
        out.push(format!("runs: recorded {}, replayed {}", recorded.runs.len(), replayed.runs.len()));
    }
    for (a, b) in recorded.runs.iter().zip(&replayed.runs) {
        let id = &a.check_id;
        let mut field = |name: &str, x: String, y: String| {
            if x != y {
                out.push(format!("{id}: {name}: recorded {x}, replayed {y}"));
            }
        };
        field("check id", a.check_id.clone(), b.check_id.clone());
        field("outcome", a.outcome.clone(), b.outcome.clone());
        field("message", format!("{:?}", a.message), format!("{:?}", b.message));
        field("fuel", format!("{:?}", a.fuel), format!("{:?}", b.fuel));
        field("peak memory", a.peak_memory.to_string(), b.peak_memory.to_string());
        field("output bytes", a.output_bytes.to_string(), b.output_bytes.to_string());
        field("platform calls", a.platform_calls.to_string(), b.platform_calls.to_string());
        field("bytes out", a.bytes_out.to_string(), b.bytes_out.to_string());
        field("findings", format!("{:?}", a.findings), format!("{:?}", b.findings));
        if a.transcript != b.transcript {
            let at = a
                .transcript
                .iter()
                .zip(&b.transcript)
                .position(|(x, y)| x != y)
                .unwrap_or(a.transcript.len().min(b.transcript.len()));
            out.push(format!(
                "{id}: transcript differs from call {at} (recorded {} calls, replayed {})",
                a.transcript.len(),
                b.transcript.len()
            ));
        }
    }
    if out.is_empty() && recorded.runs_sha256 != replayed.runs_sha256 {
        out.push(format!("runs digest: recorded {}, replayed {}", recorded.runs_sha256, replayed.runs_sha256));
    }
    out
}
