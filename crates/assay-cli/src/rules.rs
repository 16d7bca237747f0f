//! `assay rules list`: what a pack contains. `assay rules test`: a pack's test cases. `assay rules publish|status`: roll a pack out to
//! a review service (shadow re-check, blast radius, enforcement) and follow it.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use assay_api::packs::{ChecksUpdated, Enforce, PackRollout, Recheck};
use serde_json::json;

use assay_core::CheckOutcome;
use assay_host::{CheckSpec, ReviewInput};
use cases::Expected;

use crate::args::{
    ChecksUpdateArgs, ClientFormat, ListFormat, RulesListArgs, RulesPublishArgs, RulesShowArgs, RulesStatusArgs,
    RulesTestArgs, TestFormat,
};
use crate::client::{Answer, Client, expect, print_json, refused};
use crate::exit::{Failure, InputContext};
use crate::setup;

mod cases;
pub mod new;
pub mod pull;

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

/// `assay rules show ID`: a rule's documentation as its pack ships it.
pub fn show(config: &crate::config::Config, args: &RulesShowArgs) -> Result<ExitCode, Failure> {
    let pack = setup::pack(args.rules.as_ref())?;
    let host = setup::host(&config.sandbox)?;
    let mut ids = Vec::new();
    for ((rule, bytes), docs) in pack.manifest.rules.iter().zip(&pack.components).zip(&pack.docs) {
        let plugin =
            host.load(bytes).map_err(|e| Failure::Host(anyhow!("rule component `{}`: {e}", rule.component)))?;
        let meta = &plugin.meta;
        if meta.id != args.id {
            ids.push(meta.id.clone());
            continue;
        }
        let severity = rule.severity.unwrap_or(meta.default_severity);
        let off = if rule.enabled { "" } else { ", not run by this pack" };
        let mut out = format!(
            "{} {} ({severity}{off}) — {} {}\n\n",
            meta.id, meta.version, pack.manifest.name, pack.manifest.version
        );
        match docs {
            Some(docs) => out.push_str(docs.trim_end()),
            None => out
                .push_str(&format!("{}\n\n(The pack ships no further documentation for this rule.)", meta.description)),
        }
        out.push('\n');
        use std::io::Write as _;
        let _ = anstream::stdout().write_all(out.as_bytes());
        return Ok(ExitCode::SUCCESS);
    }
    Err(Failure::Input(
        anyhow!(
            "{} {} has no rule `{}`; its rules are {}",
            pack.manifest.name,
            pack.manifest.version,
            args.id,
            ids.join(", ")
        ),
        None,
    ))
}

pub fn publish(args: &RulesPublishArgs) -> Result<ExitCode, Failure> {
    let client = Client::new(&args.client)?;
    let PackFiles { manifest, components, docs } = pack_files(&args.pack)?;
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
            parts.extend(docs.iter().map(|(name, text)| ("docs", name.as_str(), text.as_bytes())));
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
        // A long poll: answered as soon as this job's verdict is recorded (or after 20 s).
        let asked = Instant::now();
        let list: Vec<Recheck> = expect(client.get(&format!("{}?job={}&wait=20s", updated.url, updated.job_id))?)?;
        if let Some(new) = list.into_iter().find(|r| r.job_id == updated.job_id) {
            break new;
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(Failure::Host(anyhow!("the re-check did not finish in 10 minutes; see {}", updated.url)));
        }
        // An older service answers at once: do not ask it in a tight loop.
        std::thread::sleep(POLL.saturating_sub(asked.elapsed()));
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

/// A pack's `pack.toml` and the files it names, by file name.
struct PackFiles {
    manifest: String,
    components: Vec<(String, Vec<u8>)>,
    docs: Vec<(String, String)>,
}

/// `pack.toml` and the files it names: from a directory, or the built-in pack. Loading it as a
/// pack checks that every file is there and every documentation file is text.
fn pack_files(pack: &str) -> Result<PackFiles, Failure> {
    let (manifest, loaded) = if pack == "builtin" {
        (assay_builtin::PACK_TOML.to_owned(), setup::builtin_pack().map_err(Failure::Host)?)
    } else {
        let dir = Path::new(pack);
        let manifest = std::fs::read_to_string(dir.join("pack.toml"))
            .with_context(|| {
                format!(
                    "reading {} (a pack is a directory holding pack.toml, or `builtin`)",
                    dir.join("pack.toml").display()
                )
            })
            .input()?;
        (manifest, setup::pack(Some(&dir.to_path_buf()))?)
    };
    let rules = &loaded.manifest.rules;
    let components = rules.iter().zip(&loaded.components).map(|(r, b)| (r.component.clone(), b.to_vec())).collect();
    let mut docs: Vec<(String, String)> = rules
        .iter()
        .zip(&loaded.docs)
        .filter_map(|(r, text)| Some((r.docs.clone()?, text.as_deref()?.to_owned())))
        .collect();
    docs.sort();
    docs.dedup_by(|a, b| a.0 == b.0);
    Ok(PackFiles { manifest, components, docs })
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

/// Follow the rollout until its re-check is complete, by long polls: a progress bar with counts
/// and ETA on a terminal, a line every few seconds otherwise.
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
        // A long poll: the service answers as soon as the re-check is done, or after 2 s with
        // the progress then (so the bar moves). One that answers at once (an older service)
        // is asked again after POLL.
        let asked = Instant::now();
        rollout = expect(client.get(&format!("{path}?wait=2s"))?)?;
        std::thread::sleep(POLL.saturating_sub(asked.elapsed()));
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
    } else {
        print!("{}", rollout_text(rollout));
    }
    Ok(ExitCode::SUCCESS)
}

/// A rollout for people: its phase, the re-check's progress and the blast radius — "so far"
/// while the re-check is still queued or running, with the command that follows it.
fn rollout_text(rollout: &PackRollout) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let p = &rollout.progress;
    let running = p.waiting + p.running > 0;
    let _ = writeln!(out, "{}@{} — {}", rollout.name, rollout.version, existing_phase(rollout));
    let _ = writeln!(
        out,
        "re-checked {}/{} live listings: {} pass, {} fail, {} error{}",
        p.done + p.dead,
        p.total,
        rollout.verdicts.pass,
        rollout.verdicts.fail,
        rollout.verdicts.error,
        if running { " (still running)" } else { "" }
    );
    if running {
        let _ = writeln!(
            out,
            "the re-check of {} is queued or running; follow it with `assay rules status {}@{} --wait`",
            live_listings(p.waiting + p.running),
            rollout.name,
            rollout.version
        );
    }
    let so_far = if running { " so far" } else { "" };
    if rollout.rules.is_empty() {
        let _ = writeln!(out, "blast radius{so_far}: no live listing fails this pack");
        return out;
    }
    let _ = writeln!(out, "\nblast radius{so_far}, by rule:");
    for rule in &rollout.rules {
        let _ = writeln!(out, "  {:<40} {:>6} listing(s)", rule.rule_id, rule.listings);
    }
    let _ = writeln!(out, "\nlistings that would fail:");
    for a in rollout.affected.iter().take(50) {
        let _ = writeln!(out, "  {}@{} ({}): {}", a.slug, a.version, a.partner, a.rules.join(", "));
    }
    if rollout.verdicts.fail > 50 {
        let _ = writeln!(out, "  … and {} more (`--format json` lists up to 500)", rollout.verdicts.fail - 50);
    }
    out
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

/// `assay rules test [PATH]`: run a pack's test cases through the real host and compare the
/// findings with the ones each case lists. Exit 0 when every case passes, 1 when one fails,
/// 2 for a bad case file or filter, 3 when the host cannot run.
pub fn test(config: &crate::config::Config, args: &RulesTestArgs) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    // A rule project (pack.toml beside tests/) tests its own pack against its own cases.
    let project = args.rules.is_none() && args.path.join("pack.toml").is_file();
    let (cases_at, pack_dir) = if project {
        let tests = if args.path == Path::new(".") { PathBuf::from("tests") } else { args.path.join("tests") };
        (tests, Some(args.path.clone()))
    } else {
        (args.path.clone(), args.rules.clone())
    };
    let mut cases = Vec::new();
    for file in cases::discover(&cases_at).input()? {
        cases.extend(cases::load(&file).input()?);
    }
    let pack = setup::pack(pack_dir.as_ref())?;
    let host = setup::host(&config.sandbox)?;
    // Each enabled rule with its id, as the host reads it from the component.
    let mut rules = Vec::new();
    for (spec, rule) in pack.checks().into_iter().zip(pack.manifest.rules.iter().filter(|r| r.enabled)) {
        let plugin =
            host.load(&spec.bytes).map_err(|e| Failure::Host(anyhow!("rule component `{}`: {e}", rule.component)))?;
        rules.push((plugin.meta.id.clone(), spec));
    }
    let known: Vec<&str> = rules.iter().map(|(id, _)| id.as_str()).collect();
    if let Some(unknown) = args.rule.iter().find(|r| !known.contains(&r.as_str())) {
        return Err(Failure::Input(
            anyhow!("--rule {unknown}: the pack has no enabled rule `{unknown}`; it has {}", known.join(", ")),
            None,
        ));
    }
    for case in &cases {
        if let Some(want) = case.expected.iter().find(|e| !known.contains(&e.rule.as_str())) {
            return Err(Failure::Input(
                anyhow!(
                    "{}: case `{}` expects a finding of `{}`, which is not an enabled rule of {} {}",
                    case.file,
                    case.name,
                    want.rule,
                    pack.manifest.name,
                    pack.manifest.version
                ),
                None,
            ));
        }
    }
    let in_scope = |rule: &str| args.rule.is_empty() || args.rule.iter().any(|r| r == rule);
    let checks: Vec<CheckSpec> = rules.iter().filter(|(id, _)| in_scope(id)).map(|(_, spec)| spec.clone()).collect();
    let inputs: Vec<ReviewInput<'_>> =
        cases.iter().map(|case| ReviewInput::new(&case.listing, case.previous.as_ref(), &checks)).collect();
    let reviews = host.review_many(&inputs);
    let results: Vec<CaseResult<'_>> = cases
        .iter()
        .zip(reviews)
        .map(|(case, review)| {
            let expected: Vec<Expected> = case.expected.iter().filter(|e| in_scope(&e.rule)).cloned().collect();
            let produced: Vec<(Expected, String)> = review
                .runs
                .iter()
                .flat_map(|run| &run.findings)
                .map(|f| {
                    let got = Expected { rule: f.rule_id.clone(), severity: f.severity, pointer: f.pointer.clone() };
                    (got, f.message.clone())
                })
                .collect();
            let got: Vec<Expected> = produced.iter().map(|(e, _)| e.clone()).collect();
            let mut mismatch = cases::compare(&expected, &got);
            mismatch.broken = review
                .runs
                .iter()
                .filter(|run| !matches!(run.outcome, CheckOutcome::Passed | CheckOutcome::Findings))
                .map(|run| {
                    format!("{} {}: {}", run.check_id, run.outcome.as_str(), run.message.as_deref().unwrap_or(""))
                })
                .collect();
            let time = review.runs.iter().map(|run| run.usage.wall_time).sum();
            CaseResult { case, mismatch, produced, time }
        })
        .collect();
    let failed = results.iter().filter(|r| !r.mismatch.passed()).count();
    let subject =
        format!("{} {} ({} of {} rules)", pack.manifest.name, pack.manifest.version, checks.len(), rules.len());
    let out = match args.format {
        TestFormat::Human => human_results(&subject, &results, started.elapsed()),
        TestFormat::Junit => junit_results(&results, started.elapsed()).map_err(Failure::Host)?,
    };
    use std::io::Write as _;
    let _ = anstream::stdout().write_all(out.as_bytes());
    Ok(ExitCode::from(if failed == 0 { crate::exit::PASS } else { crate::exit::FAIL }))
}

/// One case and how it came out.
struct CaseResult<'a> {
    case: &'a cases::Case,
    mismatch: cases::Mismatch,
    /// What the rules produced, with each finding's message.
    produced: Vec<(Expected, String)>,
    /// The rules' time on this case.
    time: Duration,
}

impl CaseResult<'_> {
    fn title(&self) -> String {
        format!("{} :: {}", self.case.file, self.case.name)
    }

    /// Why it failed: one line per missing, unexpected or broken thing.
    fn explain(&self) -> String {
        let mut lines = Vec::new();
        for want in &self.mismatch.missing {
            lines.push(format!("missing     {want}"));
        }
        for got in &self.mismatch.unexpected {
            let message = self.produced.iter().find(|(e, _)| e == got).map(|(_, m)| m.as_str()).unwrap_or_default();
            lines.push(format!("unexpected  {got}: {message}"));
        }
        for broken in &self.mismatch.broken {
            lines.push(format!("did not run {broken}"));
        }
        lines.join("\n")
    }
}

/// `cargo test`'s shape: a line per case, then each failure, then the tally.
fn human_results(subject: &str, results: &[CaseResult<'_>], elapsed: Duration) -> String {
    let bold = anstyle::Style::new().bold();
    let green = anstyle::AnsiColor::Green.on_default();
    let red = anstyle::AnsiColor::Red.on_default();
    let mut out = format!("\nrunning {} cases against {subject}\n", results.len());
    for result in results {
        let status =
            if result.mismatch.passed() { format!("{green}ok{green:#}") } else { format!("{red}FAILED{red:#}") };
        out.push_str(&format!("test {} ... {status}\n", result.title()));
    }
    let failures: Vec<_> = results.iter().filter(|r| !r.mismatch.passed()).collect();
    if !failures.is_empty() {
        out.push_str("\nfailures:\n");
        for result in &failures {
            out.push_str(&format!("\n{bold}---- {} ----{bold:#}\n{}\n", result.title(), result.explain()));
        }
        out.push_str("\nfailures:\n");
        for result in &failures {
            out.push_str(&format!("    {}\n", result.title()));
        }
    }
    let (word, style) = if failures.is_empty() { ("ok", green) } else { ("FAILED", red) };
    out.push_str(&format!(
        "\ntest result: {style}{word}{style:#}. {} passed; {} failed; finished in {:.2}s\n\n",
        results.len() - failures.len(),
        failures.len(),
        elapsed.as_secs_f64()
    ));
    out
}

/// JUnit XML: a suite per case file, a test case per case; a failure lists what was missing
/// and unexpected, a rule that could not run is an error.
fn junit_results(results: &[CaseResult<'_>], elapsed: Duration) -> anyhow::Result<String> {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
    let mut report = quick_junit::Report::new("assay rules test");
    report.set_timestamp(chrono::Utc::now().fixed_offset()).set_time(elapsed);
    let mut suites: Vec<TestSuite> = Vec::new();
    for result in results {
        if suites.last().is_none_or(|s| s.name.as_str() != result.case.file) {
            suites.push(TestSuite::new(result.case.file.as_str()));
        }
        let status = if result.mismatch.passed() {
            TestCaseStatus::success()
        } else {
            let kind = if result.mismatch.broken.is_empty() { NonSuccessKind::Failure } else { NonSuccessKind::Error };
            let mut status = TestCaseStatus::non_success(kind);
            let m = &result.mismatch;
            status
                .set_message(format!(
                    "{} missing, {} unexpected, {} did not run",
                    m.missing.len(),
                    m.unexpected.len(),
                    m.broken.len()
                ))
                .set_description(result.explain());
            status
        };
        let mut case = TestCase::new(result.case.name.as_str(), status);
        case.set_classname(result.case.file.as_str()).set_time(result.time);
        let suite = suites.last_mut().expect("pushed above");
        suite.add_test_case(case);
    }
    report.add_test_suites(suites);
    Ok(report.to_string()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_rollout_still_rechecking_says_so_and_how_to_follow_it() {
        let rollout = |waiting: i64, done: i64| -> assay_api::packs::PackRollout {
            serde_json::from_value(serde_json::json!({
                "name": "p", "version": "0.3.0", "digest": "ab", "phase": "shadow", "enforce_at": null,
                "applied_at": null, "published_by": "admin",
                "progress": { "total": 2, "waiting": waiting, "running": 0, "done": done, "dead": 0,
                              "started_at": "2026-12-07T00:00:00Z", "eta_secs": null },
                "verdicts": { "pass": done, "fail": 0, "error": 0 }, "rules": [], "affected": [],
            }))
            .unwrap()
        };
        let queued = super::rollout_text(&rollout(2, 0));
        assert!(queued.contains("(still running)"), "{queued}");
        assert!(queued.contains("follow it with `assay rules status p@0.3.0 --wait`"), "{queued}");
        assert!(queued.contains("blast radius so far: no live listing fails"), "{queued}");
        let done = super::rollout_text(&rollout(0, 2));
        assert!(!done.contains("follow it") && done.contains("blast radius: no live listing fails"), "{done}");
    }

    #[test]
    fn first_sentence_skips_abbreviations() {
        assert_eq!(super::first_sentence("Checks x (e.g. y). More."), "Checks x (e.g. y).");
        assert_eq!(super::first_sentence("One sentence"), "One sentence");
    }
}
