//! Partner webhooks, signed per the Standard Webhooks specification and delivered from a
//! durable outbox.
//!
//! Events are derived from the audit log: every trigger (a review finishing, a decision, a
//! notice, a version deprecated or retired) already appends its audit event in its own
//! transaction, so the dispatcher fans events out from the log behind a cursor that moves in the
//! same transaction as the messages it enqueues — nothing is lost across restarts and nothing is
//! enqueued twice. Deprecation reminders (30, 7 and 1 days before a sunset, configurable) are
//! enqueued under deterministic message ids, so each is sent once. Messages are claimed with a
//! lease, sent (by a [`Sender`], which the HTTP layer provides), and retried with exponential
//! backoff until they are delivered or run out of attempts; every attempt is logged.
//!
//! Delivery is concurrent and fair: [`Service::run_dispatcher`] keeps up to
//! [`WebhookConfig::concurrency`] sends in flight, at most [`WebhookConfig::endpoint_concurrency`]
//! per endpoint, and claims every endpoint's oldest due message before any endpoint's second.
//! A failing endpoint backs off on its own (it is probed after 1, 2, 4 … seconds, up to
//! [`WebhookConfig::max_endpoint_backoff_secs`]) and is paused once it has failed for
//! [`WebhookConfig::pause_after_secs`], so it never holds up another endpoint's messages.
//! Attempts that finish together are recorded in one transaction.
//!
//! The message body is `{"type", "timestamp", "data"}`; the headers are `webhook-id`,
//! `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
//! keyed with the endpoint's `whsec_` secret.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assay_api::events::{
    AppealEvent, AppealLinks, ConversationLinks, DeprecationReminder, DeprecationScheduled, DeprecationTargetRef,
    Envelope, ExceptionEvent, ExceptionLinks, HoldEvent, MessageEvent, NoticeLinks, NoticePublished, PackRef,
    TestEvent, TestLinks, VersionDecided, VersionLinks, VersionReviewed, VersionStateChanged, VersionSubmitted,
    VersionUncertified,
};
use assay_core::audit::{AuditEvent, detail};
use assay_core::deprecation::DeprecationTarget;
use assay_core::deprecation::Phase;
use assay_core::exception::ExceptionState;
use assay_core::identity::{PartnerId, Principal};
use assay_core::webhook::{DeliveryRecord, EndpointRecord, TEST_EVENT};
use assay_store::{Attempt, AttemptOutcome, DueMessage, ExceptionFilter, HealthPolicy, NewMessage};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ServiceError;
use crate::access::{Permission, require};
use crate::service::Service;

/// Sends one signed message; the HTTP layer implements it. Blocking: the dispatcher calls it
/// off the async threads.
pub trait Sender: Send + Sync + std::fmt::Debug {
    /// POST `body` with `headers` to `url`: the receiver's status, or why there was none.
    fn send(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, SendFailure>;
}

/// Why a message reached no receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The host did not resolve, or only to addresses that are not public (the two look the
    /// same to partners, so the refusal tells nothing about the server's own network).
    NotPublic,
    /// No answer within the sender's timeout.
    Timeout,
    /// The connection could not be made, or broke.
    Unreachable,
    /// The TLS handshake failed.
    Tls,
    /// The answer was not HTTP, or the request could not be sent.
    Protocol,
}

impl FailureKind {
    /// What the delivery log tells the endpoint's owner: never connection-level detail.
    pub fn describe(self) -> &'static str {
        match self {
            FailureKind::NotPublic => "the endpoint's host does not resolve to a public address",
            FailureKind::Timeout => "the receiver did not answer in time",
            FailureKind::Unreachable => "could not connect to the receiver",
            FailureKind::Tls => "the TLS handshake with the receiver failed",
            FailureKind::Protocol => "the receiver's answer was not valid HTTP",
        }
    }
}

/// A failed send: what partners may read ([`FailureKind::describe`]) and what operators log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// The kind, which is all partners see.
    pub kind: FailureKind,
    /// The transport's own message, for the server's log.
    pub detail: String,
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Attempts before a message is marked failed. Default 8.
    pub max_attempts: i64,
    /// The first retry's delay in seconds; it doubles per attempt, up to `max_backoff_secs`.
    pub first_backoff_secs: i64,
    /// The longest delay between attempts. Default 6 hours.
    pub max_backoff_secs: i64,
    /// How long a claimed message is leased to the node sending it. Default 60 s.
    pub lease_secs: i64,
    /// Days before a sunset on which reminders go out. Default 30, 7 and 1.
    pub reminder_days: Vec<i64>,
    /// Accept endpoints on loopback and private addresses, and plain `http` to them: for
    /// development and tests only (otherwise a partner could make the server call its own
    /// network). Default off.
    pub allow_private: bool,
    /// Sends in flight at once, across endpoints. Default 32.
    pub concurrency: usize,
    /// Sends in flight at once to one endpoint. Default 8.
    pub endpoint_concurrency: usize,
    /// The longest an endpoint that keeps failing waits between probes. Default 15 minutes.
    pub max_endpoint_backoff_secs: i64,
    /// An endpoint whose every attempt failed for this long is paused (0: never). Default 3
    /// days.
    pub pause_after_secs: i64,
    /// How long a rotated secret keeps signing beside the new one. Default 24 hours.
    pub rotation_grace_secs: i64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            max_attempts: 8,
            first_backoff_secs: 30,
            max_backoff_secs: 6 * 3600,
            lease_secs: 60,
            reminder_days: vec![30, 7, 1],
            allow_private: false,
            concurrency: 32,
            endpoint_concurrency: 8,
            max_endpoint_backoff_secs: 15 * 60,
            pause_after_secs: 3 * 24 * 3600,
            rotation_grace_secs: 24 * 3600,
        }
    }
}

/// What one dispatcher pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Messages enqueued (fan-out and reminders).
    pub enqueued: usize,
    /// Messages delivered.
    pub delivered: usize,
    /// Attempts that failed (and will be retried, or ran out).
    pub failed_attempts: usize,
    /// Endpoints paused because they kept failing.
    pub paused: usize,
}

/// A newly registered endpoint, with its secret (shown once).
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// The endpoint.
    pub endpoint: EndpointRecord,
}

/// Every event type a partner can subscribe to (the test event goes to any endpoint).
pub static EVENT_TYPES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    assay_api::events::EVENTS.iter().map(|(name, ..)| *name).filter(|name| *name != TEST_EVENT).collect()
});

/// The Standard Webhooks signature of a message: `v1,<base64 HMAC-SHA256>` over
/// `{msg_id}.{timestamp}.{body}`, keyed with the base64 part of a `whsec_` secret.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| format!("the endpoint's secret is not base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header for `secrets`: one signature each, space-separated (during a
/// rotation's grace period a receiver holding either secret verifies the message).
pub fn signature_header(secrets: &[String], msg_id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let signatures: Result<Vec<String>, String> = secrets.iter().map(|s| sign(s, msg_id, timestamp, body)).collect();
    Ok(signatures?.join(" "))
}

/// The event types an endpoint asks for, checked: `*` when none.
fn event_filter(events: &[String]) -> Result<Vec<String>, ServiceError> {
    let mut wanted: Vec<String> = events.iter().map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect();
    if wanted.is_empty() {
        wanted.push("*".into());
    }
    if let Some(unknown) = wanted.iter().find(|e| *e != "*" && !EVENT_TYPES.contains(&e.as_str())) {
        return Err(ServiceError::invalid(
            "/events",
            format!("`{unknown}` is not an event type; known: {}", EVENT_TYPES.join(", ")),
        ));
    }
    wanted.sort();
    wanted.dedup();
    Ok(wanted)
}

/// A new signing secret: `whsec_` and 24 random bytes, base64.
fn new_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("whsec_{}", BASE64.encode(bytes))
}

fn envelope(event_type: &str, at: i64, data: impl serde::Serialize) -> String {
    let timestamp = jiff::Timestamp::from_second(at).map(|t| t.to_string()).unwrap_or_default();
    let envelope = Envelope { event_type: event_type.to_owned(), timestamp, data };
    serde_json::to_string(&envelope).unwrap_or_default()
}

fn target_ref(target: &DeprecationTarget) -> DeprecationTargetRef {
    match target {
        DeprecationTarget::Listing { slug, versions } => DeprecationTargetRef {
            listing: Some(slug.clone()),
            versions: Some(versions.to_string()),
            api_version: None,
        },
        DeprecationTarget::ApiVersion(api) => {
            DeprecationTargetRef { listing: None, versions: None, api_version: Some(api.clone()) }
        }
    }
}

/// A typed event: its type, the partner it concerns (`None`: every partner) and its data.
pub(crate) type Typed = (&'static str, Option<PartnerId>, serde_json::Value);

/// A reminder due now: of a deprecation's sunset, or of an exception's lapse.
#[derive(Debug, Clone)]
pub(crate) struct Reminder {
    /// `deprecation.reminder` or `exception.expiring`.
    pub event_type: &'static str,
    /// What makes it once-only: the subject and the threshold, e.g. `deprecation_3_7d`.
    pub key: String,
    /// The partner it concerns (`None`: every partner).
    pub owner: Option<PartnerId>,
    /// Its event's data.
    pub data: serde_json::Value,
}

fn value(data: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(data).unwrap_or_default()
}

impl Service {
    /// A partner registers an endpoint for some event types (`*` or empty: all). The URL must
    /// be `https` (plain `http` only to a loopback address, for development).
    pub async fn register_endpoint(
        &self,
        who: &Principal,
        url: &str,
        events: &[String],
    ) -> Result<NewEndpoint, ServiceError> {
        require(who, Permission::ManageWebhooks)?;
        let Some(partner) = who.partner else { return Err(ServiceError::Forbidden("the token has no partner".into())) };
        let parsed =
            url::Url::parse(url).map_err(|e| ServiceError::invalid("/url", format!("`{url}` is not a URL: {e}")))?;
        // What registration can see: an address literal, or a name for this machine. Names
        // are checked again where it matters, on every address they resolve to at delivery.
        let seen: Option<std::net::IpAddr> = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(ip.into()),
            Some(url::Host::Ipv6(ip)) => Some(ip.into()),
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                (name == "localhost" || name.ends_with(".localhost")).then_some(std::net::Ipv4Addr::LOCALHOST.into())
            }
            None => {
                return Err(ServiceError::invalid(
                    "/url",
                    format!("`{url}` cannot be an endpoint: the URL has no host"),
                ));
            }
        };
        let outbound = assay_core::address::Outbound { allow_local: self.webhooks.allow_private };
        if let Some(why) = seen.and_then(|ip| outbound.refusal(ip)) {
            return Err(ServiceError::invalid("/url", format!("`{url}` cannot be an endpoint: {why}")));
        }
        // Only an address the development setting let through may take plain `http`.
        let local = seen.is_some_and(|ip| assay_core::address::special(ip).is_some());
        let scheme_ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && local);
        if !scheme_ok || url.len() > 2048 {
            return Err(ServiceError::invalid("/url", "an endpoint URL is https and at most 2048 bytes".into()));
        }
        let wanted = event_filter(events)?;
        let endpoint = self.store.create_endpoint(&who.actor, partner, url, &wanted, &new_secret()).await?;
        Ok(NewEndpoint { endpoint })
    }

    /// The caller's endpoints (a partner's own; staff: every one).
    pub async fn endpoints(&self, who: &Principal) -> Result<Vec<EndpointRecord>, ServiceError> {
        let partner = crate::access::owner_scope(who)?;
        Ok(self.store.endpoints(partner).await?)
    }

    /// An endpoint's delivery log, newest first, and its messages by state (pending,
    /// delivered, failed). Another partner's endpoint is *not found*.
    pub async fn delivery_log(
        &self,
        who: &Principal,
        endpoint: i64,
    ) -> Result<(EndpointRecord, Vec<DeliveryRecord>, (i64, i64, i64)), ServiceError> {
        let not_found = || ServiceError::NotFound(format!("webhook endpoint {endpoint}"));
        let record = self.store.endpoint(endpoint).await?.ok_or_else(not_found)?;
        if !who.is_staff() && who.partner != Some(record.partner) {
            return Err(not_found());
        }
        let log = self.store.deliveries(endpoint, 200).await?;
        let counts = self.store.message_counts(endpoint).await?;
        Ok((record, log, counts))
    }

    /// An endpoint its owner manages: the caller's partner's own, else *not found*.
    async fn managed_endpoint(&self, who: &Principal, id: i64) -> Result<EndpointRecord, ServiceError> {
        require(who, Permission::ManageWebhooks)?;
        let record = self.store.endpoint(id).await?;
        record
            .filter(|e| who.partner == Some(e.partner))
            .ok_or_else(|| ServiceError::NotFound(format!("webhook endpoint {id}")))
    }

    /// Change which events an endpoint receives (`*` or empty: all).
    pub async fn update_endpoint(
        &self,
        who: &Principal,
        id: i64,
        events: &[String],
    ) -> Result<EndpointRecord, ServiceError> {
        self.managed_endpoint(who, id).await?;
        let wanted = event_filter(events)?;
        self.store.update_endpoint_events(&who.actor, id, &wanted).await?;
        self.endpoint_record(id).await
    }

    /// Pause an endpoint (`Some(reason)`; its messages wait) or resume it (`None`; what waited
    /// goes out now).
    pub async fn pause_endpoint(
        &self,
        who: &Principal,
        id: i64,
        reason: Option<&str>,
    ) -> Result<EndpointRecord, ServiceError> {
        self.managed_endpoint(who, id).await?;
        let reason = reason.map(|r| {
            let r = r.trim();
            if r.is_empty() { format!("paused by {}", who.actor) } else { format!("paused by {}: {r}", who.actor) }
        });
        self.store.set_endpoint_paused(&who.actor, id, reason.as_deref(), self.clock.now()).await?;
        self.endpoint_record(id).await
    }

    /// Delete an endpoint, its waiting messages and its delivery log.
    pub async fn delete_endpoint(&self, who: &Principal, id: i64) -> Result<(), ServiceError> {
        self.managed_endpoint(who, id).await?;
        Ok(self.store.delete_endpoint(&who.actor, id).await?)
    }

    /// A new signing secret (shown once, in the returned record); the old one keeps signing
    /// beside it for [`WebhookConfig::rotation_grace_secs`], so receivers can switch over.
    pub async fn rotate_endpoint_secret(&self, who: &Principal, id: i64) -> Result<EndpointRecord, ServiceError> {
        self.managed_endpoint(who, id).await?;
        let until = self.clock.now() + self.webhooks.rotation_grace_secs;
        self.store.rotate_endpoint_secret(&who.actor, id, &new_secret(), until).await?;
        self.endpoint_record(id).await
    }

    /// Queue a `webhook.test` message to an endpoint (sent even while it fails; not while it is
    /// paused); its id, to find it in the delivery log.
    pub async fn send_test_event(&self, who: &Principal, id: i64) -> Result<String, ServiceError> {
        let endpoint = self.managed_endpoint(who, id).await?;
        let now = self.clock.now();
        let msg_id = format!("msg_test_{}", hex::encode(rand::random::<[u8; 8]>()));
        let data = TestEvent {
            endpoint: endpoint.id,
            requested_by: who.actor.clone(),
            links: TestLinks { deliveries: format!("/v1/webhooks/{}/deliveries", endpoint.id) },
        };
        let message = NewMessage {
            endpoint: id,
            msg_id: msg_id.clone(),
            event_type: TEST_EVENT.into(),
            payload: envelope(TEST_EVENT, now, data),
        };
        self.store.enqueue_messages(&[message], now).await?;
        Ok(msg_id)
    }

    /// Send one of an endpoint's messages again, now (a failed one with its attempts back).
    pub async fn redeliver(&self, who: &Principal, id: i64, msg_id: &str) -> Result<(), ServiceError> {
        self.managed_endpoint(who, id).await?;
        if self.store.redeliver(&who.actor, id, msg_id, self.clock.now()).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound(format!("message `{msg_id}` of webhook endpoint {id}")))
        }
    }

    async fn endpoint_record(&self, id: i64) -> Result<EndpointRecord, ServiceError> {
        self.store.endpoint(id).await?.ok_or_else(|| ServiceError::NotFound(format!("webhook endpoint {id}")))
    }

    /// The typed event an audit event becomes, the partner it concerns (`None`: every
    /// partner) and its data; `None` for events partners are not told of, and for events whose
    /// detail predates the format read here.
    pub(crate) async fn typed_event(
        &self,
        event: &AuditEvent,
        owners: &mut HashMap<String, Option<PartnerId>>,
    ) -> Result<Option<Typed>, ServiceError> {
        let listing = event.subject.strip_prefix("listing:");
        let owner = match listing {
            Some(subject) => {
                let slug = subject.split_once('@').map_or(subject, |(s, _)| s);
                if !owners.contains_key(slug) {
                    let owner = self.store.listing(slug).await?.map(|l| l.partner);
                    owners.insert(slug.to_owned(), owner);
                }
                // A listing that is gone concerns no one.
                let Some(owner) = owners[slug] else { return Ok(None) };
                Some(owner)
            }
            None => None,
        };
        let version = listing.and_then(|s| s.split_once('@'));
        let by = event.actor.clone();
        let typed = match (event.action.as_str(), version) {
            ("version.submit", Some((slug, v))) => Some((
                "listing.version.submitted",
                value(VersionSubmitted {
                    listing: slug.into(),
                    version: v.into(),
                    submitted_by: by,
                    links: VersionLinks::new(slug, v),
                }),
            )),
            ("version.review", Some((slug, v))) => detail::transition(&event.detail).and_then(|(_, to, rest)| {
                let review = detail::review(rest)?;
                Some((
                    "listing.version.reviewed",
                    value(VersionReviewed {
                        listing: slug.into(),
                        version: v.into(),
                        verdict: review.verdict.into(),
                        state: to.to_string(),
                        checks: review.checks,
                        findings: review.findings,
                        pack: PackRef { name: review.pack.into(), version: review.pack_version.into() },
                        links: VersionLinks::new(slug, v),
                    }),
                ))
            }),
            (
                action @ ("version.approve" | "version.request_changes" | "version.reject" | "version.certify"),
                Some((slug, v)),
            ) => detail::transition(&event.detail).map(|(from, to, note)| {
                let kind =
                    if action == "version.certify" { "listing.version.certified" } else { "listing.version.decided" };
                (
                    kind,
                    value(VersionDecided {
                        listing: slug.into(),
                        version: v.into(),
                        action: action.trim_start_matches("version.").into(),
                        from: from.to_string(),
                        to: to.to_string(),
                        decided_by: by,
                        note: note.into(),
                        links: VersionLinks::new(slug, v),
                    }),
                )
            }),
            (
                action @ ("version.deprecate" | "version.retire" | "version.enforce" | "version.withdraw"
                | "version.publish"),
                Some((slug, v)),
            ) => detail::transition(&event.detail).map(|(from, to, reason)| {
                let kind = match action {
                    "version.deprecate" => "listing.version.deprecated",
                    "version.retire" => "listing.version.retired",
                    "version.withdraw" => "listing.version.withdrawn",
                    "version.publish" => "listing.version.published",
                    _ => "listing.version.enforced",
                };
                (
                    kind,
                    value(VersionStateChanged {
                        listing: slug.into(),
                        version: v.into(),
                        from: from.to_string(),
                        to: to.to_string(),
                        reason: reason.into(),
                        by,
                        links: VersionLinks::new(slug, v),
                    }),
                )
            }),
            ("version.uncertify", Some((slug, v))) => Some((
                "listing.version.uncertified",
                value(VersionUncertified {
                    listing: slug.into(),
                    version: v.into(),
                    reason: event.detail.clone(),
                    by,
                    links: VersionLinks::new(slug, v),
                }),
            )),
            (
                action @ ("exception.request" | "exception.grant" | "exception.grant_pending" | "exception.deny"),
                Some(_),
            ) => match detail::numbered(&event.detail) {
                Some(id) => self.store.exception(id).await?.map(|e| {
                    let requested = action == "exception.request";
                    let kind = if requested { "exception.requested" } else { "exception.decided" };
                    let (status, versions, until, why) = match action {
                        "exception.request" => ("requested", e.versions.clone(), e.expires_at, e.justification.clone()),
                        "exception.deny" => {
                            ("denied", e.versions.clone(), e.expires_at, e.rationale.clone().unwrap_or_default())
                        }
                        _ => (
                            if action == "exception.grant" { "live" } else { "confirming" },
                            e.granted_versions.clone().unwrap_or_else(|| e.versions.clone()),
                            e.granted_expires_at.unwrap_or(e.expires_at),
                            match action {
                                "exception.grant" => e.rationale.clone().unwrap_or_default(),
                                _ => e.first_decision.clone().map(|(_, why)| why).unwrap_or_default(),
                            },
                        ),
                    };
                    let links = ExceptionLinks {
                        exception: format!("/v1/exceptions/{}", e.id),
                        version: assay_api::version_url(&e.slug, &e.version),
                    };
                    let until = jiff::Timestamp::from_second(until).map(|t| t.to_string()).unwrap_or_default();
                    (
                        kind,
                        value(ExceptionEvent {
                            exception: e.id,
                            listing: e.slug,
                            version: e.version,
                            rule_id: e.rule_id,
                            status: status.into(),
                            versions,
                            until,
                            by,
                            why,
                            links,
                        }),
                    )
                }),
                None => None,
            },
            (action @ ("appeal.file" | "appeal.uphold" | "appeal.overturn"), Some(_)) => {
                match detail::numbered(&event.detail) {
                    Some(id) => self.store.appeal(id).await?.map(|a| {
                        let decided_state = if a.decision == "reject" { "rejected" } else { "changes_requested" };
                        let (kind, status, state, why) = match action {
                            "appeal.file" => ("appeal.filed", "open", decided_state, a.statement.clone()),
                            "appeal.overturn" => {
                                ("appeal.decided", "overturned", "approved", a.rationale.clone().unwrap_or_default())
                            }
                            _ => ("appeal.decided", "upheld", decided_state, a.rationale.clone().unwrap_or_default()),
                        };
                        let links = AppealLinks {
                            appeal: format!("/v1/appeals/{}", a.id),
                            version: assay_api::version_url(&a.slug, &a.version),
                        };
                        (
                            kind,
                            value(AppealEvent {
                                appeal: a.id,
                                listing: a.slug,
                                version: a.version,
                                decision: a.decision,
                                status: status.into(),
                                state: state.into(),
                                by,
                                why,
                                links,
                            }),
                        )
                    }),
                    None => None,
                }
            }
            ("message.post", Some((slug, v))) => match detail::numbered(&event.detail) {
                Some(id) => self.store.message(id).await?.filter(|(_, _, m)| !m.internal).map(|(_, _, m)| {
                    (
                        "listing.version.message",
                        value(MessageEvent {
                            message: m.id,
                            listing: slug.into(),
                            version: v.into(),
                            author: m.author,
                            staff: m.staff,
                            body: m.body,
                            links: ConversationLinks::new(slug, v),
                        }),
                    )
                }),
                None => None,
            },
            (action @ ("version.hold" | "version.release_hold"), Some((slug, v))) => {
                match detail::numbered(&event.detail) {
                    Some(id) => self.store.hold(id).await?.map(|h| {
                        let placed = action == "version.hold";
                        let note = (!placed)
                            .then(|| event.detail.split_once(": ").map_or(String::new(), |(_, note)| note.to_owned()));
                        (
                            if placed { "listing.version.held" } else { "listing.version.hold_released" },
                            value(HoldEvent {
                                hold: h.id,
                                listing: slug.into(),
                                version: v.into(),
                                reason: h.reason,
                                by,
                                note,
                                links: ConversationLinks::new(slug, v),
                            }),
                        )
                    }),
                    None => None,
                }
            }
            ("notice.publish", _) => match detail::numbered(&event.detail) {
                Some(id) => self.store.notice(id).await?.map(|n| {
                    (
                        "notice.published",
                        value(NoticePublished {
                            notice: n.id,
                            kind: n.kind.to_string(),
                            summary: n.summary,
                            effective: n.effective.to_string(),
                            action_required: n.action_required.unwrap_or_default(),
                            listing: n.slug,
                            published_by: by,
                            links: NoticeLinks { notice: format!("/v1/notices/{}", n.id) },
                        }),
                    )
                }),
                None => None,
            },
            ("deprecation.schedule", _) => match detail::numbered(&event.detail) {
                Some(id) => self.store.deprecation(id).await?.map(|d| {
                    (
                        "deprecation.scheduled",
                        value(DeprecationScheduled {
                            deprecation: d.id,
                            target: target_ref(&d.target),
                            stability: d.stability.to_string(),
                            announced: d.schedule.announced.to_string(),
                            deprecated_from: d.schedule.deprecated_from.to_string(),
                            sunset: d.schedule.sunset.to_string(),
                            scheduled_by: by,
                            links: NoticeLinks { notice: format!("/v1/notices/{}", d.notice_id) },
                        }),
                    )
                }),
                None => None,
            },
            _ => None,
        };
        Ok(typed.map(|(kind, data)| (kind, owner, data)))
    }

    /// Fan audit events out to the endpoints that want them; `true` while more may be waiting.
    async fn fan_out(&self, report: &mut DispatchReport) -> Result<bool, ServiceError> {
        const BATCH: i64 = 500;
        let (cursor, events) = self.store.audit_after_cursor(BATCH).await?;
        let Some(last) = events.last().map(|e| e.seq) else { return Ok(false) };
        let endpoints = self.store.endpoints(None).await?;
        let mut owners: HashMap<String, Option<PartnerId>> = HashMap::new();
        let mut messages = Vec::new();
        for event in &events {
            let Some((kind, partner, data)) = self.typed_event(event, &mut owners).await? else { continue };
            let payload = envelope(kind, event.at, data);
            // An endpoint hears of what happens from the second it was registered on.
            let listening = |e: &&EndpointRecord| {
                partner.is_none_or(|p| p == e.partner) && e.wants(kind) && e.created_at <= event.at
            };
            for endpoint in endpoints.iter().filter(listening) {
                messages.push(NewMessage {
                    endpoint: endpoint.id,
                    msg_id: format!("msg_audit_{}", event.seq),
                    event_type: kind.to_owned(),
                    payload: payload.clone(),
                });
            }
        }
        if let Some(new) = self.store.fan_out(cursor, last, &messages, self.clock.now()).await? {
            report.enqueued += new as usize;
        }
        Ok(events.len() as i64 == BATCH)
    }

    /// The deprecation reminders due today: the nearest reminder day not yet passed for each
    /// announced deprecation before its sunset (one per threshold, so each goes out once).
    pub(crate) async fn due_reminders(&self) -> Result<Vec<Reminder>, ServiceError> {
        let today = self.today();
        let mut due = Vec::new();
        for deprecation in self.store.deprecations(None).await? {
            let schedule = deprecation.schedule;
            let left = schedule.days_to_sunset(today);
            if schedule.phase(today) == Phase::Sunset || schedule.announced > today {
                continue;
            }
            let Some(day) = self.webhooks.reminder_days.iter().copied().filter(|d| left <= *d).min() else { continue };
            let owner = match &deprecation.target {
                DeprecationTarget::Listing { slug, .. } => match self.store.listing(slug).await? {
                    Some(listing) => Some(listing.partner),
                    // A listing that is gone concerns no one.
                    None => continue,
                },
                DeprecationTarget::ApiVersion(_) => None,
            };
            let data = DeprecationReminder {
                deprecation: deprecation.id,
                target: target_ref(&deprecation.target),
                sunset: schedule.sunset.to_string(),
                days_to_sunset: left,
                reminder: format!("{day} days"),
                links: NoticeLinks { notice: format!("/v1/notices/{}", deprecation.notice_id) },
            };
            let key = format!("deprecation_{}_{day}d", deprecation.id);
            due.push(Reminder { event_type: "deprecation.reminder", key, owner, data: value(data) });
        }
        // Live exceptions about to lapse: 7 days and 1 day before, once each.
        let now = self.clock.now();
        let granted = ExceptionFilter { state: Some(ExceptionState::Granted), ..Default::default() };
        for e in self.store.exceptions(&granted).await? {
            let Some(until) = e.granted_expires_at.filter(|until| *until > now) else { continue };
            let left = (until - now + 86_399) / 86_400;
            let Some(day) = [7_i64, 1].into_iter().filter(|d| left <= *d).min() else { continue };
            let data = ExceptionEvent {
                exception: e.id,
                listing: e.slug.clone(),
                version: e.version.clone(),
                rule_id: e.rule_id.clone(),
                status: "expiring".into(),
                versions: e.granted_versions.clone().unwrap_or_else(|| e.versions.clone()),
                until: jiff::Timestamp::from_second(until).map(|t| t.to_string()).unwrap_or_default(),
                by: e.decided_by.clone().unwrap_or_default(),
                why: format!("{left} days left; fix the finding before then"),
                links: ExceptionLinks {
                    exception: format!("/v1/exceptions/{}", e.id),
                    version: assay_api::version_url(&e.slug, &e.version),
                },
            };
            let key = format!("exception_{}_{day}d", e.id);
            due.push(Reminder { event_type: "exception.expiring", key, owner: Some(e.partner), data: value(data) });
        }
        Ok(due)
    }

    /// Enqueue the deprecation reminders that are due (once each, by message id).
    async fn reminders(&self, report: &mut DispatchReport) -> Result<(), ServiceError> {
        let endpoints = self.store.endpoints(None).await?;
        if !endpoints.iter().any(|e| e.wants("deprecation.reminder") || e.wants("exception.expiring")) {
            return Ok(());
        }
        let mut messages = Vec::new();
        for reminder in self.due_reminders().await? {
            let kind = reminder.event_type;
            let payload = envelope(kind, self.clock.now(), &reminder.data);
            let wants = |e: &&EndpointRecord| reminder.owner.is_none_or(|p| p == e.partner) && e.wants(kind);
            for endpoint in endpoints.iter().filter(wants) {
                messages.push(NewMessage {
                    endpoint: endpoint.id,
                    msg_id: format!("msg_{}", reminder.key),
                    event_type: kind.into(),
                    payload: payload.clone(),
                });
            }
        }
        if !messages.is_empty() {
            report.enqueued += self.store.enqueue_messages(&messages, self.clock.now()).await? as usize;
        }
        Ok(())
    }

    /// One dispatcher pass: fan out new events, enqueue due reminders, then send what is due
    /// (when a [`Sender`] is set) — up to [`WebhookConfig::concurrency`] messages at once — and
    /// record how each attempt went.
    pub async fn dispatch_webhooks(&self) -> Result<DispatchReport, ServiceError> {
        let mut report = DispatchReport::default();
        self.fan_out_all(&mut report).await?;
        let Some(sender) = self.sender.clone() else { return Ok(report) };
        let due = self.claim_messages(self.webhooks.concurrency, &HashMap::new()).await?;
        let mut sends = tokio::task::JoinSet::new();
        for message in due {
            sends.spawn(deliver(sender.clone(), message, self.clock.clone()));
        }
        let mut done = Vec::new();
        while let Some(attempt) = sends.join_next().await {
            done.extend(attempt.ok());
        }
        self.record(done, &mut report).await?;
        Ok(report)
    }

    /// Deliver continuously until `stop` resolves: new events are fanned out every `period`;
    /// sends run concurrently (bounded overall and per endpoint), and each free slot is filled
    /// as soon as a send ends. Attempts that end together are recorded together. On stop, the
    /// sends in flight get a few seconds to end and be recorded; the rest are sent again once
    /// their leases lapse.
    pub async fn run_dispatcher(&self, period: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut in_flight: tokio::task::JoinSet<Sent> = tokio::task::JoinSet::new();
        let mut busy: HashMap<i64, usize> = HashMap::new();
        let mut next_fan_out = tokio::time::Instant::now();
        loop {
            let mut report = DispatchReport::default();
            if tokio::time::Instant::now() >= next_fan_out {
                if let Err(e) = self.fan_out_all(&mut report).await {
                    tracing::error!(error = %crate::error_chain(&e), "fanning out webhooks failed");
                }
                next_fan_out = tokio::time::Instant::now() + period;
            }
            let free = self.webhooks.concurrency.saturating_sub(in_flight.len());
            if let Some(sender) = self.sender.clone()
                && free > 0
            {
                match self.claim_messages(free, &busy).await {
                    Ok(due) => {
                        for message in due {
                            *busy.entry(message.endpoint).or_default() += 1;
                            in_flight.spawn(deliver(sender.clone(), message, self.clock.clone()));
                        }
                    }
                    Err(e) => tracing::error!(error = %crate::error_chain(&e), "claiming webhook messages failed"),
                }
            }
            let mut done = Vec::new();
            tokio::select! {
                () = &mut stop => {
                    let drained = tokio::time::timeout(Duration::from_secs(3), async {
                        while let Some(attempt) = in_flight.join_next().await {
                            done.extend(attempt.ok());
                        }
                    });
                    let _ = drained.await;
                    in_flight.abort_all();
                    if let Err(e) = self.record(done, &mut report).await {
                        tracing::error!(error = %crate::error_chain(&e), "recording webhook attempts failed");
                    }
                    return;
                }
                Some(attempt) = in_flight.join_next(), if !in_flight.is_empty() => {
                    done.extend(attempt.ok());
                    while let Some(attempt) = in_flight.try_join_next() {
                        done.extend(attempt.ok());
                    }
                }
                () = tokio::time::sleep_until(next_fan_out) => {}
            }
            for attempt in &done {
                if let Some(n) = busy.get_mut(&attempt.endpoint) {
                    *n -= 1;
                    if *n == 0 {
                        busy.remove(&attempt.endpoint);
                    }
                }
            }
            if let Err(e) = self.record(done, &mut report).await {
                tracing::error!(error = %crate::error_chain(&e), "recording webhook attempts failed");
            }
        }
    }

    /// Fan out every new event and enqueue the reminders that are due.
    async fn fan_out_all(&self, report: &mut DispatchReport) -> Result<(), ServiceError> {
        while self.fan_out(report).await? {}
        self.reminders(report).await
    }

    /// Claim up to `limit` due messages, fairly across endpoints.
    async fn claim_messages(&self, limit: usize, busy: &HashMap<i64, usize>) -> Result<Vec<DueMessage>, ServiceError> {
        let config = &self.webhooks;
        Ok(self
            .store
            .claim_due_messages(self.clock.now(), config.lease_secs, limit, config.endpoint_concurrency, busy)
            .await?)
    }

    /// Record finished attempts in one transaction, with what follows for each message.
    async fn record(&self, done: Vec<Sent>, report: &mut DispatchReport) -> Result<(), ServiceError> {
        if done.is_empty() {
            return Ok(());
        }
        let config = &self.webhooks;
        let now = self.clock.now();
        let done: Vec<Attempt> = done
            .into_iter()
            .map(|sent| {
                let outcome = if sent.error.is_none() {
                    report.delivered += 1;
                    AttemptOutcome::Delivered
                } else {
                    report.failed_attempts += 1;
                    metrics::counter!("assay_webhook_failures_total").increment(1);
                    if sent.number >= config.max_attempts {
                        AttemptOutcome::Failed
                    } else {
                        let shift = u32::try_from(sent.number - 1).unwrap_or(u32::MAX).min(30);
                        let delay =
                            config.first_backoff_secs.saturating_mul(1_i64 << shift).min(config.max_backoff_secs);
                        AttemptOutcome::Retry { next_at: now + delay }
                    }
                };
                Attempt {
                    message: sent.message,
                    endpoint: sent.endpoint,
                    status: sent.status,
                    error: sent.error,
                    duration_ms: sent.duration_ms,
                    outcome,
                }
            })
            .collect();
        let policy = HealthPolicy {
            max_endpoint_backoff_secs: config.max_endpoint_backoff_secs,
            pause_after_secs: config.pause_after_secs,
        };
        let paused = self.store.record_attempts(&done, now, policy).await?;
        for p in &paused {
            tracing::warn!(endpoint = p.endpoint, reason = %p.reason, "paused a webhook endpoint that kept failing");
        }
        report.paused += paused.len();
        Ok(())
    }

    /// The same service delivering webhooks with `sender`, configured by `config`.
    pub fn with_webhooks(mut self, sender: Arc<dyn Sender>, config: WebhookConfig) -> Service {
        self.sender = Some(sender);
        self.webhooks = config;
        self
    }
}

/// One send that ended; [`Service::record`] decides what follows from it.
#[derive(Debug)]
struct Sent {
    message: i64,
    endpoint: i64,
    /// Which attempt this was, from 1.
    number: i64,
    status: Option<u16>,
    /// Why it failed (`None`: a 2xx), as partners may read it.
    error: Option<String>,
    duration_ms: i64,
}

/// Sign and send one message off the async threads.
async fn deliver(sender: Arc<dyn Sender>, message: DueMessage, clock: Arc<dyn crate::Clock>) -> Sent {
    let started = Instant::now();
    // Signed at the moment it is sent, so the timestamp is fresh for the receiver.
    let now = clock.now();
    let (status, error) = match signature_header(&message.secrets, &message.msg_id, now, &message.payload) {
        Err(e) => (None, Some(e)),
        Ok(signature) => {
            let (url, body) = (message.url.clone(), message.payload.clone());
            let headers = vec![
                ("webhook-id", message.msg_id.clone()),
                ("webhook-timestamp", now.to_string()),
                ("webhook-signature", signature),
                ("content-type", "application/json".to_owned()),
            ];
            match tokio::task::spawn_blocking(move || sender.send(&url, &headers, &body)).await {
                Ok(Ok(status)) if (200..300).contains(&status) => (Some(status), None),
                Ok(Ok(status)) => (Some(status), Some(format!("the receiver answered {status}"))),
                Ok(Err(failure)) => {
                    tracing::info!(endpoint = message.endpoint, msg = %message.msg_id, detail = %failure.detail, "webhook delivery failed");
                    (None, Some(failure.kind.describe().to_owned()))
                }
                Err(join) => (None, Some(format!("sending failed inside the server: {join}"))),
            }
        }
    };
    let duration = Duration::from_millis(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    metrics::histogram!("assay_webhook_delivery_seconds").record(duration.as_secs_f64());
    Sent {
        message: message.id,
        endpoint: message.endpoint,
        number: message.attempts + 1,
        status,
        error,
        duration_ms: i64::try_from(duration.as_millis()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the Standard Webhooks specification's reference implementations.
    #[test]
    fn signatures_match_the_specification() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
