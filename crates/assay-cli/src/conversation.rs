//! `assay appeal file|list|show|uphold|overturn` and `assay conversation show|post|hold|release`:
//! appeals of reviewer decisions, and the conversation on a version.

use std::process::ExitCode;

use assay_api::conversation::{
    Appeal, AppealAction, Conversation, DecideAppeal, FileAppeal, HoldDto, PlaceHold, PostMessage, VersionMessage,
};

use crate::args::{AppealCommand, ClientFormat, ConversationCommand};
use crate::client::{Client, expect, print_json, version_target as target};
use crate::exit::Failure;

fn minute(rfc3339: &str) -> &str {
    rfc3339.get(..16).unwrap_or(rfc3339)
}

fn show_appeal(a: &Appeal) {
    println!("appeal #{} on {}@{} ({}): {}", a.id, a.listing, a.version, a.partner, a.status);
    println!("  decision:  {} by {} — {}", a.decision.replace('_', " "), a.decided_by, a.decision_note);
    println!("  appeal:    by {} at {} — {}", a.appealed_by, minute(&a.appealed_at), a.statement);
    if let (Some(by), Some(why)) = (&a.heard_by, &a.rationale) {
        println!("  heard:     by {by} — {why}");
    }
}

pub fn appeal(command: &AppealCommand) -> Result<ExitCode, Failure> {
    match command {
        AppealCommand::File { target: t, statement, client } => {
            let (slug, version) = target(t)?;
            let path = format!("/v1/listings/{slug}/versions/{version}/appeals");
            let filed: Appeal =
                expect(Client::new(client)?.post(&path, &FileAppeal { statement: statement.clone() })?)?;
            println!(
                "appeal #{} filed against the {} decision by {}; a reviewer other than them hears it \
                 (assay appeal show {})",
                filed.id,
                filed.decision.replace('_', " "),
                filed.decided_by,
                filed.id
            );
        }
        AppealCommand::List { partner, status, client, format } => {
            let path = crate::client::with_query("/v1/appeals", &[("partner", partner), ("status", status)]);
            let all: Vec<Appeal> = expect(Client::new(client)?.get(&path)?)?;
            if *format == ClientFormat::Json {
                print_json(&all)?;
            } else if all.is_empty() {
                println!("no appeals");
            } else {
                println!(
                    "{:<5} {:<11} {:<32} {:<14} {:<16} {:<28} heard by",
                    "id", "status", "listing@version", "partner", "decision", "decided by"
                );
                for a in &all {
                    println!(
                        "{:<5} {:<11} {:<32} {:<14} {:<16} {:<28} {}",
                        a.id,
                        a.status,
                        format!("{}@{}", a.listing, a.version),
                        a.partner,
                        a.decision,
                        a.decided_by,
                        a.heard_by.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        AppealCommand::Show { id, client, format } => {
            let a: Appeal = expect(Client::new(client)?.get(&format!("/v1/appeals/{id}"))?)?;
            if *format == ClientFormat::Json { print_json(&a)? } else { show_appeal(&a) }
        }
        AppealCommand::Uphold { id, rationale, client } | AppealCommand::Overturn { id, rationale, client } => {
            let action = if matches!(command, AppealCommand::Uphold { .. }) {
                AppealAction::Uphold
            } else {
                AppealAction::Overturn
            };
            let body = DecideAppeal { action, rationale: rationale.clone() };
            let a: Appeal = expect(Client::new(client)?.post(&format!("/v1/appeals/{id}/decision"), &body)?)?;
            show_appeal(&a);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show_message(m: &VersionMessage) {
    let tag = match (m.staff, m.internal) {
        (true, true) => " (internal note)",
        (true, false) => " (staff)",
        _ => "",
    };
    println!("[{}] {}{tag}:", minute(&m.at), m.author);
    for line in m.body.lines() {
        println!("    {line}");
    }
}

fn show_hold(h: &HoldDto) {
    match (&h.released_by, &h.released_at) {
        (Some(by), Some(at)) => {
            println!("hold #{} from {} to {} (released by {by}): {}", h.id, minute(&h.placed_at), minute(at), h.reason)
        }
        _ => println!("ON HOLD since {} by {}: {}", minute(&h.placed_at), h.placed_by, h.reason),
    }
}

pub fn run(command: &ConversationCommand) -> Result<ExitCode, Failure> {
    match command {
        ConversationCommand::Show { target: t, client, format } => {
            let (slug, version) = target(t)?;
            let path = format!("/v1/listings/{slug}/versions/{version}/conversation");
            let c: Conversation = expect(Client::new(client)?.get(&path)?)?;
            if *format == ClientFormat::Json {
                print_json(&c)?;
                return Ok(ExitCode::SUCCESS);
            }
            for h in &c.holds {
                show_hold(h);
            }
            for a in &c.appeals {
                show_appeal(a);
            }
            if c.messages.is_empty() {
                println!("no messages on {slug}@{version}");
            }
            for m in &c.messages {
                show_message(m);
            }
        }
        ConversationCommand::Post { target: t, message, internal, client } => {
            let (slug, version) = target(t)?;
            let path = format!("/v1/listings/{slug}/versions/{version}/messages");
            let body = PostMessage { body: message.clone(), internal: *internal };
            let posted: VersionMessage = expect(Client::new(client)?.post(&path, &body)?)?;
            show_message(&posted);
        }
        ConversationCommand::Hold { target: t, reason, client } => {
            let (slug, version) = target(t)?;
            let path = format!("/v1/listings/{slug}/versions/{version}/hold");
            let hold: HoldDto = expect(Client::new(client)?.post(&path, &PlaceHold { reason: reason.clone() })?)?;
            show_hold(&hold);
        }
        ConversationCommand::Release { target: t, client } => {
            let (slug, version) = target(t)?;
            let path = format!("/v1/listings/{slug}/versions/{version}/hold");
            let hold: HoldDto = expect(Client::new(client)?.delete(&path)?)?;
            show_hold(&hold);
        }
    }
    Ok(ExitCode::SUCCESS)
}
