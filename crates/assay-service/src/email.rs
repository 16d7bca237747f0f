//! E-mail to people: what concerns them, from a durable outbox.
//!
//! Like webhooks, e-mail is fanned out from the audit log behind its own cursor, which moves in
//! the transaction that enqueues the e-mails, so nothing is lost across restarts and nothing is
//! sent twice (each e-mail has a key: the audit event and the recipient). Who hears of what:
//!
//! | kind            | what                                                    | who                          |
//! |-----------------|---------------------------------------------------------|------------------------------|
//! | `verdict`       | a review finished (and rules enforced on a version)     | the listing's partner        |
//! | `decision`      | a reviewer approved, asked for changes or rejected      | the listing's partner        |
//! | `certification` | a version certified, or its certification withdrawn     | the listing's partner        |
//! | `capability`    | the partner's capabilities changed, or it was suspended | the partner                  |
//! | `notice`        | a change notice was published                           | its listing's partner, or all|
//! | `deprecation`   | a deprecation scheduled, a version deprecated or retired, a sunset reminder | the partner, or all |
//! | `webhook`       | a webhook endpoint was paused because it kept failing   | the partner's owners         |
//! | `exception`     | an exception asked for (or granted once, to confirm) / decided | reviewers / the partner |
//! | `review_queue`  | a version is waiting for a reviewer's decision          | reviewers and admins         |
//! | `appeal`        | a decision appealed / an appeal heard                   | reviewers / the partner      |
//! | `message`       | a message on a version's conversation (never an internal note) | reviewers, from a partner / the partner, from staff |
//! | `hold`          | a version put on hold, or its hold released             | the listing's partner        |
//! | `release`       | a version released, withdrawn, or rolled back           | the listing's partner        |
//! | `invitation`    | an invitation into an organisation                      | the invited address          |
//!
//! Every kind but `invitation` can be turned off per person ([`Service::set_email_preferences`])
//! or from the unsubscribe link each e-mail carries ([`Service::unsubscribe`]); a person who
//! turned a kind off is not sent it. The content is structured ([`EmailContent`]); the server
//! renders it as text and HTML in the console's look and sends it through a [`Mailer`].

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assay_core::identity::{PartnerId, Principal, Role, UserId};
use assay_core::people::UserRecord;
use assay_store::{AttemptOutcome, DueEmail, EmailAttempt, NewEmail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::webhooks::{SendFailure, Typed};
use crate::{Service, ServiceError};

/// The kinds of e-mail a person can turn off, with what each is about.
pub const KINDS: [(&str, &str); 13] = [
    ("verdict", "a review of one of your organisation's versions finished"),
    ("decision", "a reviewer decided on one of your organisation's versions"),
    ("certification", "one of your organisation's versions was certified, or lost its certification"),
    ("capability", "your organisation's capabilities changed"),
    ("notice", "a change notice was published"),
    ("deprecation", "a deprecation was scheduled, a version deprecated or retired, or a sunset is near"),
    ("webhook", "one of your organisation's webhook endpoints was paused because it kept failing"),
    ("exception", "an exception to a finding was asked for (staff) or decided (your organisation)"),
    ("review_queue", "a version is waiting for a reviewer (staff)"),
    ("appeal", "a decision was appealed (staff) or an appeal heard (your organisation)"),
    ("message", "someone wrote on the conversation of a version (staff: a partner did; partners: staff did)"),
    ("hold", "a reviewer put one of your organisation's versions on hold, or released it"),
    ("release", "one of your organisation's versions was released, withdrawn or rolled back"),
];

/// The kind of an invitation, which cannot be turned off (it goes to an address, not a person).
pub const INVITATION: &str = "invitation";

/// What an e-mail says, structured so that it renders both as text and as HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailContent {
    /// `Hello Ada,`.
    pub greeting: String,
    /// One line: what happened.
    pub heading: String,
    /// What it means, and what to do.
    pub paragraphs: Vec<String>,
    /// Label and value pairs (listing, version, verdict …).
    pub facts: Vec<(String, String)>,
    /// The one thing to do next: a label and an absolute URL.
    pub action: Option<(String, String)>,
    /// Why the recipient gets this e-mail.
    pub why: String,
    /// The one-click unsubscribe URL for this kind (`None` for invitations).
    pub unsubscribe: Option<String>,
}

/// An e-mail ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// Its kind (see [`KINDS`]).
    pub kind: String,
    /// What it says.
    pub content: EmailContent,
}

/// Sends one e-mail; the server implements it over SMTP. Blocking: the mailer calls it off the
/// async threads.
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Hand `email` to the relay; `Ok` once the relay accepted it.
    fn send(&self, email: &OutgoingEmail) -> Result<(), SendFailure>;
}

/// How e-mail is sent.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// Where the links in e-mails point: the console's public address, e.g.
    /// `https://assay.example.com`.
    pub public_url: String,
    /// Attempts before an e-mail is marked failed. Default 6.
    pub max_attempts: i64,
    /// The first retry's delay in seconds; it doubles per attempt (60 s, 2, 4, 8, 16 min).
    pub first_backoff_secs: i64,
    /// How long a claimed e-mail is leased to the node sending it. Default 120 s.
    pub lease_secs: i64,
    /// E-mails handed to the relay at once. Default 4.
    pub concurrency: usize,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            public_url: "http://127.0.0.1:8080".into(),
            max_attempts: 6,
            first_backoff_secs: 60,
            lease_secs: 120,
            concurrency: 4,
        }
    }
}

/// What one mailer pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailReport {
    /// E-mails enqueued.
    pub enqueued: usize,
    /// E-mails the relay accepted.
    pub sent: usize,
    /// Attempts that failed (and will be retried, or ran out).
    pub failed_attempts: usize,
}

/// One kind of e-mail and whether a person receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailPreference {
    /// The kind (see [`KINDS`]).
    pub kind: &'static str,
    /// What it is about.
    pub about: &'static str,
    /// Whether they receive it.
    pub receive: bool,
}

/// A person's e-mail preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailPreferences {
    /// Where their e-mail goes.
    pub address: String,
    /// Every kind, in [`KINDS`] order.
    pub kinds: Vec<EmailPreference>,
}

/// What following an unsubscribe link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribed {
    /// Whose e-mail it was.
    pub address: String,
    /// The kinds they no longer receive (all they turned off, this and before).
    pub opted_out: Vec<String>,
}

/// Who is told of one event.
#[derive(Debug, Clone, Copy)]
enum Audience {
    /// Every current member of one partner.
    Partner(PartnerId),
    /// The owners of one partner.
    Owners(PartnerId),
    /// Every current member of every partner.
    AllPartners,
    /// Reviewers and admins.
    Reviewers,
}

/// One e-mail to write, before it is addressed.
#[derive(Debug, Clone)]
struct Draft {
    kind: &'static str,
    audience: Audience,
    subject: String,
    heading: String,
    paragraphs: Vec<String>,
    facts: Vec<(String, String)>,
    /// A console path, e.g. `/listings/acme/versions/1.0.0`.
    action: Option<(String, String)>,
}

fn text(data: &Value, field: &str) -> String {
    match &data[field] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn fact(label: &str, value: impl Into<String>) -> (String, String) {
    (label.to_owned(), value.into())
}

/// `awaiting_review` → `awaiting review`.
fn words(state: &str) -> String {
    state.replace('_', " ")
}

fn version_path(slug: &str, version: &str) -> String {
    format!("/listings/{slug}/versions/{version}")
}

/// What a deprecation targets, in words.
fn target(data: &Value) -> String {
    let t = &data["target"];
    match (t["listing"].as_str(), t["versions"].as_str(), t["api_version"].as_str()) {
        (Some(listing), Some(versions), _) => format!("{listing} {versions}"),
        (Some(listing), None, _) => listing.to_owned(),
        (_, _, Some(api)) => format!("platform API {api}"),
        _ => "a target".to_owned(),
    }
}

/// The e-mails a typed event becomes.
fn drafts(typed: &Typed) -> Vec<Draft> {
    let (kind, partner, data) = typed;
    let (slug, version) = (text(data, "listing"), text(data, "version"));
    let partner_or_all = partner.map_or(Audience::AllPartners, Audience::Partner);
    let Some(owner) = *partner else {
        return match *kind {
            "notice.published" => vec![notice(data, Audience::AllPartners)],
            "deprecation.scheduled" => vec![scheduled(data, Audience::AllPartners)],
            "deprecation.reminder" => vec![reminder(data, Audience::AllPartners)],
            _ => Vec::new(),
        };
    };
    let listing = Audience::Partner(owner);
    match *kind {
        "listing.version.reviewed" => {
            let (verdict, state) = (text(data, "verdict"), text(data, "state"));
            let mut out = vec![Draft {
                kind: "verdict",
                audience: listing,
                subject: format!("{slug} {version}: the review finished — {verdict}"),
                heading: format!("The review of {slug} {version} finished: {verdict}"),
                paragraphs: vec![match state.as_str() {
                    "awaiting_review" => "It now waits for a reviewer's decision; you will hear of it.".to_owned(),
                    "changes_requested" => {
                        "Fix what the findings name and submit a new version; the findings say how.".to_owned()
                    }
                    other => format!("The version is now {}.", words(other)),
                }],
                facts: vec![
                    fact("Verdict", &verdict),
                    fact("State", words(&state)),
                    fact("Findings", text(data, "findings")),
                    fact("Checks run", text(data, "checks")),
                    fact("Rule pack", format!("{} {}", text(&data["pack"], "name"), text(&data["pack"], "version"))),
                ],
                action: Some(("See the findings".into(), version_path(&slug, &version))),
            }];
            if state == "awaiting_review" {
                out.push(Draft {
                    kind: "review_queue",
                    audience: Audience::Reviewers,
                    subject: format!("{slug} {version} is waiting for review"),
                    heading: format!("{slug} {version} is waiting for a reviewer"),
                    paragraphs: vec![format!(
                        "The automated review finished with the verdict {verdict}; the decision is a reviewer's."
                    )],
                    facts: vec![fact("Verdict", &verdict), fact("Findings", text(data, "findings"))],
                    action: Some(("Open the review".into(), version_path(&slug, &version))),
                });
            }
            out
        }
        "listing.version.decided" => {
            let action = text(data, "action");
            let said = match action.as_str() {
                "approve" => "approved",
                "request_changes" => "sent back with changes requested",
                "reject" => "rejected",
                other => other,
            };
            let note = text(data, "note");
            let next = match action.as_str() {
                "approve" => "Nothing more is needed from you for this version.",
                "request_changes" => "Fix what the note and the findings say, then submit a new version.",
                _ => "This version will not be listed; a new version can be submitted.",
            };
            let mut paragraphs = vec![next.to_owned()];
            if !note.is_empty() {
                paragraphs.push(format!("The reviewer's note: “{note}”"));
            }
            vec![Draft {
                kind: "decision",
                audience: listing,
                subject: format!("{slug} {version} was {said}"),
                heading: format!("{slug} {version} was {said}"),
                paragraphs,
                facts: vec![
                    fact("From", words(&text(data, "from"))),
                    fact("To", words(&text(data, "to"))),
                    fact("Decided by", text(data, "decided_by")),
                ],
                action: Some(("See the version".into(), version_path(&slug, &version))),
            }]
        }
        "listing.version.certified" | "listing.version.uncertified" => {
            let certified = *kind == "listing.version.certified";
            let (subject, paragraph) = if certified {
                (
                    format!("{slug} {version} is certified"),
                    format!("{slug} {version} was certified by {}.", text(data, "decided_by")),
                )
            } else {
                (
                    format!("{slug} {version} is no longer certified"),
                    format!("{slug} {version} lost its certification: {}.", text(data, "reason")),
                )
            };
            vec![Draft {
                kind: "certification",
                audience: listing,
                heading: subject.clone(),
                subject,
                paragraphs: vec![paragraph],
                facts: vec![fact("Listing", &slug), fact("Version", &version)],
                action: Some(("See the version".into(), version_path(&slug, &version))),
            }]
        }
        "listing.version.deprecated" | "listing.version.retired" | "listing.version.enforced" => {
            let (mail, said) = match *kind {
                "listing.version.deprecated" => ("deprecation", "is deprecated"),
                "listing.version.retired" => ("deprecation", "is retired"),
                _ => ("verdict", "is blocked by an enforced rule pack"),
            };
            vec![Draft {
                kind: mail,
                audience: listing,
                subject: format!("{slug} {version} {said}"),
                heading: format!("{slug} {version} {said}"),
                paragraphs: vec![text(data, "reason")].into_iter().filter(|p| !p.is_empty()).collect(),
                facts: vec![fact("From", words(&text(data, "from"))), fact("To", words(&text(data, "to")))],
                action: Some(("See the version".into(), version_path(&slug, &version))),
            }]
        }
        "exception.requested" | "exception.decided" | "exception.expiring" => vec![exception(kind, data, listing)],
        "appeal.filed" | "appeal.decided" => vec![appeal(kind, data, listing)],
        "listing.version.published" | "listing.version.withdrawn" => {
            let said = if *kind == "listing.version.published" { "is live" } else { "was withdrawn" };
            vec![Draft {
                kind: "release",
                audience: listing,
                subject: format!("{slug} {version} {said}"),
                heading: format!("{slug} {version} {said}"),
                paragraphs: vec![text(data, "reason")].into_iter().filter(|p| !p.is_empty()).collect(),
                facts: vec![
                    fact("From", words(&text(data, "from"))),
                    fact("To", words(&text(data, "to"))),
                    fact("By", text(data, "by")),
                ],
                action: Some(("See the version".into(), version_path(&slug, &version))),
            }]
        }
        "listing.version.message" => {
            let staff = data.get("staff").and_then(Value::as_bool).unwrap_or(false);
            let (audience, subject) = if staff {
                (listing, format!("The reviewers wrote about {slug} {version}"))
            } else {
                (Audience::Reviewers, format!("{slug} {version}: a message from the partner"))
            };
            vec![Draft {
                kind: "message",
                audience,
                heading: subject.clone(),
                subject,
                paragraphs: vec![text(data, "body"), "Reply on the version's page.".into()],
                facts: vec![fact("From", text(data, "author"))],
                action: Some(("Reply".into(), format!("{}#conversation", version_path(&slug, &version)))),
            }]
        }
        "listing.version.held" | "listing.version.hold_released" => {
            let held = *kind == "listing.version.held";
            let reason = text(data, "reason");
            let (subject, paragraphs) = if held {
                (
                    format!("{slug} {version} is on hold: {reason}"),
                    vec![
                        format!("The review waits for you: “{reason}”."),
                        "Answer on the version's page; the review goes on once the hold is released.".into(),
                    ],
                )
            } else {
                (
                    format!("{slug} {version} is no longer on hold"),
                    vec![format!("The hold (“{reason}”) was released; the review goes on.")],
                )
            };
            vec![Draft {
                kind: "hold",
                audience: listing,
                heading: subject.clone(),
                subject,
                paragraphs,
                facts: vec![fact("By", text(data, "by"))],
                action: Some(("See the version".into(), format!("{}#conversation", version_path(&slug, &version)))),
            }]
        }
        "notice.published" => vec![notice(data, partner_or_all)],
        "deprecation.scheduled" => vec![scheduled(data, partner_or_all)],
        "deprecation.reminder" => vec![reminder(data, partner_or_all)],
        _ => Vec::new(),
    }
}

/// An exception asked for (to reviewers), granted once (to reviewers: a second confirms), or
/// decided (to the partner).
fn exception(kind: &str, data: &Value, partner: Audience) -> Draft {
    let (slug, version, rule) = (text(data, "listing"), text(data, "version"), text(data, "rule_id"));
    let (status, id) = (text(data, "status"), text(data, "exception"));
    let facts = vec![
        fact("Rule", &rule),
        fact("Versions", text(data, "versions")),
        fact("Until", text(data, "until")),
        fact(if kind == "exception.requested" { "Asked by" } else { "Decided by" }, text(data, "by")),
    ];
    let why = text(data, "why");
    let (audience, subject, paragraphs) = match (kind, status.as_str()) {
        ("exception.requested", _) => (
            Audience::Reviewers,
            format!("{slug} {version} asks for an exception to {rule}"),
            vec![
                format!("The partner's reason: “{why}”"),
                "Grant it (possibly narrower or shorter) or deny it.".into(),
            ],
        ),
        (_, "confirming") => (
            Audience::Reviewers,
            format!("Exception {id} to {rule} on {slug} {version} needs a second reviewer"),
            vec![format!("It is granted once: “{why}”. A second reviewer confirms or denies it.")],
        ),
        (_, "expiring") => (
            partner,
            format!("Your exception to {rule} on {slug} {version} lapses on {}", day(&text(data, "until"))),
            vec![
                format!("{why}: after it lapses, the finding counts against the verdict again."),
                "Fix it in a new version, or ask for a new exception with what has changed.".into(),
            ],
        ),
        (_, "denied") => (
            partner,
            format!("Your exception to {rule} on {slug} {version} was denied"),
            vec![format!("The reason: “{why}”"), "Fix the finding, or ask again with more to go on.".into()],
        ),
        _ => (
            partner,
            format!("Your exception to {rule} on {slug} {version} was granted"),
            vec![
                format!("The reason: “{why}”"),
                "The finding no longer counts against the verdict until the date below; fix it before then.".into(),
            ],
        ),
    };
    Draft {
        kind: "exception",
        audience,
        heading: subject.clone(),
        subject,
        paragraphs,
        facts,
        action: Some(("See the version".into(), version_path(&slug, &version))),
    }
}

/// An appeal filed (to reviewers: one who did not decide hears it) or heard (to the partner).
fn appeal(kind: &str, data: &Value, partner: Audience) -> Draft {
    let (slug, version, id) = (text(data, "listing"), text(data, "version"), text(data, "appeal"));
    let decision = words(&text(data, "decision"));
    let why = text(data, "why");
    let (audience, subject, paragraphs) = match (kind, text(data, "status").as_str()) {
        ("appeal.filed", _) => (
            Audience::Reviewers,
            format!("{slug} {version}: the partner appeals the {decision} decision"),
            vec![
                format!("The partner's statement: “{why}”"),
                "A reviewer other than the one who decided hears it: uphold the decision or overturn it.".into(),
            ],
        ),
        (_, "overturned") => (
            partner,
            format!("Your appeal for {slug} {version} succeeded: the version is approved"),
            vec![format!("The reviewer's rationale: “{why}”")],
        ),
        _ => (
            partner,
            format!("Your appeal for {slug} {version} was heard: the decision stands"),
            vec![format!("The reviewer's rationale: “{why}”"), "Fix what it says in a new version.".into()],
        ),
    };
    Draft {
        kind: "appeal",
        audience,
        heading: subject.clone(),
        subject,
        paragraphs,
        facts: vec![fact("Appeal", format!("#{id}")), fact("Decision", decision), fact("By", text(data, "by"))],
        action: Some(("See the version".into(), format!("{}#conversation", version_path(&slug, &version)))),
    }
}

/// `2027-03-31` of an RFC 3339 time.
fn day(rfc3339: &str) -> &str {
    rfc3339.get(..10).unwrap_or(rfc3339)
}

fn notice(data: &Value, audience: Audience) -> Draft {
    let summary = text(data, "summary");
    let mut facts = vec![fact("Kind", text(data, "kind")), fact("Effective", text(data, "effective"))];
    let listing = text(data, "listing");
    if !listing.is_empty() {
        facts.push(fact("Listing", listing));
    }
    let action_required = text(data, "action_required");
    let mut paragraphs = vec![summary.clone()];
    if !action_required.is_empty() {
        paragraphs.push(format!("What you need to do: {action_required}"));
    }
    Draft {
        kind: "notice",
        audience,
        subject: format!("Change notice: {summary}"),
        heading: format!("A {} change notice was published", text(data, "kind")),
        paragraphs,
        facts,
        action: Some(("Read the notices".into(), "/notices".into())),
    }
}

fn scheduled(data: &Value, audience: Audience) -> Draft {
    let what = target(data);
    Draft {
        kind: "deprecation",
        audience,
        subject: format!("{what} will be sunset on {}", text(data, "sunset")),
        heading: format!("A deprecation of {what} is scheduled"),
        paragraphs: vec![format!(
            "It is deprecated from {} and sunset on {}; plan the move before then.",
            text(data, "deprecated_from"),
            text(data, "sunset")
        )],
        facts: vec![
            fact("Stability", text(data, "stability")),
            fact("Deprecated from", text(data, "deprecated_from")),
            fact("Sunset", text(data, "sunset")),
        ],
        action: Some(("See the deprecations".into(), "/deprecations".into())),
    }
}

fn reminder(data: &Value, audience: Audience) -> Draft {
    let what = target(data);
    let days = text(data, "days_to_sunset");
    Draft {
        kind: "deprecation",
        audience,
        subject: format!("{what} is sunset in {days} days"),
        heading: format!("{what} is sunset on {} — {days} days from now", text(data, "sunset")),
        paragraphs: vec!["After the sunset it stops working; move off it before then.".into()],
        facts: vec![fact("Sunset", text(data, "sunset")), fact("Days left", days)],
        action: Some(("See the deprecations".into(), "/deprecations".into())),
    }
}

/// A partner's capabilities changed: `partner:{name}`, `capabilities=… (was …)[ suspended|
/// restored]: rationale`.
fn capability_draft(partner: PartnerId, name: &str, detail: &str, actor: &str) -> Draft {
    let (change, rationale) = detail.split_once(": ").unwrap_or((detail, ""));
    let (now, was) = change
        .strip_prefix("capabilities=")
        .and_then(|c| c.split_once(" (was "))
        .map(|(now, rest)| {
            let (was, _) = rest.split_once(')').unwrap_or((rest, ""));
            (now.to_owned(), was.to_owned())
        })
        .unwrap_or_default();
    let heading = if change.ends_with(" suspended") {
        format!("{name} is suspended on assay")
    } else if change.ends_with(" restored") {
        format!("{name} is restored on assay")
    } else {
        format!("{name}'s capabilities on assay changed")
    };
    let mut paragraphs = Vec::new();
    if !rationale.is_empty() {
        paragraphs.push(format!("The reason given: “{rationale}”"));
    }
    Draft {
        kind: "capability",
        audience: Audience::Partner(partner),
        subject: heading.clone(),
        heading,
        paragraphs,
        facts: vec![fact("Capabilities now", now), fact("Before", was), fact("Decided by", actor)],
        action: Some(("See your organisation".into(), "/members".into())),
    }
}

fn pause_draft(partner: PartnerId, endpoint: i64, url: &str, reason: &str) -> Draft {
    Draft {
        kind: "webhook",
        audience: Audience::Owners(partner),
        subject: format!("Webhook endpoint {endpoint} was paused"),
        heading: format!("Webhook endpoint {endpoint} was paused because it kept failing"),
        paragraphs: vec![
            format!("{reason}."),
            "Its messages wait while it is paused. Fix the receiver, then resume the endpoint: what waited is \
             sent at once."
                .into(),
        ],
        facts: vec![fact("Endpoint", url)],
        action: Some(("See the endpoint".into(), format!("/webhooks/{endpoint}"))),
    }
}

impl Service {
    /// The same service sending e-mail with `mailer`, configured by `config`.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>, config: EmailConfig) -> Service {
        self.mailer = Some(mailer);
        self.email = config;
        self
    }

    /// The caller's e-mail preferences (people only: a service account receives no e-mail).
    pub async fn email_preferences(&self, who: &Principal) -> Result<EmailPreferences, ServiceError> {
        let user = self.person(who).await?;
        let off = self.store.email_opt_outs(user.id).await?;
        Ok(preferences(&user.email, &off))
    }

    /// Turn off the kinds in `opted_out` for the caller (and every other kind on).
    pub async fn set_email_preferences(
        &self,
        who: &Principal,
        opted_out: &[String],
    ) -> Result<EmailPreferences, ServiceError> {
        let user = self.person(who).await?;
        let kinds = known_kinds(opted_out)?;
        self.store.set_email_opt_outs(&who.actor, user.id, &kinds, self.clock.now()).await?;
        Ok(preferences(&user.email, &kinds))
    }

    /// The address an unsubscribe link's token belongs to, for the page that confirms it.
    pub async fn unsubscribe_address(&self, token: &str) -> Result<Option<String>, ServiceError> {
        let Some(id) = self.store.user_by_unsubscribe_token(token).await? else { return Ok(None) };
        Ok(self.store.user(id).await?.filter(|u| u.left_at.is_none()).map(|u| u.email))
    }

    /// Follow an unsubscribe link: turn off `kind` (`None`: every kind) for the person the
    /// token belongs to. Needs no sign-in — the token is the proof (RFC 8058 one-click).
    pub async fn unsubscribe(&self, token: &str, kind: Option<&str>) -> Result<Unsubscribed, ServiceError> {
        let gone = || ServiceError::NotFound("this unsubscribe link is not valid (any more)".into());
        let id = self.store.user_by_unsubscribe_token(token).await?.ok_or_else(gone)?;
        let user = self.store.user(id).await?.filter(|u| u.left_at.is_none()).ok_or_else(gone)?;
        let mut off = self.store.email_opt_outs(user.id).await?;
        match kind {
            Some(kind) => off.extend(known_kinds(&[kind.to_owned()])?),
            None => off = KINDS.iter().map(|(k, _)| (*k).to_owned()).collect(),
        }
        off.sort();
        off.dedup();
        let actor = format!("{} <{}> (unsubscribe link)", user.name, user.email);
        self.store.set_email_opt_outs(&actor, user.id, &off, self.clock.now()).await?;
        Ok(Unsubscribed { address: user.email, opted_out: off })
    }

    /// E-mail an invitation: who invited, into what, and the link that accepts it.
    pub(crate) async fn email_invitation(
        &self,
        invitation: &crate::Invitation,
        secret: &str,
    ) -> Result<(), ServiceError> {
        if self.mailer.is_none() {
            return Ok(());
        }
        let (organisation, inviter) = (&invitation.organisation, &invitation.invited_by);
        let link = format!("{}/invitations/{secret}", self.email.public_url.trim_end_matches('/'));
        let days = (invitation.expires_at - self.clock.now()).div_euclid(86_400).max(1);
        let content = EmailContent {
            greeting: "Hello,".into(),
            heading: format!("You are invited to join {organisation} on assay"),
            paragraphs: vec![
                format!("{inviter} invited you to join {organisation} as {}.", invitation.role),
                format!("The link works once and for {days} days; sign in with {} to accept.", invitation.email),
            ],
            facts: vec![fact("Organisation", organisation.as_str()), fact("Role", invitation.role.as_str())],
            action: Some(("Accept the invitation".into(), link)),
            why: format!("You receive this because {inviter} invited {} to assay.", invitation.email),
            unsubscribe: None,
        };
        let email = NewEmail {
            key: format!("invitation_{}", invitation.id),
            user: None,
            address: invitation.email.clone(),
            kind: INVITATION.into(),
            subject: format!("You are invited to join {organisation} on assay"),
            content: serde_json::to_string(&content).unwrap_or_default(),
        };
        self.store.enqueue_emails(&[email], self.clock.now()).await?;
        Ok(())
    }

    /// The person behind a token (a service account has none).
    async fn person(&self, who: &Principal) -> Result<UserRecord, ServiceError> {
        let no_person = || ServiceError::Forbidden("a service account receives no e-mail; sign in as a person".into());
        let id = who.user.ok_or_else(no_person)?;
        self.store.user(id).await?.filter(|u| u.left_at.is_none()).ok_or_else(no_person)
    }

    /// Fan new audit events out to the people they concern; `true` while more may be waiting.
    async fn fan_out_emails(&self, report: &mut EmailReport) -> Result<bool, ServiceError> {
        const BATCH: i64 = 200;
        let (cursor, events) = self.store.audit_after_email_cursor(BATCH).await?;
        let Some(last) = events.last().map(|e| e.seq) else { return Ok(false) };
        if self.mailer.is_none() {
            // E-mail is off: events pass by, so turning it on later does not send old news.
            self.store.fan_out_emails(cursor, last, &[], self.clock.now()).await?;
            return Ok(events.len() as i64 == BATCH);
        }
        let mut owners = HashMap::new();
        let mut book = AddressBook::default();
        let mut emails = Vec::new();
        for event in &events {
            let mut found = Vec::new();
            if let Some(typed) = self.typed_event(event, &mut owners).await? {
                found = drafts(&typed);
            }
            match event.action.as_str() {
                "partner.capabilities" => {
                    let name = event.subject.trim_start_matches("partner:");
                    if let Some(partner) = self.store.partner_by_name(name).await? {
                        found.push(capability_draft(partner.id, name, &event.detail, &event.actor));
                    }
                }
                "webhook.endpoint.pause" if event.actor == assay_store::DISPATCHER => {
                    let id = event.subject.trim_start_matches("endpoint:").parse().unwrap_or_default();
                    if let Some(endpoint) = self.store.endpoint(id).await? {
                        found.push(pause_draft(endpoint.partner, endpoint.id, &endpoint.url, &event.detail));
                    }
                }
                _ => {}
            }
            for draft in found {
                self.address(&draft, &format!("audit_{}", event.seq), &mut book, &mut emails).await?;
            }
        }
        if let Some(new) = self.store.fan_out_emails(cursor, last, &emails, self.clock.now()).await? {
            report.enqueued += new as usize;
        }
        Ok(events.len() as i64 == BATCH)
    }

    /// Enqueue the sunset reminders due today (once each, by key).
    async fn email_reminders(&self, report: &mut EmailReport) -> Result<(), ServiceError> {
        let mut book = AddressBook::default();
        let mut emails = Vec::new();
        for due in self.due_reminders().await? {
            let typed: Typed = (due.event_type, due.owner, due.data);
            for draft in drafts(&typed) {
                self.address(&draft, &due.key, &mut book, &mut emails).await?;
            }
        }
        if !emails.is_empty() {
            report.enqueued += self.store.enqueue_emails(&emails, self.clock.now()).await? as usize;
        }
        Ok(())
    }

    /// One e-mail per person in the draft's audience who has not turned its kind off.
    async fn address(
        &self,
        draft: &Draft,
        key: &str,
        book: &mut AddressBook,
        out: &mut Vec<NewEmail>,
    ) -> Result<(), ServiceError> {
        let base = self.email.public_url.trim_end_matches('/');
        for person in self.audience(draft.audience, book).await? {
            if book.opted_out(self, person.id).await?.iter().any(|k| k == draft.kind) {
                continue;
            }
            let token = book.token(self, person.id).await?;
            let organisation = &person.organisation;
            let why = match draft.audience {
                Audience::Reviewers => format!("You receive this as a {} on assay.", person.role),
                Audience::Owners(_) => format!("You receive this as an owner of {organisation} on assay."),
                _ => format!("You receive this as a member of {organisation} on assay."),
            };
            let content = EmailContent {
                greeting: format!("Hello {},", person.name),
                heading: draft.heading.clone(),
                paragraphs: draft.paragraphs.clone(),
                facts: draft.facts.iter().filter(|(_, v)| !v.is_empty()).cloned().collect(),
                action: draft.action.as_ref().map(|(label, path)| (label.clone(), format!("{base}{path}"))),
                why,
                unsubscribe: Some(format!("{base}/unsubscribe/{token}?kind={}", draft.kind)),
            };
            out.push(NewEmail {
                key: format!("{key}_{}_user_{}", draft.kind, person.id.0),
                user: Some(person.id),
                address: person.email.clone(),
                kind: draft.kind.into(),
                subject: draft.subject.clone(),
                content: serde_json::to_string(&content).unwrap_or_default(),
            });
        }
        Ok(())
    }

    async fn audience(&self, audience: Audience, book: &mut AddressBook) -> Result<Vec<UserRecord>, ServiceError> {
        Ok(match audience {
            Audience::Partner(p) => book.members(self, Some(p)).await?,
            Audience::Owners(p) => {
                book.members(self, Some(p)).await?.into_iter().filter(|u| u.role == Role::Owner).collect()
            }
            Audience::Reviewers => book.members(self, None).await?,
            Audience::AllPartners => {
                let mut everyone = Vec::new();
                for partner in self.store.partners().await? {
                    everyone.extend(book.members(self, Some(partner.id)).await?);
                }
                everyone
            }
        })
    }

    /// One mailer pass: fan out new events and due reminders, then send what is due (when a
    /// [`Mailer`] is set), up to [`EmailConfig::concurrency`] at once.
    pub async fn dispatch_emails(&self) -> Result<EmailReport, ServiceError> {
        let mut report = EmailReport::default();
        while self.fan_out_emails(&mut report).await? {}
        self.email_reminders(&mut report).await?;
        let Some(mailer) = self.mailer.clone() else { return Ok(report) };
        let batch = self.email.concurrency.max(1);
        loop {
            let due = self.store.claim_due_emails(self.clock.now(), self.email.lease_secs, batch as i64).await?;
            // A short batch is the last of this pass (so a retry due at once waits for the next).
            let last = due.len() < batch;
            if due.is_empty() {
                return Ok(report);
            }
            let mut sends = tokio::task::JoinSet::new();
            for email in due {
                sends.spawn(send_email(mailer.clone(), email));
            }
            let mut done = Vec::new();
            while let Some(sent) = sends.join_next().await {
                done.extend(sent.ok());
            }
            self.record_emails(done, &mut report).await?;
            if last {
                return Ok(report);
            }
        }
    }

    /// Send e-mail every `period` until `stop` resolves.
    pub async fn run_mailer(&self, period: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            if let Err(e) = self.dispatch_emails().await {
                tracing::error!(error = %crate::error_chain(&e), "sending e-mail failed");
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(period) => {}
            }
        }
    }

    /// Record sends that ended, with what follows for each.
    async fn record_emails(
        &self,
        done: Vec<(i64, i64, Option<String>, i64)>,
        report: &mut EmailReport,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let config = &self.email;
        let attempts: Vec<EmailAttempt> = done
            .into_iter()
            .map(|(message, number, error, duration_ms)| {
                let outcome = if error.is_none() {
                    report.sent += 1;
                    AttemptOutcome::Delivered
                } else {
                    report.failed_attempts += 1;
                    metrics::counter!("assay_email_failures_total").increment(1);
                    if number >= config.max_attempts {
                        AttemptOutcome::Failed
                    } else {
                        let shift = u32::try_from(number - 1).unwrap_or(u32::MAX).min(20);
                        AttemptOutcome::Retry { next_at: now + config.first_backoff_secs.saturating_mul(1 << shift) }
                    }
                };
                EmailAttempt { message, error, duration_ms, outcome }
            })
            .collect();
        Ok(self.store.record_email_attempts(&attempts, now).await?)
    }
}

/// Send one e-mail off the async threads: its id, which attempt it was, why it failed and how
/// long it took.
async fn send_email(mailer: Arc<dyn Mailer>, email: DueEmail) -> (i64, i64, Option<String>, i64) {
    let started = Instant::now();
    let error = match serde_json::from_str::<EmailContent>(&email.content) {
        Err(e) => Some(format!("the e-mail's content is not readable: {e}")),
        Ok(content) => {
            let outgoing =
                OutgoingEmail { to: email.address.clone(), subject: email.subject, kind: email.kind, content };
            match tokio::task::spawn_blocking(move || mailer.send(&outgoing)).await {
                Ok(Ok(())) => None,
                Ok(Err(failure)) => {
                    // Only operators read the e-mail log: it keeps the transport's own words.
                    tracing::info!(email = email.id, detail = %failure.detail, "sending an e-mail failed");
                    Some(failure.detail)
                }
                Err(join) => Some(format!("sending failed inside the server: {join}")),
            }
        }
    };
    let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    (email.id, email.attempts + 1, error, ms)
}

/// Every kind known, or the first unknown one as an error.
fn known_kinds(kinds: &[String]) -> Result<Vec<String>, ServiceError> {
    let mut out = Vec::new();
    for kind in kinds {
        let kind = kind.trim();
        if !KINDS.iter().any(|(k, _)| *k == kind) {
            let known: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
            return Err(ServiceError::invalid(
                "/opted_out",
                format!("`{kind}` is not a kind of e-mail; known: {}", known.join(", ")),
            ));
        }
        out.push(kind.to_owned());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn preferences(address: &str, off: &[String]) -> EmailPreferences {
    let kinds = KINDS
        .iter()
        .map(|&(kind, about)| EmailPreference { kind, about, receive: !off.iter().any(|o| o == kind) })
        .collect();
    EmailPreferences { address: address.to_owned(), kinds }
}

/// What one fan-out pass has looked up: members per organisation, opt-outs and tokens per
/// person.
#[derive(Default)]
struct AddressBook {
    members: HashMap<Option<PartnerId>, Vec<UserRecord>>,
    opt_outs: HashMap<UserId, Vec<String>>,
    tokens: HashMap<UserId, String>,
}

impl AddressBook {
    async fn members(
        &mut self,
        service: &Service,
        partner: Option<PartnerId>,
    ) -> Result<Vec<UserRecord>, ServiceError> {
        Ok(match self.members.entry(partner) {
            Entry::Occupied(known) => known.get().clone(),
            Entry::Vacant(slot) => slot.insert(service.store.members(partner).await?).clone(),
        })
    }

    async fn opted_out(&mut self, service: &Service, user: UserId) -> Result<&Vec<String>, ServiceError> {
        Ok(match self.opt_outs.entry(user) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => slot.insert(service.store.email_opt_outs(user).await?),
        })
    }

    async fn token(&mut self, service: &Service, user: UserId) -> Result<String, ServiceError> {
        Ok(match self.tokens.entry(user) {
            Entry::Occupied(known) => known.get().clone(),
            Entry::Vacant(slot) => slot.insert(service.store.unsubscribe_token(user).await?).clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capability_change_reads_as_sentences() {
        let draft = capability_draft(
            PartnerId(3),
            "acme",
            "capabilities=list, checks (was list, checks, certify) suspended: repeated policy breaches",
            "Grace <grace@platform.test> (staff)",
        );
        assert_eq!(draft.heading, "acme is suspended on assay");
        assert_eq!(draft.facts[0], fact("Capabilities now", "list, checks"));
        assert_eq!(draft.facts[1], fact("Before", "list, checks, certify"));
        assert_eq!(draft.paragraphs, vec!["The reason given: “repeated policy breaches”".to_owned()]);
    }

    #[test]
    fn unknown_kinds_are_refused_by_name() {
        let err = known_kinds(&["verdict".into(), "spam".into()]).unwrap_err();
        assert!(err.to_string().contains("`spam` is not a kind of e-mail"), "{err}");
        assert_eq!(known_kinds(&["notice".into(), "notice".into()]).unwrap(), vec!["notice".to_owned()]);
    }
}
