//! `assay notice`, `assay deprecate`, `assay webhook`: the lifecycle from the command line.

use std::process::ExitCode;

use assay_api::lifecycle::{CreateDeprecation, CreateNotice, Deprecation, Notice};
use assay_api::webhooks::{CreateEndpoint, DeliveryLog, Endpoint, PauseEndpoint, TestQueued, UpdateEndpoint};

use crate::args::{ClientFormat, DeprecateArgs, NoticeCommand, WebhookCommand};
use crate::client::{Client, expect, print_json};
use crate::exit::Failure;

pub fn notice(command: &NoticeCommand) -> Result<ExitCode, Failure> {
    match command {
        NoticeCommand::Publish { slug, platform: _, kind, summary, effective, action_required, audience, client } => {
            let body = CreateNotice {
                kind: kind.clone(),
                summary: summary.clone(),
                effective: effective.clone(),
                action_required: action_required.clone(),
                audience: audience.clone(),
            };
            let path =
                slug.as_deref().map_or_else(|| "/v1/notices".to_owned(), |s| format!("/v1/listings/{s}/notices"));
            let notice: Notice = expect(Client::new(client)?.post(&path, &body)?)?;
            println!(
                "notice #{} published: {} effective {} ({})",
                notice.id, notice.kind, notice.effective, notice.audience
            );
        }
        NoticeCommand::List { slug, client, format } => {
            let path =
                slug.as_deref().map_or_else(|| "/v1/notices".to_owned(), |s| format!("/v1/listings/{s}/notices"));
            let notices: Vec<Notice> = expect(Client::new(client)?.get(&path)?)?;
            if *format == ClientFormat::Json {
                return print_json(&notices).map(|()| ExitCode::SUCCESS);
            }
            if notices.is_empty() {
                println!("no notices");
            }
            for n in &notices {
                let about = n.listing.as_deref().unwrap_or("platform");
                println!("#{:<4} {}  {:<11} {about}: {}", n.id, n.effective, n.kind, n.summary);
                if let Some(action) = &n.action_required {
                    println!("      action required: {action}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn deprecate(args: &DeprecateArgs) -> Result<ExitCode, Failure> {
    let body = CreateDeprecation {
        listing: args.slug.clone(),
        versions: args.slug.as_ref().and(args.versions.clone()),
        api_version: args.api_version.clone(),
        stability: Some(args.stability.clone()),
        announced: args.announced.clone(),
        deprecated_from: args.deprecated_from.clone(),
        sunset: args.sunset.clone(),
        summary: args.summary.clone(),
        action_required: args.action_required.clone(),
    };
    let d: Deprecation = expect(Client::new(&args.client)?.post("/v1/deprecations", &body)?)?;
    let target = match (&d.listing, &d.versions, &d.api_version) {
        (Some(listing), Some(versions), _) => format!("{listing} {versions}"),
        (_, _, Some(api)) => format!("platform API {api}"),
        _ => String::new(),
    };
    println!(
        "deprecation #{} scheduled for {target}: announced {}, deprecated from {}, sunset {} ({} days); notice {}",
        d.id, d.announced, d.deprecated_from, d.sunset, d.days_to_sunset, d.notice
    );
    Ok(ExitCode::SUCCESS)
}

fn print_endpoint(e: &Endpoint) {
    let h = &e.health;
    println!("#{} {}", e.id, e.url);
    println!("  events:   {}", e.events.join(", "));
    println!("  status:   {}", h.status);
    if let Some(reason) = &h.paused_reason {
        println!("  paused:   {} ({reason})", h.paused_at.as_deref().unwrap_or("-"));
    }
    println!("  last success: {}", h.last_success_at.as_deref().unwrap_or("never"));
    if h.failures_in_a_row > 0 {
        println!(
            "  failing since {} ({} in a row): {}",
            h.failing_since.as_deref().unwrap_or("-"),
            h.failures_in_a_row,
            h.last_error.as_deref().unwrap_or("-")
        );
    }
    if let Some(until) = &e.previous_secret_until {
        println!("  the previous secret signs too until {until}");
    }
}

pub fn webhook(command: &WebhookCommand) -> Result<ExitCode, Failure> {
    match command {
        WebhookCommand::Add { url, events, client } => {
            let body = CreateEndpoint { url: url.clone(), events: events.clone() };
            let e: Endpoint = expect(Client::new(client)?.post("/v1/webhooks", &body)?)?;
            println!("endpoint #{} registered for {} ({})", e.id, e.url, e.events.join(", "));
            println!(
                "signing secret (shown once; verify `webhook-signature` with it): {}",
                e.secret.unwrap_or_default()
            );
        }
        WebhookCommand::List { client, format } => {
            let endpoints: Vec<Endpoint> = expect(Client::new(client)?.get("/v1/webhooks")?)?;
            if *format == ClientFormat::Json {
                return print_json(&endpoints).map(|()| ExitCode::SUCCESS);
            }
            if endpoints.is_empty() {
                println!("no endpoints; `assay webhook add URL` registers one");
            }
            for e in &endpoints {
                println!("#{:<4} {:<8} {}  ({})", e.id, e.health.status, e.url, e.events.join(", "));
            }
        }
        WebhookCommand::Show { id, client, format } => {
            let e: Endpoint = expect(Client::new(client)?.get(&format!("/v1/webhooks/{id}"))?)?;
            if *format == ClientFormat::Json {
                return print_json(&e).map(|()| ExitCode::SUCCESS);
            }
            print_endpoint(&e);
        }
        WebhookCommand::Update { id, events, client } => {
            let body = UpdateEndpoint { events: events.clone() };
            let e: Endpoint = expect(Client::new(client)?.patch(&format!("/v1/webhooks/{id}"), &body)?)?;
            println!("endpoint #{} now receives {}", e.id, e.events.join(", "));
        }
        WebhookCommand::Pause { id, reason, client } => {
            let body = PauseEndpoint { reason: reason.clone() };
            let e: Endpoint = expect(Client::new(client)?.post(&format!("/v1/webhooks/{id}/pause"), &body)?)?;
            println!(
                "endpoint #{} paused ({}); its messages wait until `assay webhook resume {}`",
                e.id,
                e.health.paused_reason.unwrap_or_default(),
                e.id
            );
        }
        WebhookCommand::Resume { id, client } => {
            let e: Endpoint = expect(Client::new(client)?.post(&format!("/v1/webhooks/{id}/resume"), &())?)?;
            println!("endpoint #{} resumed; waiting messages go out now", e.id);
        }
        WebhookCommand::Delete { id, client } => {
            let () = expect(Client::new(client)?.delete(&format!("/v1/webhooks/{id}"))?)?;
            println!("endpoint #{id} deleted, with its waiting messages and delivery log");
        }
        WebhookCommand::RotateSecret { id, client } => {
            let e: Endpoint = expect(Client::new(client)?.post(&format!("/v1/webhooks/{id}/rotate-secret"), &())?)?;
            println!("new signing secret (shown once): {}", e.secret.unwrap_or_default());
            if let Some(until) = e.previous_secret_until {
                println!("the old secret keeps signing beside it until {until}: switch the receiver before then");
            }
        }
        WebhookCommand::Test { id, client } => {
            let queued: TestQueued = expect(Client::new(client)?.post(&format!("/v1/webhooks/{id}/test"), &())?)?;
            println!("test message {} queued; `assay webhook log {id}` shows how it went", queued.message);
        }
        WebhookCommand::Redeliver { id, message, client } => {
            let path = format!("/v1/webhooks/{id}/messages/{message}/redeliver");
            let () = expect(Client::new(client)?.post(&path, &())?)?;
            println!("message {message} queued for delivery to endpoint #{id}");
        }
        WebhookCommand::Log { id, client, format } => {
            let log: DeliveryLog = expect(Client::new(client)?.get(&format!("/v1/webhooks/{id}/deliveries"))?)?;
            if *format == ClientFormat::Json {
                return print_json(&log).map(|()| ExitCode::SUCCESS);
            }
            println!(
                "#{} {}: {} pending, {} delivered, {} failed",
                log.endpoint.id, log.endpoint.url, log.pending, log.delivered, log.failed
            );
            for d in &log.deliveries {
                let outcome = match (d.status, &d.error) {
                    (Some(status), _) => status.to_string(),
                    (None, Some(error)) => error.clone(),
                    (None, None) => "-".into(),
                };
                println!(
                    "  {}  {:<34} attempt {} → {outcome} ({} ms, {})",
                    d.at, d.event_type, d.attempt, d.duration_ms, d.state
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
