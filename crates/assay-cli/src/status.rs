//! `assay status [SLUG[@VERSION]]`: where your listings stand.

use std::process::ExitCode;

use assay_api::lifecycle::{Standing, TimelineEvent};
use assay_api::listings::{Listing, Version};

use crate::args::{ClientFormat, StatusArgs};
use crate::client::{Answer, Client, expect, print_json};
use crate::exit::{Failure, InputContext as _};
use anyhow::Context as _;

pub fn run(args: &StatusArgs) -> Result<ExitCode, Failure> {
    let client = Client::new(&args.client)?;
    if let Some(path) = &args.bundle {
        return bundle(&client, args.target.as_deref(), path);
    }
    match args.target.as_deref().map(|t| t.split_once('@').map_or((t, None), |(s, v)| (s, Some(v)))) {
        None => {
            let listings: Vec<Listing> = expect(client.get("/v1/listings")?)?;
            if args.format == ClientFormat::Json {
                return print_json(&listings).map(|()| ExitCode::SUCCESS);
            }
            if listings.is_empty() {
                println!("no listings yet; `assay submit PATH` creates one");
            }
            for listing in &listings {
                print_listing(listing);
            }
            // Partners also see where they stand; staff tokens have no standing of their own.
            if let Answer::Ok(standing) = client.get::<Standing>("/v1/standing")? {
                print_standing(&standing);
            }
        }
        Some((slug, None)) if args.timeline => {
            let events: Vec<TimelineEvent> = expect(client.get(&format!("/v1/listings/{slug}/timeline"))?)?;
            if args.format == ClientFormat::Json {
                return print_json(&events).map(|()| ExitCode::SUCCESS);
            }
            for e in &events {
                let version = e.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
                println!("{}  {:<22}{version:<10} {}  ({})", e.at, e.action, e.detail, e.actor);
            }
        }
        Some((slug, None)) => {
            let listing: Listing = expect(client.get(&format!("/v1/listings/{slug}"))?)?;
            if args.format == ClientFormat::Json {
                return print_json(&listing).map(|()| ExitCode::SUCCESS);
            }
            print_listing(&listing);
        }
        Some((slug, Some(version))) => {
            let v: Version = expect(client.get(&format!("/v1/listings/{slug}/versions/{version}"))?)?;
            if args.format == ClientFormat::Json {
                return print_json(&v).map(|()| ExitCode::SUCCESS);
            }
            print_version(&v);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_standing(standing: &Standing) {
    println!();
    println!("standing:");
    let capabilities = if standing.capabilities.is_empty() { "none".into() } else { standing.capabilities.join(", ") };
    let suspended = if standing.suspended { " (SUSPENDED: nothing can be created or submitted)" } else { "" };
    println!("  capabilities: {capabilities}{suspended}");
    if let Some(last) = standing.capability_history.last() {
        println!("  last decision: {} by {}: {}", last.at, last.actor, last.detail);
    }
    for l in &standing.listings {
        let mut parts = Vec::new();
        if !l.live.is_empty() {
            parts.push(format!("live {}", l.live.join(", ")));
        }
        for b in &l.blocked {
            let rules = if b.rules.is_empty() { "a reviewer's request".to_owned() } else { b.rules.join(", ") };
            parts.push(format!("{} blocked by {rules}", b.version));
        }
        for d in &l.deprecated {
            parts.push(format!(
                "{} deprecated{}",
                d.version,
                d.sunset.as_deref().map(|s| format!(" (sunset {s})")).unwrap_or_default()
            ));
        }
        if !l.pending.is_empty() {
            parts.push(format!("pending {}", l.pending.join(", ")));
        }
        let summary = if parts.is_empty() { "nothing live".to_owned() } else { parts.join("; ") };
        println!("  {:<24} {summary}", l.listing);
    }
    if !standing.fix_by.is_empty() {
        println!("fix by:");
        for f in &standing.fix_by {
            let listing = f.listing.as_deref().unwrap_or("platform");
            println!("  {}  {:<7} {listing}: {}", f.date, f.kind, f.what);
        }
    }
}

fn print_listing(listing: &Listing) {
    println!("{} — {} (partner {})", listing.slug, listing.name, listing.partner);
    if listing.versions.is_empty() {
        println!("  no versions");
    }
    for v in &listing.versions {
        println!("  {:<12} {}", v.version, v.state);
    }
}

fn print_version(v: &Version) {
    let certified = if v.certified { ", certified" } else { "" };
    println!("{}@{}: {}{certified}", v.slug, v.version, v.state);
    match (&v.verdict, &v.review) {
        (Some(verdict), Some(review)) => println!(
            "verdict: {verdict} (review by {}@{} finished {})",
            review.pack, review.pack_version, review.finished_at
        ),
        _ => println!("verdict: not reviewed yet"),
    }
    let wall: u64 = v.checks.iter().map(|c| c.usage.wall_time_us).sum();
    let peak = v.checks.iter().map(|c| c.usage.peak_memory_bytes).max().unwrap_or(0);
    let failed: Vec<_> = v.checks.iter().filter(|c| !matches!(c.outcome.as_str(), "passed" | "findings")).collect();
    if !v.checks.is_empty() {
        println!(
            "checks: {} ran in {:.1} ms total, peak memory {} KiB; {} did not complete",
            v.checks.len(),
            wall as f64 / 1000.0,
            peak >> 10,
            failed.len()
        );
    }
    for c in failed {
        println!("  {} {}: {}", c.check_id, c.outcome, c.message.as_deref().unwrap_or(""));
    }
    for f in &v.findings {
        let waived = f.waived_by.map(|id| format!(" [waived by #{id}]")).unwrap_or_default();
        println!("  {:<8} {:<32} {} ({}){waived}", f.severity, f.rule_id, f.message, f.pointer);
        if let Some(fix) = &f.remediation {
            println!("  {:<8} {:<32} fix: {fix}", "", "");
        }
    }
    for d in &v.decisions {
        println!("decision: {} by {}: {}", d.action, d.actor, d.note);
    }
    if let Some(q) = &v.review_queue {
        let day = q.expected_by.get(..10).unwrap_or(&q.expected_by);
        println!("review queue: {} of {}, expected by {day}", q.position, q.waiting);
    }
    if let Some(h) = &v.hold {
        println!("ON HOLD since {} by {}: {}", h.placed_at.get(..16).unwrap_or(&h.placed_at), h.placed_by, h.reason);
    }
}

/// `assay status SLUG@VERSION --bundle FILE`: the run bundle of the version's latest review.
fn bundle(client: &Client, target: Option<&str>, path: &std::path::Path) -> Result<ExitCode, Failure> {
    let Some((slug, version)) = target.and_then(|t| t.split_once('@')) else {
        return Err(Failure::Input(anyhow::anyhow!("--bundle needs SLUG@VERSION"), None));
    };
    let bundle: serde_json::Value = expect(client.get(&format!("/v1/listings/{slug}/versions/{version}/bundle"))?)?;
    let json = serde_json::to_vec_pretty(&bundle).unwrap_or_default();
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display())).input()?;
    eprintln!(
        "wrote the run bundle of {slug}@{version} to {}; `assay replay {}` runs it again",
        path.display(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
