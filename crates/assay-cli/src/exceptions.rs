//! `assay exception request|list|show|grant|deny`: exceptions to findings — partners ask,
//! staff decide — and the exception register.

use std::process::ExitCode;

use assay_api::exceptions::{DecideException, Exception, ExceptionAction, RequestException};

use crate::args::{ClientFormat, ExceptionCommand};
use crate::client::{Client, expect, print_json};
use crate::exit::Failure;

/// `2027-03-31` (midnight UTC) or a full RFC 3339 time.
fn time(text: &str) -> String {
    if text.len() == 10 && text.as_bytes()[4] == b'-' { format!("{text}T00:00:00Z") } else { text.to_owned() }
}

fn day(rfc3339: &str) -> &str {
    rfc3339.get(..10).unwrap_or(rfc3339)
}

fn show(e: &Exception) {
    println!("exception #{} on {}@{} ({}): {} [{}]", e.id, e.listing, e.version, e.partner, e.rule_id, e.severity);
    println!("  status:    {}", e.status);
    println!("  asked:     {} until {} by {} — {}", e.versions, day(&e.expires_at), e.requested_by, e.justification);
    if let Some(first) = &e.first_grant {
        println!("  granted first by {} — {} (a second reviewer confirms)", first.by, first.rationale);
    }
    if let (Some(versions), Some(until)) = (&e.granted_versions, &e.granted_until) {
        println!("  granted:   {versions} until {}", day(until));
    }
    if let (Some(by), Some(why)) = (&e.decided_by, &e.rationale) {
        println!("  decided:   by {by} — {why}");
    }
    if let Some(waiver) = e.waiver {
        println!("  waiver:    #{waiver} (findings name it in waived_by)");
    }
}

pub fn run(command: &ExceptionCommand) -> Result<ExitCode, Failure> {
    match command {
        ExceptionCommand::Request { target, rule, versions, until, justification, client } => {
            let (slug, version) = crate::client::version_target(target)?;
            let body = RequestException {
                rule_id: rule.clone(),
                versions: versions.clone(),
                justification: justification.clone(),
                expires_at: time(until),
            };
            let path = format!("/v1/listings/{slug}/versions/{version}/exceptions");
            let asked: Exception = expect(Client::new(client)?.post(&path, &body)?)?;
            println!(
                "exception #{} requested: {} on {slug}@{version}; staff decide (assay exception show {})",
                asked.id, asked.rule_id, asked.id
            );
        }
        ExceptionCommand::List { partner, rule, status, client, format } => {
            let filters = [("partner", partner), ("rule", rule), ("status", status)];
            let path = crate::client::with_query("/v1/exceptions", &filters);
            let all: Vec<Exception> = expect(Client::new(client)?.get(&path)?)?;
            if *format == ClientFormat::Json {
                print_json(&all)?;
            } else if all.is_empty() {
                println!("no exception requests");
            } else {
                println!(
                    "{:<5} {:<11} {:<32} {:<14} {:<28} {:<11} decided by",
                    "id", "status", "listing@version", "partner", "rule", "until"
                );
                for e in &all {
                    let until = e.granted_until.as_deref().unwrap_or(&e.expires_at);
                    println!(
                        "{:<5} {:<11} {:<32} {:<14} {:<28} {:<11} {}",
                        e.id,
                        e.status,
                        format!("{}@{}", e.listing, e.version),
                        e.partner,
                        e.rule_id,
                        day(until),
                        e.decided_by.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        ExceptionCommand::Show { id, client, format } => {
            let e: Exception = expect(Client::new(client)?.get(&format!("/v1/exceptions/{id}"))?)?;
            if *format == ClientFormat::Json { print_json(&e)? } else { show(&e) }
        }
        ExceptionCommand::Grant { id, rationale, versions, until, client } => {
            let body = DecideException {
                action: ExceptionAction::Grant,
                rationale: rationale.clone(),
                versions: versions.clone(),
                expires_at: until.as_deref().map(time),
            };
            let e: Exception = expect(Client::new(client)?.post(&format!("/v1/exceptions/{id}/decision"), &body)?)?;
            show(&e);
        }
        ExceptionCommand::Deny { id, rationale, client } => {
            let body = DecideException {
                action: ExceptionAction::Deny,
                rationale: rationale.clone(),
                versions: None,
                expires_at: None,
            };
            let e: Exception = expect(Client::new(client)?.post(&format!("/v1/exceptions/{id}/decision"), &body)?)?;
            show(&e);
        }
    }
    Ok(ExitCode::SUCCESS)
}
