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
//! The message body is `{"type", "timestamp", "data"}`; the headers are `webhook-id`,
//! `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
//! keyed with the endpoint's `whsec_` secret.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use assay_core::deprecation::DeprecationTarget;
use assay_core::deprecation::Phase;
use assay_core::identity::{PartnerId, Principal};
use assay_core::webhook::{DeliveryRecord, EndpointRecord};
use assay_store::{AttemptOutcome, NewMessage};
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
    /// POST `body` with `headers` to `url`; the receiver's status, or why there was none.
    fn send(&self, url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, String>;
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
}

/// A newly registered endpoint, with its secret (shown once).
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// The endpoint.
    pub endpoint: EndpointRecord,
}

/// Every event type a partner can subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "listing.review.finished",
    "listing.version.approved",
    "listing.version.changes_requested",
    "listing.version.rejected",
    "listing.version.certified",
    "listing.version.deprecated",
    "listing.version.retired",
    "listing.version.enforced",
    "notice.published",
    "deprecation.reminder",
];

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

/// A new signing secret: `whsec_` and 24 random bytes, base64.
fn new_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("whsec_{}", BASE64.encode(bytes))
}

/// The event an audit action becomes, if any.
fn event_type(action: &str) -> Option<&'static str> {
    Some(match action {
        "version.review" => "listing.review.finished",
        "version.approve" => "listing.version.approved",
        "version.request_changes" => "listing.version.changes_requested",
        "version.reject" => "listing.version.rejected",
        "version.certify" => "listing.version.certified",
        "version.deprecate" => "listing.version.deprecated",
        "version.retire" => "listing.version.retired",
        "version.enforce" => "listing.version.enforced",
        "notice.publish" => "notice.published",
        _ => return None,
    })
}

fn envelope(event_type: &str, at: i64, data: serde_json::Value) -> String {
    let timestamp = jiff::Timestamp::from_second(at).map(|t| t.to_string()).unwrap_or_default();
    serde_json::json!({ "type": event_type, "timestamp": timestamp, "data": data }).to_string()
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
        let private = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => {
                ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
            }
            Some(url::Host::Ipv6(ip)) => {
                ip.is_loopback() || ip.is_unspecified() || ip.is_unique_local() || ip.is_unicast_link_local()
            }
            Some(url::Host::Domain(name)) => name == "localhost" || name.ends_with(".localhost"),
            None => true,
        };
        if private && !self.webhooks.allow_private {
            return Err(ServiceError::invalid(
                "/url",
                format!("`{url}` is a loopback or private address; endpoints must be public"),
            ));
        }
        let scheme_ok =
            parsed.scheme() == "https" || (parsed.scheme() == "http" && private && self.webhooks.allow_private);
        if !scheme_ok || url.len() > 2048 {
            return Err(ServiceError::invalid("/url", "an endpoint URL is https and at most 2048 bytes".into()));
        }
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

    /// Fan audit events out to the endpoints that want them; `true` while more may be waiting.
    async fn fan_out(&self, report: &mut DispatchReport) -> Result<bool, ServiceError> {
        const BATCH: i64 = 500;
        let (cursor, events) = self.store.audit_after_cursor(BATCH).await?;
        let Some(last) = events.last().map(|e| e.seq) else { return Ok(false) };
        let endpoints = self.store.endpoints(None).await?;
        let mut owners: HashMap<String, Option<PartnerId>> = HashMap::new();
        let mut messages = Vec::new();
        for event in &events {
            let Some(kind) = event_type(&event.action) else { continue };
            let (partner, data) = match event.subject.strip_prefix("listing:") {
                Some(subject) => {
                    let (slug, version) = subject.split_once('@').map_or((subject, None), |(s, v)| (s, Some(v)));
                    if !owners.contains_key(slug) {
                        let owner = self.store.listing(slug).await?.map(|l| l.partner);
                        owners.insert(slug.to_owned(), owner);
                    }
                    let Some(owner) = owners[slug] else { continue };
                    let data = serde_json::json!({
                        "listing": slug, "version": version, "detail": event.detail, "audit_seq": event.seq,
                        "actor": event.actor,
                    });
                    (Some(owner), data)
                }
                // Platform notices go to every partner.
                None => {
                    (None, serde_json::json!({ "detail": event.detail, "audit_seq": event.seq, "actor": event.actor }))
                }
            };
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

    /// Enqueue the deprecation reminders that are due (once each, by message id).
    async fn reminders(&self, report: &mut DispatchReport) -> Result<(), ServiceError> {
        let endpoints = self.store.endpoints(None).await?;
        if !endpoints.iter().any(|e| e.wants("deprecation.reminder")) {
            return Ok(());
        }
        let today = self.today();
        let mut messages = Vec::new();
        for deprecation in self.store.deprecations(None).await? {
            let schedule = deprecation.schedule;
            let left = schedule.days_to_sunset(today);
            if schedule.phase(today) == Phase::Sunset || schedule.announced > today {
                continue;
            }
            // The nearest reminder day not yet passed: one message per threshold.
            let Some(day) = self.webhooks.reminder_days.iter().copied().filter(|d| left <= *d).min() else { continue };
            let (owner, target) = match &deprecation.target {
                DeprecationTarget::Listing { slug, versions } => (
                    self.store.listing(slug).await?.map(|l| l.partner),
                    serde_json::json!({ "listing": slug, "versions": versions.to_string() }),
                ),
                DeprecationTarget::ApiVersion(api) => (None, serde_json::json!({ "api_version": api })),
            };
            let data = serde_json::json!({
                "deprecation": deprecation.id, "target": target, "sunset": schedule.sunset.to_string(),
                "days_to_sunset": left, "reminder": format!("{day} days"),
                "notice": format!("/v1/notices/{}", deprecation.notice_id),
            });
            let payload = envelope("deprecation.reminder", self.clock.now(), data);
            let for_all = matches!(deprecation.target, DeprecationTarget::ApiVersion(_));
            for endpoint in
                endpoints.iter().filter(|e| (for_all || owner == Some(e.partner)) && e.wants("deprecation.reminder"))
            {
                messages.push(NewMessage {
                    endpoint: endpoint.id,
                    msg_id: format!("msg_deprecation_{}_{day}d", deprecation.id),
                    event_type: "deprecation.reminder".into(),
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
    /// (when a [`Sender`] is set).
    pub async fn dispatch_webhooks(&self) -> Result<DispatchReport, ServiceError> {
        let mut report = DispatchReport::default();
        while self.fan_out(&mut report).await? {}
        self.reminders(&mut report).await?;
        let Some(sender) = self.sender.clone() else { return Ok(report) };
        let config = &self.webhooks;
        // A few at a time, so each claimed message is sent well inside its lease even when
        // every send runs into the sender's timeout (10 s); the next pass takes the next few.
        const CLAIM: i64 = 4;
        for message in self.store.claim_due_messages(self.clock.now(), config.lease_secs, CLAIM).await? {
            let started = Instant::now();
            // Signed at the moment it is sent, so the timestamp is fresh for the receiver.
            let (status, error) = send(sender.clone(), &message, self.clock.now()).await;
            let now = self.clock.now();
            let ok = status.is_some_and(|s| (200..300).contains(&s));
            let attempt = message.attempts + 1;
            let outcome = if ok {
                report.delivered += 1;
                AttemptOutcome::Delivered
            } else if attempt >= config.max_attempts {
                report.failed_attempts += 1;
                AttemptOutcome::Failed
            } else {
                report.failed_attempts += 1;
                let shift = u32::try_from(attempt - 1).unwrap_or(u32::MAX).min(30);
                let delay = config.first_backoff_secs.saturating_mul(1_i64 << shift).min(config.max_backoff_secs);
                AttemptOutcome::Retry { next_at: now + delay }
            };
            let error = match (&error, status) {
                (Some(e), _) => Some(e.clone()),
                (None, Some(s)) if !ok => Some(format!("the receiver answered {s}")),
                _ => None,
            };
            let duration = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            self.store.record_attempt(message.id, status, error.as_deref(), duration, &outcome, now).await?;
        }
        Ok(report)
    }

    /// Run [`Service::dispatch_webhooks`] every `period` until `stop` resolves.
    pub async fn run_dispatcher(&self, period: std::time::Duration, stop: impl std::future::Future<Output = ()>) {
        crate::clock::every(period, stop, "dispatching webhooks", || self.dispatch_webhooks()).await;
    }

    /// The same service delivering webhooks with `sender`, configured by `config`.
    pub fn with_webhooks(mut self, sender: Arc<dyn Sender>, config: WebhookConfig) -> Service {
        self.sender = Some(sender);
        self.webhooks = config;
        self
    }
}

/// Sign and send one message off the async threads: the receiver's status, or why none.
async fn send(sender: Arc<dyn Sender>, message: &assay_store::DueMessage, now: i64) -> (Option<u16>, Option<String>) {
    let signature = match sign(&message.secret, &message.msg_id, now, &message.payload) {
        Ok(s) => s,
        Err(e) => return (None, Some(e)),
    };
    let (url, body) = (message.url.clone(), message.payload.clone());
    let headers = vec![
        ("webhook-id", message.msg_id.clone()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", signature),
        ("content-type", "application/json".to_owned()),
    ];
    match tokio::task::spawn_blocking(move || sender.send(&url, &headers, &body)).await {
        Ok(Ok(status)) => (Some(status), None),
        Ok(Err(e)) => (None, Some(e)),
        Err(join) => (None, Some(format!("sending panicked: {join}"))),
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
