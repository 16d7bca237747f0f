//! `assay rules list`: what a pack contains. `assay rules publish|status`: roll a pack out to
//! a review service (shadow re-check, blast radius, enforcement) and follow it.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use assay_api::packs::{ChecksUpdated, Enforce, PackRollout, Recheck};
use serde_json::json;

use crate::args::{ChecksUpdateArgs, ClientFormat, ListFormat, RulesListArgs, RulesPublishArgs, RulesStatusArgs};
use crate::client::{Answer, Client, expect, print_json, refused};
use crate::exit::{Failure, InputContext};
use crate::setup;

/// How often `--wait` asks for progress.
const POLL: Duration = Duration::from_millis(500);

pub fn list(config: &crate::config::Config, args: &RulesListArgs) -> Result<ExitCode, Failure> {
    let pack = setup::pack(args.rules.as_ref())?;
    let host = setup::host(&config.sandbox)?;
    let mut rows = Vec::new();
    for (rule, bytes) in pack.manifest.rules.iter().zip(&pack.components) {
        let plugin =
            host.load(bytes).map_err(|e| Failure::Host(anyhow::anyhow!("rule component `{}`: {e}", rule.component)))?;
        let meta = &plugin.meta;
        rows.push((meta.clone(), rule.severity.unwrap_or(meta.default_severity), rule.enabled, rule.component.clone()));
    }
    let out = match args.format {
        ListFormat::Json => {
            let rules: Vec<_> = rows
                .iter()
                .map(|(m, severity, enabled, component)| {
                    json!({
                        "id": m.id, "name": m.name, "version": m.version.to_string(), "severity": severity.to_string(),
                        "enabled": enabled, "description": m.description, "help_url": m.help_url, "component": component,
                    })
                })
                .collect();
            let doc =
                json!({ "name": pack.manifest.name, "version": pack.manifest.version.to_string(), "rules": rules });
            serde_json::to_string_pretty(&doc).map_err(|e| Failure::Host(e.into()))? + "\n"
        }
        ListFormat::Table => {
            let mut out = format!("{} {} — {} rules\n\n", pack.manifest.name, pack.manifest.version, rows.len());
            let width = rows.iter().map(|(m, ..)| m.id.len()).max().unwrap_or(2);
            out.push_str(&format!("{:<width$}  {:<7}  {:<8}  {}\n", "ID", "VERSION", "SEVERITY", "DESCRIPTION"));
            for (m, severity, enabled, _) in &rows {
                let disabled = if *enabled { "" } else { " (disabled)" };
                // The first sentence; `--format json` has the whole description.
                let summary = first_sentence(&m.description);
                out.push_str(&format!(
                    "{:<width$}  {:<7}  {:<8}  {summary}{disabled}\n",
                    m.id,
                    m.version.to_string(),
                    severity.to_string(),
                ));
            }
            out
        }
    };
    use std::io::Write as _;
    let _ = anstream::stdout().write_all(out.as_bytes());
    Ok(ExitCode::SUCCESS)
}

pub fn publish(args: &RulesPublishArgs) -> Result<ExitCode, Failure> {
    let client = Client::new(&args.client)?;
    let (manifest, components) = pack_files(&args.pack)?;
    let parsed =
        assay_core::pack::PackManifest::parse("pack.toml", &manifest).map_err(|e| Failure::Input(e.into(), None))?;
    let path = format!("/v1/rule-packs/{}/{}", parsed.name, parsed.version);
    let mut rollout: PackRollout = match client.get(&path)? {
        Answer::Ok(existing) if args.shadow => {
            return Err(Failure::Input(
                anyhow!(
                    "rule pack {}@{} is already published ({}); bump its version to publish a change, or follow it with `assay rules status {}@{}`",
                    parsed.name,
                    parsed.version,
                    existing_phase(&existing),
                    parsed.name,
                    parsed.version
                ),
                None,
            ));
        }
        Answer::Ok(existing)
            if existing.digest
                != assay_service::rollout::pack_digest(
                    &manifest,
                    &components.iter().map(|(_, b)| b).collect::<Vec<_>>(),
                ) =>
        {
            return Err(Failure::Input(
                anyhow!(
                    "rule pack {}@{} is published with other contents than {}; bump its version to publish a change",
                    parsed.name,
                    parsed.version,
                    args.pack
                ),
                None,
            ));
        }
        Answer::Ok(existing) => existing,
        Answer::Refused(404, _) => {
            let mut parts: Vec<(&str, &str, &[u8])> = vec![("manifest", "pack.toml", manifest.as_bytes())];
            parts.extend(components.iter().map(|(name, bytes)| ("component", name.as_str(), bytes.as_slice())));
            let published: PackRollout = expect(client.post_form("/v1/rule-packs", &parts)?)?;
            eprintln!(
                "published {}@{} in shadow mode: re-checking {}, blocking nothing",
                published.name,
                published.version,
                live_listings(published.progress.total)
            );
            published
        }
        Answer::Refused(status, problem) => return Err(refused(status, &problem)),
    };
    if args.wait || args.enforce {
        rollout = wait(&client, &path, rollout)?;
    }
    if args.enforce {
        if rollout.phase != "shadow" {
            eprintln!("{}@{} is already enforced ({})", rollout.name, rollout.version, existing_phase(&rollout));
        } else {
            rollout = expect(client.post(&format!("{path}/enforce"), &Enforce { grace_days: args.grace })?)?;
            eprintln!(
                "enforced {}@{}: its verdicts apply from {}; {} partner listing(s) notified",
                rollout.name,
                rollout.version,
                rollout.enforce_at.as_deref().unwrap_or("?"),
                rollout.verdicts.fail
            );
        }
    }
    render(&rollout, args.format)
}

pub fn status(args: &RulesStatusArgs) -> Result<ExitCode, Failure> {
    let client = Client::new(&args.client)?;
    let Some(pack) = &args.pack else {
        let packs: Vec<PackRollout> = expect(client.get("/v1/rule-packs")?)?;
        if args.format == ClientFormat::Json {
            print_json(&packs)?;
        } else if packs.is_empty() {
            println!("no rule packs published; publish one with `assay rules publish DIR --shadow`");
        } else {
            println!("{:<28}  {:<8}  {:>9}  {:>7}  {:>7}  ENFORCED FROM", "PACK", "PHASE", "CHECKED", "PASS", "FAIL");
            for p in &packs {
                let checked = format!("{}/{}", p.progress.done + p.progress.dead, p.progress.total);
                println!(
                    "{:<28}  {:<8}  {:>9}  {:>7}  {:>7}  {}",
                    format!("{}@{}", p.name, p.version),
                    p.phase,
                    checked,
                    p.verdicts.pass,
                    p.verdicts.fail,
                    p.enforce_at.as_deref().unwrap_or("-")
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let Some((name, version)) = pack.split_once('@') else {
        return Err(Failure::Input(anyhow!("name a pack as NAME@VERSION, not `{pack}`"), None));
    };
    let path = format!("/v1/rule-packs/{name}/{version}");
    let mut rollout: PackRollout = expect(client.get(&path)?)?;
    if args.wait {
        rollout = wait(&client, &path, rollout)?;
    }
    render(&rollout, args.format)
}

/// `assay checks update`: new partner checks for a live version, and (with `--wait`) the
/// verdict of the re-check they trigger.
pub fn update_checks(args: &ChecksUpdateArgs) -> Result<ExitCode, Failure> {
    let client = Client::new(&args.client)?;
    let mut files = Vec::new();
    for path in &args.checks {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display())).input()?;
        let name = path.file_name().map_or_else(|| "check.wasm".to_owned(), |n| n.to_string_lossy().into_owned());
        files.push((name, bytes));
    }
    let path = format!("/v1/listings/{}/checks", args.slug);
    let parts: Vec<(&str, &str, &[u8])> = files.iter().map(|(n, b)| ("check", n.as_str(), b.as_slice())).collect();
    let updated: ChecksUpdated = expect(client.put_form(&path, &parts)?)?;
    eprintln!("re-checking {}@{} with the new checks ({})", updated.slug, updated.version, updated.url);
    if !args.wait {
        if args.format == ClientFormat::Json {
            print_json(&updated)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let started = Instant::now();
    let recheck = loop {
        let list: Vec<Recheck> = expect(client.get(&updated.url)?)?;
        if let Some(new) = list.into_iter().find(|r| r.job_id == updated.job_id) {
            break new;
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(Failure::Host(anyhow!("the re-check did not finish in 10 minutes; see {}", updated.url)));
        }
        std::thread::sleep(POLL);
    };
    if args.format == ClientFormat::Json {
        print_json(&recheck)?;
    } else {
        println!("{}@{} re-checked with the new checks: {}", updated.slug, updated.version, recheck.verdict);
        for f in recheck.findings.as_array().into_iter().flatten() {
            println!(
                "  {}[{}] {} ({})",
                f["severity"].as_str().unwrap_or("?"),
                f["rule_id"].as_str().unwrap_or("?"),
                f["message"].as_str().unwrap_or(""),
                f["pointer"].as_str().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::from(match recheck.verdict.as_str() {
        "pass" => crate::exit::PASS,
        "fail" => crate::exit::FAIL,
        _ => crate::exit::HOST,
    }))
}

/// `pack.toml` and the components it names: from a directory, or the built-in pack.
/// A pack's `pack.toml` and its components by file name.
type PackFiles = (String, Vec<(String, Vec<u8>)>);

fn pack_files(pack: &str) -> Result<PackFiles, Failure> {
    if pack == "builtin" {
        let components = setup::builtin_pack()
            .map_err(Failure::Host)?
            .manifest
            .rules
            .iter()
            .map(|rule| {
                let bytes = assay_builtin::component(&rule.component).unwrap_or_default();
                (rule.component.clone(), bytes.to_vec())
            })
            .collect();
        return Ok((assay_builtin::PACK_TOML.to_owned(), components));
    }
    let dir = Path::new(pack);
    let manifest = std::fs::read_to_string(dir.join("pack.toml"))
        .with_context(|| {
            format!(
                "reading {} (a pack is a directory holding pack.toml, or `builtin`)",
                dir.join("pack.toml").display()
            )
        })
        .input()?;
    let parsed =
        assay_core::pack::PackManifest::parse("pack.toml", &manifest).map_err(|e| Failure::Input(e.into(), None))?;
    let mut components = Vec::new();
    for rule in &parsed.rules {
        let path = dir.join(&rule.component);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display())).input()?;
        components.push((rule.component.clone(), bytes));
    }
    Ok((manifest, components))
}

/// "1 live listing", "2 live listings".
fn live_listings(n: i64) -> String {
    if n == 1 { "1 live listing".to_owned() } else { format!("{n} live listings") }
}

fn existing_phase(r: &PackRollout) -> String {
    match (r.phase.as_str(), &r.enforce_at) {
        ("shadow", _) => "in shadow mode".into(),
        (phase, Some(at)) => format!("{phase}, enforced from {at}"),
        (phase, None) => phase.to_owned(),
    }
}

/// Poll the rollout until its re-check is complete: a progress bar with counts and ETA on a
/// terminal, a line every few seconds otherwise.
fn wait(client: &Client, path: &str, mut rollout: PackRollout) -> Result<PackRollout, Failure> {
    let terminal = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::new(rollout.progress.total.max(0) as u64);
    if terminal {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} re-checking {pos}/{len} live listings [{bar:30}] {per_sec} · ETA {eta} · {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut last_line = Instant::now();
    loop {
        let p = &rollout.progress;
        let finished = (p.done + p.dead).max(0) as u64;
        bar.set_length(p.total.max(0) as u64);
        bar.set_position(finished);
        bar.set_message(format!("{} would fail", rollout.verdicts.fail));
        if p.waiting + p.running == 0 {
            break;
        }
        if !terminal && last_line.elapsed() >= Duration::from_secs(5) {
            let eta = p.eta_secs.map_or_else(|| "?".to_owned(), |s| format!("{s}s"));
            eprintln!(
                "re-checked {finished}/{} live listings, {} would fail, ETA {eta}",
                p.total, rollout.verdicts.fail
            );
            last_line = Instant::now();
        }
        std::thread::sleep(POLL);
        rollout = expect(client.get(path)?)?;
    }
    bar.finish_and_clear();
    let p = &rollout.progress;
    eprintln!(
        "re-checked {}: {} pass, {} would fail, {} could not be decided{}",
        live_listings(rollout.verdicts.pass + rollout.verdicts.fail + rollout.verdicts.error),
        rollout.verdicts.pass,
        rollout.verdicts.fail,
        rollout.verdicts.error,
        if p.dead > 0 { format!(", {} dead-lettered (see GET /v1/jobs)", p.dead) } else { String::new() }
    );
    Ok(rollout)
}

/// The rollout: JSON as the API gives it, or the blast radius as a table.
fn render(rollout: &PackRollout, format: ClientFormat) -> Result<ExitCode, Failure> {
    if format == ClientFormat::Json {
        print_json(rollout)?;
        return Ok(ExitCode::SUCCESS);
    }
    let p = &rollout.progress;
    println!("{}@{} — {}", rollout.name, rollout.version, existing_phase(rollout));
    println!(
        "re-checked {}/{} live listings: {} pass, {} fail, {} error{}",
        p.done + p.dead,
        p.total,
        rollout.verdicts.pass,
        rollout.verdicts.fail,
        rollout.verdicts.error,
        if p.waiting + p.running > 0 { " (still running)" } else { "" }
    );
    if rollout.rules.is_empty() {
        println!("blast radius: no live listing fails this pack");
        return Ok(ExitCode::SUCCESS);
    }
    println!("\nblast radius, by rule:");
    for rule in &rollout.rules {
        println!("  {:<40} {:>6} listing(s)", rule.rule_id, rule.listings);
    }
    println!("\nlistings that would fail:");
    for a in rollout.affected.iter().take(50) {
        println!("  {}@{} ({}): {}", a.slug, a.version, a.partner, a.rules.join(", "));
    }
    if rollout.verdicts.fail > 50 {
        println!("  … and {} more (`--format json` lists up to 500)", rollout.verdicts.fail - 50);
    }
    Ok(ExitCode::SUCCESS)
}

/// Up to the first ". " that is followed by a capital letter ("e.g. orders" does not end it).
fn first_sentence(text: &str) -> &str {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices(". ") {
        if bytes.get(i + 2).is_some_and(u8::is_ascii_uppercase) {
            return &text[..=i];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_sentence_skips_abbreviations() {
        assert_eq!(super::first_sentence("Checks x (e.g. y). More."), "Checks x (e.g. y).");
        assert_eq!(super::first_sentence("One sentence"), "One sentence");
    }
}
