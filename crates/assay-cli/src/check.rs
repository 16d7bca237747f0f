//! `assay check`: run the rule pack (and extra checks) against a listing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use assay_core::manifest::ParsedManifest;
use assay_core::{Manifest, Verdict};
use assay_host::{CheckSpec, Limits, ReviewInput};

use assay_service::bundle::RunBundle;

use crate::args::{CheckArgs, ClientFormat, Format, ReplayArgs};
use crate::config::Config;
use crate::exit::{self, Failure, InputContext};
use crate::report::{self, Report};
use crate::setup;

/// Listings larger than this are refused before parsing.
const MAX_MANIFEST_BYTES: u64 = 256 << 10;

pub fn run(config: &Config, args: &CheckArgs) -> Result<ExitCode, Failure> {
    let started = (jiff::Timestamp::now(), std::time::Instant::now());
    let pack = setup::pack(args.rules.as_ref())?;
    let listing = match load_manifest(&listing_path(&args.path)) {
        Ok(listing) => listing,
        Err(failure) => {
            // CI uploads the report file whatever happened: a refused manifest gets one too.
            if let (Failure::Input(e, _), true) = (&failure, args.format != Format::Human)
                && let Some(error) = e.downcast_ref::<assay_core::ManifestError>()
            {
                emit(args, &Report::invalid(error, &pack.manifest, args.fail_on.into()), None)?;
            }
            return Err(failure);
        }
    };
    let previous = args.previous.as_deref().map(|p| load_manifest(&listing_path(p))).transpose()?;
    if let Some(previous) = &previous {
        let (now, before) = (&listing.parsed.manifest.slug, &previous.parsed.manifest.slug);
        if now != before {
            return Err(Failure::Input(
                anyhow::anyhow!("{} is listing `{before}`, but {} is listing `{now}`", previous.file, listing.file),
                None,
            ));
        }
    }
    let mut checks = pack.checks();
    for (name, bytes) in partner_checks(&listing_path(&args.path), &listing.parsed.manifest, &args.checks)? {
        checks.push(CheckSpec::partner(name, Arc::from(bytes)));
    }
    let host = setup::host(&config.sandbox)?;
    tracing::info!(checks = checks.len(), seed = args.seed, "reviewing {}", listing.file);
    let input = ReviewInput::new(&listing.parsed.manifest, previous.as_ref().map(|p| &p.parsed.manifest), &checks);
    let review = host.review(ReviewInput { seed: args.seed, ..input });
    if let Some(path) = &args.bundle {
        let text = |path: &Path| std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()));
        let previous_text = args.previous.as_deref().map(|p| text(&listing_path(p))).transpose().input()?;
        let bundle = assay_service::bundle::bundle(
            host.limits(),
            args.seed,
            &text(&listing_path(&args.path)).input()?,
            previous_text.as_deref(),
            &checks,
            &review.runs,
        );
        let json = serde_json::to_vec_pretty(&bundle).context("encoding the run bundle").map_err(Failure::Host)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display())).input()?;
        tracing::info!("wrote the run bundle to {}", path.display());
    }
    let fail_on = args.fail_on.into();
    let verdict = Verdict::decide(&review.runs, fail_on);
    let mut report =
        Report::new(&listing.file, &listing.parsed, (&pack.manifest).into(), review.runs, verdict, fail_on);
    report.run = Some(report::RunTiming { started: started.0, elapsed: started.1.elapsed() });
    report.attach_docs(&pack);
    emit(args, &report, Some(&listing.parsed.source_map))?;
    Ok(ExitCode::from(match verdict {
        Verdict::Pass => exit::PASS,
        Verdict::Fail => exit::FAIL,
        Verdict::Error => exit::HOST,
    }))
}

/// Render the report as asked and write it to `--output` or stdout.
pub fn emit(args: &CheckArgs, report: &Report, source_map: Option<&assay_core::SourceMap>) -> Result<(), Failure> {
    let rendered = match (args.format, source_map) {
        (Format::Human, Some(source_map)) => report::human::render(report, source_map),
        (Format::Human, None) => return Ok(()),
        (Format::Json, _) => report::json::render(report),
        (Format::Sarif, _) => report::sarif::render(report, &report::sarif::base_dir(args.base_dir.as_deref())),
        (Format::Junit, _) => report::junit::render(report),
    }
    .map_err(Failure::Host)?;
    match &args.output {
        Some(path) => std::fs::write(path, anstream::adapter::strip_str(&rendered).to_string())
            .with_context(|| format!("writing {}", path.display()))
            .input()?,
        None => {
            use std::io::Write as _;
            // A closed pipe (`assay check … | head`) is not an error worth reporting.
            let _ = anstream::stdout().write_all(rendered.as_bytes());
        }
    }
    Ok(())
}

/// The partner's checks: the one the manifest declares (`[check] component`, relative to the
/// manifest), then every `--check`, each as (file name, bytes).
pub fn partner_checks(
    manifest_path: &Path,
    manifest: &Manifest,
    extra: &[PathBuf],
) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let declared = manifest.check.as_ref().map(|c| manifest_path.parent().unwrap_or(Path::new(".")).join(&c.component));
    let mut out = Vec::new();
    for path in declared.iter().chain(extra) {
        let bytes = assay_host::read_bounded(path, Limits::default().max_component_bytes)
            .with_context(|| {
                if Some(path) == declared.as_ref() {
                    format!("reading the check the listing declares ([check] component), {}", path.display())
                } else {
                    format!("reading check {}", path.display())
                }
            })
            .input()?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        out.push((name, bytes));
    }
    Ok(out)
}

/// `assay replay BUNDLE`: run a bundle again and say whether it matched, bit for bit.
pub fn replay(config: &Config, args: &ReplayArgs) -> Result<ExitCode, Failure> {
    let json = std::fs::read(&args.bundle).with_context(|| format!("reading {}", args.bundle.display())).input()?;
    let bundle =
        RunBundle::parse(&json).with_context(|| format!("{} cannot be replayed", args.bundle.display())).input()?;
    let host = setup::host_with(&config.sandbox, (&bundle.limits).into(), None)?;
    let replay = bundle.replay(&host).context("replaying").input()?;
    let matched = replay.matched();
    if args.format == ClientFormat::Json {
        let out = serde_json::json!({
            "matched": matched,
            "recorded": { "verdict": replay.recorded.verdict, "runs_sha256": replay.recorded.runs_sha256 },
            "replayed": { "verdict": replay.replayed.verdict, "runs_sha256": replay.replayed.runs_sha256 },
            "differences": replay.differences,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        let calls: usize = replay.replayed.runs.iter().map(|r| r.transcript.len()).sum();
        if matched {
            println!(
                "matched: {} runs, {calls} platform calls, verdict {}, runs digest {} (seed {}, recorded by assay {})",
                replay.replayed.runs.len(),
                replay.replayed.verdict,
                replay.replayed.runs_sha256,
                bundle.seed,
                bundle.assay_version
            );
        } else {
            println!("did not match: {} difference(s)", replay.differences.len());
            for difference in &replay.differences {
                println!("  {difference}");
            }
        }
    }
    Ok(ExitCode::from(if matched { exit::PASS } else { exit::FAIL }))
}

/// A directory means its `listing.toml`.
pub fn listing_path(path: &Path) -> PathBuf {
    if path.is_dir() { path.join("listing.toml") } else { path.to_owned() }
}

pub struct LoadedManifest {
    pub file: String,
    pub parsed: ParsedManifest,
}

pub fn load_manifest(path: &Path) -> Result<LoadedManifest, Failure> {
    let file = path.display().to_string();
    let size = std::fs::metadata(path).with_context(|| format!("reading {file}")).input()?.len();
    if size > MAX_MANIFEST_BYTES {
        return Err(Failure::Input(
            anyhow::anyhow!("{file} is {size} bytes; a listing.toml may be at most {MAX_MANIFEST_BYTES} bytes"),
            None,
        ));
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {file}")).input()?;
    let source = String::from_utf8(bytes).map_err(|e| {
        Failure::Input(anyhow::anyhow!("{file} is not UTF-8 text (byte {})", e.utf8_error().valid_up_to()), None)
    })?;
    let parsed = Manifest::parse(&file, &source)
        .map_err(|e| Failure::Input(anyhow::Error::new(e.clone()), Some(report::human::manifest_error(&e, &source))))?;
    Ok(LoadedManifest { file, parsed })
}
