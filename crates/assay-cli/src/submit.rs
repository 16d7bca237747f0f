//! `assay submit`: upload a version, follow its review, show the findings.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use assay_api::listings::{CreateListing, Listing, Submitted, Version};
use assay_core::integration::PlatformCall;
use assay_core::{CheckOutcome, CheckRun, Finding, ResourceUsage, Severity, Verdict};

use crate::args::{ClientFormat, SubmitArgs};
use crate::check::{listing_path, load_manifest};
use crate::client::{Answer, Client, expect, print_json, refused};
use crate::exit::{self, Failure, InputContext};
use crate::report::{self, PackInfo, Report};

pub fn run(args: &SubmitArgs) -> Result<ExitCode, Failure> {
    let client = Client::new(&args.client)?;
    // Parse locally first: the same errors `assay check` gives, before anything is uploaded.
    let path = listing_path(&args.path);
    let local = load_manifest(&path)?;
    let manifest_text = std::fs::read(&path).with_context(|| format!("reading {}", path.display())).input()?;
    let slug = local.parsed.manifest.slug.as_str().to_owned();
    let checks = crate::check::partner_checks(&path, &local.parsed.manifest, &args.checks)?;
    let mut parts: Vec<(&str, &str, &[u8])> = vec![("manifest", "listing.toml", &manifest_text)];
    parts.extend(checks.iter().map(|(name, bytes)| ("check", name.as_str(), bytes.as_slice())));
    let submit_path = format!("/v1/listings/{slug}/versions");
    let submitted: Submitted = match client.post_form(&submit_path, &parts)? {
        Answer::Ok(submitted) => submitted,
        // A first submission: create the listing under the manifest's name, then submit.
        Answer::Refused(404, problem) if problem.code == assay_api::ProblemCode::NotFound => {
            let body = CreateListing { slug: slug.clone(), name: local.parsed.manifest.name.clone() };
            let _: Listing = expect(client.post("/v1/listings", &body)?)?;
            eprintln!("created listing `{slug}`");
            expect(client.post_form(&submit_path, &parts)?)?
        }
        Answer::Refused(status, problem) => return Err(refused(status, &problem)),
    };
    eprintln!("submitted {}@{} ({})", submitted.slug, submitted.version, submitted.url);
    if args.no_wait {
        if args.format == ClientFormat::Json {
            print_json(&submitted)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let version = wait_for_review(&client, &submitted.url, Duration::from_secs(args.wait_secs))?;
    match args.format {
        ClientFormat::Json => {
            print_json(&version)?;
        }
        ClientFormat::Human => {
            let report = to_report(&local.file, &local.parsed, &version)?;
            let rendered = report::human::render(&report, &local.parsed.source_map).map_err(Failure::Host)?;
            use std::io::Write as _;
            let _ = anstream::stdout().write_all(rendered.as_bytes());
            let waived = version.findings.iter().filter(|f| f.waived_by.is_some()).count();
            if waived > 0 {
                println!("{waived} finding(s) covered by a live waiver are not shown");
            }
            println!("state: {}; follow it with `assay status {}@{}`", version.state, version.slug, version.version);
        }
    }
    Ok(ExitCode::from(match version.verdict.as_deref() {
        Some("pass") => exit::PASS,
        Some("fail") => exit::FAIL,
        _ => exit::HOST,
    }))
}

/// Wait until the review finished, with a spinner on a terminal: long polls (`?wait=`), which
/// the service answers as soon as the verdict is recorded.
fn wait_for_review(client: &Client, url: &str, limit: Duration) -> Result<Version, Failure> {
    let spinner = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(bar)
    } else {
        None
    };
    let started = Instant::now();
    let mut delay = Duration::from_millis(100);
    let result = loop {
        let left = limit.saturating_sub(started.elapsed()).clamp(Duration::from_secs(1), Duration::from_secs(20));
        let asked = Instant::now();
        let version: Version = expect(client.get(&format!("{url}?wait={}s", left.as_secs()))?)?;
        if !matches!(version.state.as_str(), "submitted" | "checking") {
            break Ok(version);
        }
        if let Some(bar) = &spinner {
            bar.set_message(format!("{} ({}s)", version.state, started.elapsed().as_secs()));
        }
        if started.elapsed() > limit {
            break Err(Failure::Host(anyhow!(
                "the review did not finish within {}s (it is {}); follow it with `assay status {}@{}`",
                limit.as_secs(),
                version.state,
                version.slug,
                version.version
            )));
        }
        // A service that answered at once did not wait (an older one): back off instead.
        if asked.elapsed() < left / 2 {
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    };
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    result
}

/// The service's view of a version as the report `assay check` renders.
fn to_report(file: &str, parsed: &assay_core::manifest::ParsedManifest, v: &Version) -> Result<Report, Failure> {
    let invalid = |what: String| Failure::Host(anyhow!("the service sent {what}"));
    let mut runs = Vec::with_capacity(v.checks.len());
    for c in &v.checks {
        let findings = v
            .findings
            .iter()
            .filter(|f| f.check_id == c.check_id && f.waived_by.is_none())
            .map(|f| {
                Ok(Finding {
                    rule_id: f.rule_id.clone(),
                    severity: f
                        .severity
                        .parse::<Severity>()
                        .map_err(|_| invalid(format!("severity `{}`", f.severity)))?,
                    message: f.message.clone(),
                    pointer: f.pointer.clone(),
                    remediation: f.remediation.clone(),
                    help_url: f.help_url.clone(),
                })
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        runs.push(CheckRun {
            check_id: c.check_id.clone(),
            digest: c.digest.clone(),
            rule: None,
            outcome: c.outcome.parse::<CheckOutcome>().map_err(|_| invalid(format!("outcome `{}`", c.outcome)))?,
            message: c.message.clone(),
            findings,
            usage: ResourceUsage {
                wall_time: Duration::from_micros(c.usage.wall_time_us),
                fuel: c.usage.fuel,
                peak_memory: c.usage.peak_memory_bytes,
                output_bytes: c.usage.output_bytes,
                log_bytes: c.usage.log_bytes,
                platform_calls: c.usage.platform_calls,
                bytes_out: c.usage.bytes_out,
            },
            logs: Vec::new(),
            platform: c.platform,
            integration: c.integration,
            transcript: c
                .transcript
                .iter()
                .map(|t| {
                    Ok(PlatformCall {
                        operation: t.operation.clone(),
                        scope: t.scope.clone(),
                        outcome: t.outcome.parse().map_err(|_| invalid(format!("call outcome `{}`", t.outcome)))?,
                        bytes_out: t.bytes_out,
                    })
                })
                .collect::<Result<_, Failure>>()?,
        });
    }
    let verdict =
        v.verdict.as_deref().unwrap_or("error").parse::<Verdict>().map_err(|_| invalid("a verdict".into()))?;
    let pack = v.review.as_ref().map_or_else(
        || PackInfo { name: "unknown".into(), version: "0.0.0".into() },
        |r| PackInfo { name: r.pack.clone(), version: r.pack_version.clone() },
    );
    Ok(Report::new(file, parsed, pack, runs, verdict, Severity::Error))
}
