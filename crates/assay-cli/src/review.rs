//! `assay review queue|decide|waive`: the reviewer's side, from the command line.

use std::process::ExitCode;

use assay_api::listings::Version;
use assay_api::reviews::{CreateWaiver, Decide, DecisionAction, MoveAction, MoveVersion, QueueItem, Waiver};

use crate::args::{ClientFormat, DecisionArg, ReviewCommand};
use crate::client::{Client, expect, print_json};
use crate::exit::Failure;

pub fn run(command: &ReviewCommand) -> Result<ExitCode, Failure> {
    match command {
        ReviewCommand::Queue { state, assignee, partner, rule, verdict, client, format } => {
            let filters =
                [("state", state), ("assignee", assignee), ("partner", partner), ("rule", rule), ("verdict", verdict)];
            let path = crate::client::with_query("/v1/review-queue", &filters);
            let filtered = path.contains('?');
            let queue: Vec<QueueItem> = expect(Client::new(client)?.get(&path)?)?;
            if *format == ClientFormat::Json {
                print_json(&queue)?;
            } else if queue.is_empty() {
                println!("no version waits{}", if filtered { " that matches" } else { "" });
            } else {
                println!(
                    "{:<4} {:<32} {:<16} {:<8} {:<10} {:<18} assignee",
                    "#", "listing@version", "partner", "verdict", "waiting", "due"
                );
                for item in &queue {
                    let verdict = item.verdict.as_deref().unwrap_or("-");
                    let due = if item.time_left_secs >= 0 {
                        format!("{} left", waited(item.time_left_secs))
                    } else {
                        format!("{} LATE", waited(-item.time_left_secs))
                    };
                    println!(
                        "{:<4} {:<32} {:<16} {:<8} {:<10} {:<18} {}{}",
                        item.position,
                        format!("{}@{}", item.slug, item.version),
                        item.partner,
                        verdict,
                        waited(item.waiting_secs),
                        due,
                        item.assignee.as_deref().unwrap_or("-"),
                        item.hold.as_deref().map(|h| format!("  [on hold: {h}]")).unwrap_or_default()
                    );
                }
            }
        }
        ReviewCommand::Claim { target, client } | ReviewCommand::Assign { target, client, .. } => {
            let (slug, version) = crate::client::version_target(target)?;
            let reviewer = match command {
                ReviewCommand::Assign { to, .. } => to.clone(),
                _ => "me".to_owned(),
            };
            let path = format!("/v1/listings/{slug}/versions/{version}/assignee");
            let body = assay_api::reviews::AssignReview { reviewer };
            let done: assay_api::reviews::Assignment = expect(Client::new(client)?.put(&path, &body)?)?;
            println!("{slug}@{version} is assigned to {}", done.assignee);
        }
        ReviewCommand::Unassign { target, client } => {
            let (slug, version) = crate::client::version_target(target)?;
            let path = format!("/v1/listings/{slug}/versions/{version}/assignee");
            let () = expect(Client::new(client)?.delete(&path)?)?;
            println!("no one is assigned {slug}@{version} now");
        }
        ReviewCommand::Decide { target, action, note, client } => {
            let (slug, version) = crate::client::version_target(target)?;
            let action = match action {
                DecisionArg::Approve => DecisionAction::Approve,
                DecisionArg::RequestChanges => DecisionAction::RequestChanges,
                DecisionArg::Reject => DecisionAction::Reject,
                DecisionArg::Certify => DecisionAction::Certify,
            };
            let path = format!("/v1/listings/{slug}/versions/{version}/decisions");
            let decided: Version = expect(Client::new(client)?.post(&path, &Decide { action, note: note.clone() })?)?;
            let certified = if decided.certified { ", certified" } else { "" };
            println!("{}@{} is now {}{certified}", decided.slug, decided.version, decided.state);
        }
        ReviewCommand::Waive { slug, rule, versions, expires, justification, client } => {
            let body = CreateWaiver {
                slug: slug.clone(),
                rule_id: rule.clone(),
                versions: versions.clone(),
                justification: justification.clone(),
                expires_at: expires.clone(),
            };
            let waiver: Waiver = expect(Client::new(client)?.post("/v1/waivers", &body)?)?;
            println!(
                "waiver #{} granted: {} on {} {} until {}",
                waiver.id, waiver.rule_id, waiver.slug, waiver.versions, waiver.expires_at
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `assay release` and `assay withdraw`: the partner's own moves on a version.
pub fn move_version(
    target: &str,
    action: MoveAction,
    note: &str,
    client: &crate::args::ClientArgs,
) -> Result<ExitCode, Failure> {
    let (slug, version) = crate::client::version_target(target)?;
    let path = format!("/v1/listings/{slug}/versions/{version}/moves");
    let moved: Version = expect(Client::new(client)?.post(&path, &MoveVersion { action, note: note.to_owned() })?)?;
    println!("{}@{} is now {}", moved.slug, moved.version, moved.state);
    Ok(ExitCode::SUCCESS)
}

fn waited(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// `assay auto-release SLUG [--off]`.
pub fn auto_release(slug: &str, on: bool, client: &crate::args::ClientArgs) -> Result<ExitCode, Failure> {
    let body = assay_api::listings::UpdateListing { auto_release: on };
    let listing: assay_api::listings::Listing =
        expect(Client::new(client)?.patch(&format!("/v1/listings/{}", crate::people::segment(slug)), &body)?)?;
    if listing.auto_release {
        println!("{}: approved versions go live at once", listing.slug);
    } else {
        println!("{}: approved versions wait for `assay release`", listing.slug);
    }
    Ok(ExitCode::SUCCESS)
}
