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
use crate::client::Client;
use crate::config::Config;
use crate::exit::{self, Failure, InputContext};
use crate::report::{self, Report};
use crate::setup;

/// Listings larger than this are refused before parsing.
const MAX_MANIFEST_BYTES: u64 = 256 << 10;

pub fn run(config: &Config, args: &CheckArgs) -> Result<ExitCode, Failure> {
    let started = (jiff::Timestamp::now(), std::time::Instant::now());
    // With --server: the service's active pack, pulled (or found in the cache) by digest.
    let remote = match &args.server {
        Some(server) => {
            let client = Client::new(&crate::args::ClientArgs { server: server.clone(), token: args.token.clone() })?;
            let (dir, _) = crate::rules::pull::pack_dir(&client, &setup::packs_dir(&config.sandbox), None)?;
            Some((client, dir))
        }
        None => None,
    };
    let rules_dir = remote.as_ref().map(|(_, dir)| dir.clone()).or_else(|| args.rules.clone());
    let mut pack = setup::pack(rules_dir.as_ref())?;
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
    let mut previous = args.previous.as_deref().map(|p| load_manifest(&listing_path(p))).transpose()?;
    let mut waivers = Vec::new();
    if let Some((client, _)) = &remote {
        let context = service_context(config, client, &listing.parsed.manifest.slug.to_string(), &mut pack)?;
        previous = context.previous;
        waivers = context.waivers;
    }
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
    // Against a service, findings link to its rule pages, as the service's own findings do.
    let host = setup::host_with(&config.sandbox, setup::limits(&config.sandbox), args.server.clone())?;
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
    let (version, now) = (&listing.parsed.manifest.version, jiff::Timestamp::now().as_second());
    let waived = |f: &assay_core::Finding| assay_core::waiver::find(&waivers, &f.rule_id, version, now).is_some();
    let verdict = Verdict::decide_waived(&review.runs, fail_on, waived);
    let mut report =
        Report::new(&listing.file, &listing.parsed, (&pack.manifest).into(), review.runs, verdict, fail_on);
    report.run = Some(report::RunTiming { started: started.0, elapsed: started.1.elapsed() });
    report.attach_docs(&pack);
    report.mark_waived(&waivers, version, now);
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

/// What the review service would use for this listing, as `assay check --server` runs it.
struct ServiceContext {
    previous: Option<LoadedManifest>,
    waivers: Vec<assay_core::waiver::Waiver>,
}

/// Ask the service for `slug`'s context: its last approved version and live waivers. When the
/// active pack moved since `pack` was pulled, pull the one the context names.
fn service_context(
    config: &Config,
    client: &Client,
    slug: &str,
    pack: &mut assay_host::RulePack,
) -> Result<ServiceContext, Failure> {
    let context: assay_api::rules::CheckContext = match client.get(&format!("/v1/listings/{slug}/check-context"))? {
        crate::client::Answer::Ok(context) => context,
        // A listing not created yet is checked as its first submission would be: the active
        // pack, nothing to compare with, no waivers.
        crate::client::Answer::Refused(404, _) => {
            eprintln!(
                "checking {slug} as {} would review a first version: the listing is not there (or not yours), so \
                 there is no approved version to compare with and no waiver",
                client.base()
            );
            return Ok(ServiceContext { previous: None, waivers: Vec::new() });
        }
        crate::client::Answer::Refused(status, problem) => return Err(crate::client::refused(status, &problem)),
    };
    let pulled = assay_service::rollout::pack_digest(&pack.source, &pack.components);
    if context.pack.digest != pulled {
        let packs = setup::packs_dir(&config.sandbox);
        let (dir, _) = crate::rules::pull::pack_dir(client, &packs, Some(&context.pack.digest))?;
        *pack = setup::pack(Some(&dir))?;
    }
    let previous = match context.previous {
        Some(p) => {
            let file = format!("{}/listings/{slug}/versions/{}", client.base(), p.version);
            let parsed = Manifest::parse(&file, &p.manifest)
                .map_err(|e| Failure::Host(anyhow::anyhow!("the service's approved version does not parse: {e}")))?;
            Some(LoadedManifest { file, parsed })
        }
        None => None,
    };
    let waivers = context
        .waivers
        .iter()
        .map(|w| {
            let versions =
                w.versions.parse().map_err(|e| anyhow::anyhow!("waiver #{} covers `{}`: {e}", w.id, w.versions))?;
            let expires_at =
                w.expires_at.parse::<jiff::Timestamp>().map_err(|e| anyhow::anyhow!("waiver #{}: {e}", w.id))?;
            Ok(assay_core::waiver::Waiver {
                id: w.id,
                rule_id: w.rule_id.clone(),
                versions,
                expires_at: expires_at.as_second(),
            })
        })
        .collect::<anyhow::Result<_>>()
        .map_err(Failure::Host)?;
    let compared = match &previous {
        Some(p) => format!("compared with {}, its last approved version", p.parsed.manifest.version),
        None => "no approved version to compare with".to_owned(),
    };
    let waived = match context.waivers.len() {
        1 => "1 live waiver".to_owned(),
        n => format!("{n} live waivers"),
    };
    eprintln!(
        "checking {slug} as {} does: rule pack {}@{}, {compared}, {waived}",
        client.base(),
        context.pack.name,
        context.pack.version
    );
    Ok(ServiceContext { previous, waivers })
}
