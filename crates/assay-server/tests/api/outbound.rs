//! Outbound requests that cannot be turned inward, and what the delivery log tells a partner.
//!
//! Traffic in these tests goes only to 127.0.0.0/8: the refusal of every other range is tested
//! through the classification (`assay_core::address`) and through a connector that records the
//! addresses it is handed instead of connecting to them.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Mutex;
use std::time::Duration;

use assay_core::address::Outbound;
use assay_server::webhooks::{HttpSender, PublicOnly};
use assay_service::{FailureKind, Sender};

use super::*;

fn post(sender: &HttpSender, url: &str) -> Result<u16, assay_service::SendFailure> {
    sender.send(url, &[("content-type", "application/json".to_owned())], "{}")
}

/// A listener on loopback that has not been connected to (it is non-blocking: `accept` says
/// whether anyone came).
fn quiet_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn nobody_came(listener: &TcpListener) -> bool {
    matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Loopback in every disguise — an IPv4-mapped IPv6 literal in both spellings, `localhost`,
/// the short form `127.1`, and a name whose DNS answer is loopback — is refused before any
/// connection is made: the listener never sees one. The same sender allowed local addresses
/// reaches the listener, so the listener would have seen it.
#[test]
fn delivery_to_a_disguised_loopback_is_refused_before_connecting() {
    let (listener, port) = quiet_listener();
    let resolver = PublicOnly::with_lookup(Outbound::default(), move |host_port| {
        let (host, _) = host_port.rsplit_once(':').unwrap();
        match host {
            "hooks.partner.test" => Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]),
            _ => std::net::ToSocketAddrs::to_socket_addrs(host_port).map(Iterator::collect),
        }
    });
    let connector = ureq::unversioned::transport::DefaultConnector::default();
    let sender = HttpSender::with_parts(resolver, connector, Duration::from_secs(2));
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        format!("http://[::ffff:7f00:1]:{port}/hook"),
        format!("https://[::ffff:7f00:1]:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://127.1:{port}/hook"),
        format!("http://hooks.partner.test:{port}/hook"),
    ] {
        let failure = post(&sender, &url).expect_err(&url);
        assert_eq!(failure.kind, FailureKind::NotPublic, "{url}: {}", failure.detail);
        assert!(nobody_came(&listener), "{url} reached the listener");
    }

    // The control: a development sender connects to the same listener.
    let development = HttpSender::new(Outbound { allow_local: true }, Duration::from_secs(2));
    let answered = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let (mut stream, _) = listener.accept().unwrap();
        let mut buffer = [0_u8; 4096];
        let _ = std::io::Read::read(&mut stream, &mut buffer);
        std::io::Write::write_all(&mut stream, b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").unwrap();
    });
    assert_eq!(post(&development, &format!("http://127.0.0.1:{port}/hook")).unwrap(), 204);
    answered.join().unwrap();
}

/// A connector that records the addresses it is handed and connects to none of them.
#[derive(Debug, Clone, Default)]
struct Recording(Arc<Mutex<Vec<SocketAddr>>>);

impl ureq::unversioned::transport::Connector for Recording {
    type Out = ();

    fn connect(
        &self,
        details: &ureq::unversioned::transport::ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<()>, ureq::Error> {
        self.0.lock().unwrap().extend(details.addrs.iter().copied());
        Err(ureq::Error::ConnectionFailed)
    }
}

/// A host name is checked on every address it resolves to, at delivery: one address in a
/// special-purpose range (private, shared, benchmarking, NAT64, IPv4-mapped, documentation)
/// refuses the name, and only a name whose every address is public reaches the connector.
#[test]
fn names_are_checked_on_every_address_they_resolve_to() {
    let answers: Vec<(&str, Vec<IpAddr>)> = vec![
        (
            "public.test",
            vec!["93.184.215.14".parse().unwrap(), "2606:2800:21f:cb07:6820:80da:af6b:8b2c".parse().unwrap()],
        ),
        ("private.test", vec!["10.0.0.7".parse().unwrap()]),
        ("mixed.test", vec!["93.184.215.14".parse().unwrap(), "192.168.1.20".parse().unwrap()]),
        ("shared.test", vec!["100.64.1.1".parse().unwrap()]),
        ("benchmark.test", vec!["198.18.0.1".parse().unwrap()]),
        ("nat64.test", vec!["64:ff9b::a00:7".parse().unwrap()]),
        ("mapped.test", vec!["::ffff:169.254.169.254".parse().unwrap()]),
        ("metadata.test", vec!["169.254.169.254".parse().unwrap()]),
        ("documentation.test", vec!["203.0.113.9".parse().unwrap()]),
        ("unique-local.test", vec!["fd00::1".parse().unwrap()]),
    ];
    let table = answers.clone();
    let resolver = PublicOnly::with_lookup(Outbound::default(), move |host_port| {
        let (host, port) = host_port.rsplit_once(':').unwrap();
        let port: u16 = port.parse().unwrap();
        let (_, ips) = table.iter().find(|(name, _)| *name == host).expect("a name of the table");
        Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
    });
    let recording = Recording::default();
    let sender = HttpSender::with_parts(resolver, recording.clone(), Duration::from_secs(2));
    for (name, ips) in &answers {
        let failure = post(&sender, &format!("https://{name}/hook")).expect_err(name);
        let handed: Vec<SocketAddr> = std::mem::take(&mut *recording.0.lock().unwrap());
        if *name == "public.test" {
            // Public: handed to the connector (which refuses to connect), every address of it.
            assert_eq!(failure.kind, FailureKind::Unreachable, "{name}: {}", failure.detail);
            assert_eq!(handed, ips.iter().map(|ip| SocketAddr::new(*ip, 443)).collect::<Vec<_>>());
        } else {
            assert_eq!(failure.kind, FailureKind::NotPublic, "{name}: {}", failure.detail);
            assert!(handed.is_empty(), "{name}: the connector was handed {handed:?}");
        }
    }
}

/// What a partner reads in the delivery log does not tell a closed port from one that
/// accepts and hangs up, or from one that answers garbage, so the log cannot scan the server's
/// network; the detail goes only to the server's own log.
#[test]
fn partners_read_no_connection_level_detail() {
    let sender = HttpSender::new(Outbound { allow_local: true }, Duration::from_secs(2));
    // A closed port: bind, learn the port, close.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = post(&sender, &format!("http://127.0.0.1:{closed}/hook")).unwrap_err();
    // A port that accepts and closes at once.
    let hangs_up = TcpListener::bind("127.0.0.1:0").unwrap();
    let hang_port = hangs_up.local_addr().unwrap().port();
    let closer = std::thread::spawn(move || {
        let (stream, _) = hangs_up.accept().unwrap();
        drop(stream);
    });
    let reset = post(&sender, &format!("http://127.0.0.1:{hang_port}/hook")).unwrap_err();
    closer.join().unwrap();
    for failure in [&refused, &reset] {
        let told = failure.kind.describe();
        for leak in ["refused", "reset", "127.0.0.1", "os error", "closed"] {
            assert!(!told.contains(leak), "`{told}` tells `{leak}`");
        }
    }
    assert_ne!(refused.detail, "", "operators still get the transport's own words");
}

/// The delivery log of a message to an endpoint that refuses connections says only what a
/// partner may know.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_log_shows_the_partner_only_the_kind_of_failure() {
    use assay_service::WebhookConfig;
    let mut app = app().await;
    let config = WebhookConfig { allow_private: true, ..WebhookConfig::default() };
    let sender = Arc::new(HttpSender::new(Outbound { allow_local: true }, Duration::from_secs(2)));
    app.service = app.service.clone().with_webhooks(sender, config);
    app.router = router(app.service.clone(), ServerConfig::default());
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let created = app
        .call(
            Method::POST,
            "/v1/webhooks",
            Some(&app.acme),
            Some(json!({"url": format!("http://127.0.0.1:{closed}/hook")})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let endpoint = created.body["id"].as_i64().unwrap();
    let queued = app.call(Method::POST, &format!("/v1/webhooks/{endpoint}/test"), Some(&app.acme), None).await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    let report = app.service.dispatch_webhooks().await.unwrap();
    assert_eq!(report.failed_attempts, 1, "{report:?}");
    let log = app.call(Method::GET, &format!("/v1/webhooks/{endpoint}/deliveries"), Some(&app.acme), None).await;
    let error = log.body["deliveries"][0]["error"].as_str().unwrap().to_owned();
    assert_eq!(error, FailureKind::Unreachable.describe(), "{}", log.body);
    let shown = app.call(Method::GET, &format!("/v1/webhooks/{endpoint}"), Some(&app.acme), None).await;
    assert_eq!(shown.body["health"]["status"], "failing", "{}", shown.body);
    assert_eq!(shown.body["health"]["failures_in_a_row"], 1, "{}", shown.body);
    assert_eq!(shown.body["health"]["last_error"], error.as_str(), "{}", shown.body);
}
