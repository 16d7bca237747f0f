//! Webhook delivery: throughput to one fast receiver, and fairness when another endpoint hangs.
//!
//! `cargo bench -p assay-server --bench webhooks`. Everything is on 127.0.0.1, on SQLite.
//!
//! 1. **Throughput.** A receiver on loopback (axum, answers 204 at once). The baseline, in the
//!    same process: the receiver's own capacity, measured as `HttpSender` posting the same
//!    signed messages straight at it from as many threads as the dispatcher keeps sends in
//!    flight (no store). Then `MESSAGES` messages wait in the outbox and `Service::run_dispatcher`
//!    (as `assay serve` runs it) delivers them: claim with leases, sign, send, record every
//!    attempt. Reported: messages/s and the ratio to the baseline.
//! 2. **Fairness.** One endpoint accepts connections and never answers (every send times out),
//!    with `SLOW_BACKLOG` messages waiting; once its sends are hanging, `FAST` messages are
//!    enqueued for a second, fast endpoint. Reported: how long each fast message took from
//!    enqueue to arrival (the target is under 2 s for all of them).

#![allow(clippy::unwrap_used)] // a benchmark fails by panicking

#[allow(dead_code)] // the PostgreSQL helpers serve the other benches
mod setup;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use assay_core::address::Outbound;
use assay_server::webhooks::HttpSender;
use assay_service::{Capability, Sender, Service, ServiceConfig, WebhookConfig};
use assay_store::{NewMessage, Store};

const MESSAGES: usize = 2_000;
const SLOW_BACKLOG: usize = 300;
const FAST: usize = 50;
/// `assay serve`'s defaults: fan-out every second, 10 s send timeout.
const PERIOD: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(10);

/// A receiver that counts what it gets and notes when each message (by `webhook-id`) arrived.
#[derive(Clone, Default)]
struct Receiver {
    count: Arc<AtomicUsize>,
    arrivals: Arc<std::sync::Mutex<Vec<(String, Instant)>>>,
}

async fn start_receiver() -> (Receiver, String) {
    let receiver = Receiver::default();
    let state = receiver.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, _body: String| {
            let state = state.clone();
            async move {
                let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                state.arrivals.lock().unwrap().push((id, Instant::now()));
                state.count.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (receiver, url)
}

/// An endpoint that accepts connections and never answers: every send to it times out.
fn start_black_hole() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    url
}

fn messages(endpoint: i64, prefix: &str, n: usize) -> Vec<NewMessage> {
    (0..n)
        .map(|i| NewMessage {
            endpoint,
            msg_id: format!("msg_{prefix}_{i}"),
            event_type: "webhook.test".into(),
            payload: format!(r#"{{"type":"webhook.test","timestamp":"2026-12-06T00:00:00Z","data":{{"n":{i}}}}}"#),
        })
        .collect()
}

async fn wait_until(what: &str, deadline: Duration, done: impl Fn() -> bool) {
    let until = Instant::now() + deadline;
    while !done() {
        assert!(Instant::now() < until, "{what} did not happen within {deadline:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(run());
    // The black hole's last sends are still waiting out their timeouts.
    runtime.shutdown_background();
}

async fn run() {
    let (host, pack) = setup::host_and_pack();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let partner = store.ensure_partner("bench", "acme", &[Capability::List]).await.unwrap();
    let config = WebhookConfig { allow_private: true, ..WebhookConfig::default() };
    let sender = Arc::new(HttpSender::new(Outbound { allow_local: true }, TIMEOUT));
    let service =
        Service::new(store.clone(), host, pack, ServiceConfig::default()).with_webhooks(sender.clone(), config.clone());
    let (fast, fast_url) = start_receiver().await;

    // The baseline: the receiver's capacity from `concurrency` threads, no store.
    let direct = {
        let per_thread = MESSAGES / config.concurrency;
        let started = Instant::now();
        let threads: Vec<_> = (0..config.concurrency)
            .map(|t| {
                let (sender, url) = (sender.clone(), fast_url.clone());
                std::thread::spawn(move || {
                    for i in 0..per_thread {
                        let id = format!("msg_direct_{t}_{i}");
                        let signature =
                            assay_service::webhooks::sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &id, 0, "{}")
                                .unwrap();
                        let headers =
                            [("webhook-id", id), ("webhook-timestamp", "0".into()), ("webhook-signature", signature)];
                        assert_eq!(sender.send(&url, &headers, "{}").unwrap(), 204);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        (per_thread * config.concurrency) as f64 / started.elapsed().as_secs_f64()
    };
    fast.count.store(0, Ordering::SeqCst);
    fast.arrivals.lock().unwrap().clear();

    // 1. Throughput through the outbox.
    let endpoint = store
        .create_endpoint("bench", partner, &fast_url, &["*".into()], "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .await
        .unwrap();
    store.enqueue_messages(&messages(endpoint.id, "throughput", MESSAGES), service.now()).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let dispatcher = service.clone();
    let running = tokio::spawn(async move {
        dispatcher
            .run_dispatcher(PERIOD, async {
                let _ = stopped.await;
            })
            .await;
    });
    let started = Instant::now();
    wait_until("every message arriving", Duration::from_secs(120), || fast.count.load(Ordering::SeqCst) >= MESSAGES)
        .await;
    let arrived = started.elapsed();
    loop {
        let (pending, delivered, failed) = store.message_counts(endpoint.id).await.unwrap();
        assert_eq!(failed, 0);
        if delivered as usize == MESSAGES && pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let recorded = started.elapsed();
    let rate = MESSAGES as f64 / arrived.as_secs_f64();
    assert_eq!(fast.count.load(Ordering::SeqCst), MESSAGES, "each message once");

    // 2. Fairness: a black hole with a backlog, then a fast endpoint's messages.
    let hole = store
        .create_endpoint("bench", partner, &start_black_hole(), &["*".into()], "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .await
        .unwrap();
    store.enqueue_messages(&messages(hole.id, "slow", SLOW_BACKLOG), service.now()).await.unwrap();
    // Let the black hole's sends start hanging (the next fan-out tick claims them).
    tokio::time::sleep(PERIOD + Duration::from_millis(500)).await;
    fast.arrivals.lock().unwrap().clear();
    let before = fast.count.load(Ordering::SeqCst);
    let enqueued = Instant::now();
    store.enqueue_messages(&messages(endpoint.id, "fair", FAST), service.now()).await.unwrap();
    wait_until("the fast endpoint's messages arriving", Duration::from_secs(60), || {
        fast.count.load(Ordering::SeqCst) >= before + FAST
    })
    .await;
    let mut latencies: Vec<Duration> =
        fast.arrivals.lock().unwrap().iter().map(|(_, at)| at.duration_since(enqueued)).collect();
    latencies.sort();
    let (hole_pending, _, _) = store.message_counts(hole.id).await.unwrap();
    let _ = stop.send(());
    running.await.unwrap();

    println!(
        "webhook delivery on SQLite, loopback, {} sends in flight at most ({} per endpoint)",
        config.concurrency, config.endpoint_concurrency
    );
    println!();
    println!("| measure | figure |");
    println!("|---|---:|");
    println!(
        "| baseline: the receiver's capacity, `HttpSender` from {} threads, no store | {direct:.0} messages/s |",
        config.concurrency
    );
    println!(
        "| outbox → `run_dispatcher` → receiver, {MESSAGES} messages, all arrived | {rate:.0} messages/s ({:.2}× the baseline) |",
        rate / direct
    );
    println!("| … and every attempt recorded | {:.0} messages/s |", MESSAGES as f64 / recorded.as_secs_f64());
    println!(
        "| fairness: {FAST} messages to a fast endpoint while another times out on every send ({SLOW_BACKLOG} waiting, {hole_pending} still pending) | p50 {:.0} ms, max {:.0} ms from enqueue to arrival |",
        latencies[latencies.len() / 2].as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0
    );
    assert!(*latencies.last().unwrap() < Duration::from_secs(2), "a hanging endpoint held up another: {latencies:?}");
}
