//! E-mail, end to end: the service's outbox, the SMTP mailer and a real SMTP server on loopback
//! (aiosmtpd, `tests/smtp/sink.py`), which reports every message it receives — envelope,
//! headers, text and HTML parts — and the unsubscribe page the e-mails link to.
//!
//! The Python that runs the sink (with aiosmtpd installed) comes from `ASSAY_TEST_SMTPD`; CI
//! sets it (`.ci/run`), and under CI the test refuses to skip.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use assay_core::address::Outbound;
use assay_server::email::{SmtpConfig, SmtpMailer, SmtpSecurity};
use assay_service::{Action, EmailConfig};

use super::*;

const SMTPD_VAR: &str = "ASSAY_TEST_SMTPD";

/// A running SMTP sink; it stops when dropped.
pub(super) struct Sink {
    child: Child,
    pub(super) port: u16,
    received: Receiver<Value>,
}

impl Sink {
    pub(super) fn start() -> Option<Sink> {
        let Some(python) = std::env::var_os(SMTPD_VAR) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install aiosmtpd and set {SMTPD_VAR} so e-mail is tested"
            );
            eprintln!("skipping the e-mail test: set {SMTPD_VAR} to a Python with aiosmtpd (see .ci/run)");
            return None;
        };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting the SMTP sink: {e}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the sink says its port").unwrap();
        let port = first.strip_prefix("PORT ").expect("PORT n").parse().unwrap();
        let (tx, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let _ = tx.send(serde_json::from_str::<Value>(&line).unwrap());
            }
        });
        Some(Sink { child, port, received })
    }

    /// Every message that arrives within `wait` of the last one.
    pub(super) fn drain(&self, wait: Duration) -> Vec<Value> {
        let mut all = Vec::new();
        loop {
            match self.received.recv_timeout(wait) {
                Ok(message) => all.push(message),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return all,
            }
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.wait();
    }
}

pub(super) fn mailer(port: u16) -> Arc<SmtpMailer> {
    let config = SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        credentials: None,
        from: "assay <assay@platform.test>".into(),
        timeout: Duration::from_secs(10),
        // The sink is on loopback, which only a relay allowed to be local may be.
        outbound: Outbound { allow_local: true },
    };
    Arc::new(SmtpMailer::new(config).unwrap())
}

pub(super) fn to(message: &Value) -> &str {
    message["rcpt_tos"][0].as_str().unwrap()
}

pub(super) fn header<'a>(message: &'a Value, name: &str) -> &'a str {
    message["headers"][name].as_str().unwrap_or_default()
}

/// A person and a token of theirs.
/// A review and a decision reach the people they concern as e-mail with a text and an HTML
/// part and a one-click unsubscribe link; following it stops the next e-mail of that kind and
/// no other; a relay that is down is retried; invitations and paused endpoints are e-mailed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_arrives_by_email_and_its_unsubscribe_link_stops_the_next() {
    let Some(sink) = Sink::start() else { return };
    let mut app = app().await;
    let config = EmailConfig { public_url: "http://assay.test".into(), first_backoff_secs: 0, ..Default::default() };
    app.service = app.service.clone().with_mailer(mailer(sink.port), config.clone());
    app.router = router(app.service.clone(), ServerConfig::default());
    let ada = person_token(&app.store, "ada@acme.test", "Ada Lovelace", Some("acme"), Role::Owner).await;
    person_token(&app.store, "grace@platform.test", "Grace Hopper", None, Role::Reviewer).await;
    person_token(&app.store, "gus@globex.test", "Gus", Some("globex"), Role::Owner).await;

    // The review finishes: acme's member hears the verdict, the reviewer that it waits.
    let (slug, version) = app.reviewed("clean").await;
    let report = app.service.dispatch_emails().await.unwrap();
    assert_eq!((report.enqueued, report.sent, report.failed_attempts), (2, 2, 0), "{report:?}");
    let mut arrived = sink.drain(Duration::from_secs(2));
    arrived.sort_by(|a, b| to(a).cmp(to(b)));
    let recipients: Vec<&str> = arrived.iter().map(to).collect();
    assert_eq!(recipients, ["ada@acme.test", "grace@platform.test"], "nothing for globex: {arrived:#?}");
    assert!(header(&arrived[0], "subject").contains("the review finished"), "{:#}", arrived[0]);
    assert!(header(&arrived[1], "subject").contains("is waiting for review"), "{:#}", arrived[1]);

    // A reviewer decides, with a note.
    let reviewer = app.service.authenticate(&app.reviewer).await.unwrap();
    let note = "Looks good; the <privacy> section is clear";
    app.service.decide(&reviewer, &slug, &version, Action::Approve, note).await.unwrap();
    assert_eq!(app.service.dispatch_emails().await.unwrap().sent, 1);
    let decision = sink.drain(Duration::from_secs(2)).pop().expect("the decision e-mail");
    assert_eq!(to(&decision), "ada@acme.test");
    assert_eq!(decision["mail_from"], "assay@platform.test");
    assert_eq!(header(&decision, "from"), "assay <assay@platform.test>");
    assert_eq!(header(&decision, "subject"), format!("{slug} {version} was approved"));
    assert_eq!(decision["content_type"], "multipart/alternative", "{decision:#}");
    let (text, html) = (decision["text"].as_str().unwrap(), decision["html"].as_str().unwrap());
    for part in [text, html] {
        assert!(part.contains("Hello Ada Lovelace,"), "{part}");
        assert!(part.contains(&format!("http://assay.test/listings/{slug}/versions/{version}")), "{part}");
        assert!(part.contains("You receive this as a member of acme on assay."), "{part}");
    }
    assert!(text.contains(note), "{text}");
    assert!(html.contains("the &#60;privacy&#62; section"), "{html}");
    // RFC 8058: the header names the link, and says it takes a one-click POST.
    let unsubscribe = header(&decision, "list-unsubscribe");
    assert!(unsubscribe.starts_with("<http://assay.test/unsubscribe/unsub_"), "{unsubscribe}");
    assert!(unsubscribe.ends_with("?kind=decision>"), "{unsubscribe}");
    assert_eq!(header(&decision, "list-unsubscribe-post"), "List-Unsubscribe=One-Click");
    assert!(text.contains(&unsubscribe[1..unsubscribe.len() - 1]), "the text part carries the link too: {text}");
    assert!(!header(&decision, "message-id").is_empty());

    // The link's page names the address and asks; the mail client's one-click POST does it.
    let path = unsubscribe.trim_start_matches("<http://assay.test").trim_end_matches('>');
    let page = app.call(Method::GET, path, None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.body.as_str().unwrap().to_owned();
    assert!(page.contains("ada@acme.test") && page.contains("a reviewer decided"), "{page}");
    let one_click = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    let done = app.send(one_click).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let prefs = app.call(Method::GET, "/v1/me/email-preferences", Some(&ada), None).await;
    let receive = |kind: &str| {
        prefs.body["kinds"].as_array().unwrap().iter().find(|k| k["kind"] == kind).unwrap()["receive"].clone()
    };
    assert_eq!((receive("decision"), receive("verdict")), (json!(false), json!(true)), "{}", prefs.body);
    let forged = app.call(Method::GET, "/unsubscribe/unsub_0000?kind=decision", None, None).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);

    // The next decision is not e-mailed to her; the next verdict is.
    let (slug2, version2) = app.reviewed_manifest(example("clean").replace(&slug, &format!("{slug}-two"))).await;
    app.service.decide(&reviewer, &slug2, &version2, Action::Reject, "plain http").await.unwrap();
    app.service.dispatch_emails().await.unwrap();
    let next: Vec<Value> = sink.drain(Duration::from_secs(2));
    let to_ada: Vec<&str> = next.iter().filter(|m| to(m) == "ada@acme.test").map(|m| header(m, "subject")).collect();
    assert_eq!(to_ada.len(), 1, "the verdict only: {to_ada:?}");
    assert!(to_ada[0].contains("the review finished"), "{to_ada:?}");

    // Preferences through the API: an unknown kind is refused by name; a service account has none.
    let bad = app.call(Method::PUT, "/v1/me/email-preferences", Some(&ada), Some(json!({"opted_out": ["spam"]}))).await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(bad.body["errors"].to_string().contains("`spam` is not a kind of e-mail"), "{}", bad.body);
    let account = app.call(Method::GET, "/v1/me/email-preferences", Some(&app.acme), None).await;
    assert_problem(&account, StatusCode::FORBIDDEN, "forbidden");

    // The relay is down: the attempt is logged and the e-mail waits; the next pass sends it.
    let down = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        closed.local_addr().unwrap().port()
    };
    let broken = app.service.clone().with_mailer(mailer(down), config.clone());
    let invite = app
        .call(
            Method::POST,
            "/v1/organisations/acme/invitations",
            Some(&ada),
            Some(json!({"email": "new@acme.test", "role": "developer"})),
        )
        .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{}", invite.body);
    let failed = broken.dispatch_emails().await.unwrap();
    assert_eq!((failed.sent, failed.failed_attempts), (0, 1), "{failed:?}");
    assert!(sink.drain(Duration::from_millis(500)).is_empty());
    let retried = app.service.dispatch_emails().await.unwrap();
    assert_eq!(retried.sent, 1, "{retried:?}");
    let invitation = sink.drain(Duration::from_secs(2)).pop().expect("the invitation");
    assert_eq!(to(&invitation), "new@acme.test");
    assert!(header(&invitation, "subject").contains("join acme"), "{invitation:#}");
    assert!(invitation["text"].as_str().unwrap().contains("http://assay.test/invitations/"), "{invitation:#}");
    assert_eq!(header(&invitation, "list-unsubscribe"), "", "an invitation goes to an address, not a subscriber");

    // An endpoint that kept failing is paused by the dispatcher: its owners are told.
    let endpoint =
        app.call(Method::POST, "/v1/webhooks", Some(&ada), Some(json!({"url": "https://hooks.acme.test/assay"}))).await;
    let endpoint = endpoint.body["id"].as_i64().unwrap();
    let now = app.service.now();
    let message = assay_store::NewMessage {
        endpoint,
        msg_id: "msg_pause".into(),
        event_type: "webhook.test".into(),
        payload: "{}".into(),
    };
    app.store.enqueue_messages(&[message], now).await.unwrap();
    let policy = assay_store::HealthPolicy { max_endpoint_backoff_secs: 1, pause_after_secs: 60 };
    for at in [now, now + 61] {
        let due = app.store.claim_due_messages(at, 1, 1, 1, &Default::default()).await.unwrap();
        let fail = assay_store::Attempt {
            message: due[0].id,
            endpoint,
            status: Some(503),
            error: Some("the receiver answered 503".into()),
            duration_ms: 1,
            outcome: assay_store::AttemptOutcome::Retry { next_at: at + 2 },
        };
        app.store.record_attempts(&[fail], at, policy).await.unwrap();
    }
    app.service.dispatch_emails().await.unwrap();
    let paused = sink.drain(Duration::from_secs(2));
    assert_eq!(paused.iter().map(to).collect::<Vec<_>>(), ["ada@acme.test"], "{paused:#?}");
    assert_eq!(header(&paused[0], "subject"), format!("Webhook endpoint {endpoint} was paused"));
    assert!(paused[0]["text"].as_str().unwrap().contains("503"), "{:#}", paused[0]);
}
