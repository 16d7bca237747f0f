//! Submissions → verdicts through the whole service, on loopback, on SQLite and PostgreSQL.
//!
//! `cargo bench -p assay-server --bench submissions` (PostgreSQL when `ASSAY_TEST_POSTGRES_URL`
//! names a server). For each backend: a real `assay_server::router` served by
//! `assay_server::listen::serve` on 127.0.0.1, 4 review workers (`assay serve`'s default), and
//! client threads that each submit a version (multipart, over HTTP) and wait for its verdict —
//! polling every 10 ms (what clients did before the long poll), or with one long poll
//! (`?wait=30s`, what `assay submit` does now) — with 1, 4 and 8 clients. Reported: verdicts per
//! second, p50/p99 submit→verdict latency, and where the worker's time went (plugin host vs
//! store), from the service's own metrics. The baseline, measured in the same process: the same
//! reviews straight through `Host::review`, no HTTP and no store.

#![allow(clippy::unwrap_used)] // a benchmark fails by panicking

mod setup;

use std::sync::Arc;
use std::time::{Duration, Instant};

use assay_host::{Host, ReviewInput, RulePack};
use assay_service::{Capability, Role, Service, ServiceConfig};
use assay_store::Store;

const SUBMISSIONS: usize = 400;
/// Review workers, as `assay serve` runs by default.
const WORKERS: usize = 4;
/// How often a polling client asks whether its verdict is in.
const POLL: Duration = Duration::from_millis(10);

/// How a client waits for its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// `GET` every [`POLL`].
    Poll,
    /// One `GET …?wait=30s`.
    LongPoll,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (host, pack) = setup::host_and_pack();
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/listings/clean/listing.toml"))
            .unwrap();

    // Baseline: the same reviews, host only.
    let listing = assay_core::Manifest::parse("listing.toml", &template).unwrap().manifest;
    let checks = pack.checks();
    for _ in 0..20 {
        host.review(ReviewInput::new(&listing, None, &checks));
    }
    let started = Instant::now();
    for _ in 0..SUBMISSIONS {
        host.review(ReviewInput::new(&listing, None, &checks));
    }
    let baseline = SUBMISSIONS as f64 / started.elapsed().as_secs_f64();
    let rules = checks.len();
    println!("baseline: Host::review of the {rules}-rule pack, no HTTP, no store: {baseline:.0} reviews/s");
    println!();
    println!(
        "| backend | clients | waiting by | verdicts/s | vs baseline | p50 submit→verdict | p99 | worker time in host | in store |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|");

    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![("SQLite", format!("sqlite://{}?mode=rwc", dir.path().join("assay.db").display()))];
    let mut cleanup = None;
    if let Ok(admin) = std::env::var("ASSAY_TEST_POSTGRES_URL") {
        let name = format!("assay_bench_{}", std::process::id());
        runtime.block_on(setup::admin_sql(&admin, &format!("CREATE DATABASE {name}")));
        let (server, _) = admin.rsplit_once('/').unwrap();
        backends.push(("PostgreSQL", format!("{server}/{name}")));
        cleanup = Some((admin, name));
    }
    for (backend, url) in backends {
        for (clients, wait) in [(4, Wait::Poll), (1, Wait::LongPoll), (4, Wait::LongPoll), (8, Wait::LongPoll)] {
            let run = Run { clients, wait, baseline };
            let row = runtime.block_on(bench(&url, run, host.clone(), pack.clone(), &template));
            let by = if wait == Wait::Poll { "polling every 10 ms" } else { "long poll" };
            println!("| {backend} | {clients} | {by} | {row}");
        }
    }
    if let Some((admin, name)) = cleanup {
        runtime.block_on(setup::admin_sql(&admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
    }
}

/// One row: how many clients, how they wait, and the baseline rate to compare with.
#[derive(Debug, Clone, Copy)]
struct Run {
    clients: usize,
    wait: Wait,
    baseline: f64,
}

async fn bench(url: &str, run: Run, host: Arc<Host>, pack: Arc<RulePack>, template: &str) -> String {
    let Run { clients, wait, baseline } = run;
    let store = Store::open(url).await.unwrap();
    let partner = store.ensure_partner("bench", "acme", &[Capability::List]).await.unwrap();
    let token = store.create_token("bench", Role::Owner, Some(partner)).await.unwrap();
    let service = Service::new(store.clone(), host, pack, ServiceConfig::default());
    let app = assay_server::router(service.clone(), assay_server::ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let limits = assay_server::listen::Limits::default();
    let mut listening = stopped.clone();
    tokio::spawn(assay_server::listen::serve(listener, app, limits, async move {
        drop(listening.wait_for(|s| *s).await);
    }));
    for _ in 0..WORKERS {
        let (worker, mut stopped) = (service.clone(), stopped.clone());
        tokio::spawn(async move { worker.run_worker(async move { drop(stopped.wait_for(|s| *s).await) }).await });
    }

    let slug = format!("bench-{clients}-{wait:?}").to_lowercase();
    let template = template.replace("slug = \"acme-stock-sync\"", &format!("slug = \"{slug}\""));
    let before = (metric("assay_review_host_seconds_sum"), metric("assay_review_store_seconds_sum"));
    let (latencies, elapsed) = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let auth = format!("Bearer {token}");
        let created = agent
            .post(format!("{base}/v1/listings"))
            .header("Authorization", &auth)
            .send_json(serde_json::json!({"slug": slug, "name": "Bench"}))
            .unwrap();
        assert_eq!(created.status(), 201);
        let started = Instant::now();
        let threads: Vec<_> = (0..clients)
            .map(|client| {
                let (agent, auth, base, template, slug) =
                    (agent.clone(), auth.clone(), base.clone(), template.clone(), slug.clone());
                std::thread::spawn(move || {
                    let mut latencies = Vec::new();
                    for i in (client..SUBMISSIONS).step_by(clients) {
                        let manifest = template.replace("version = \"1.4.0\"", &format!("version = \"2.0.{i}\""));
                        let t = Instant::now();
                        let form = ureq::unversioned::multipart::Form::new().part(
                            "manifest",
                            ureq::unversioned::multipart::Part::bytes(manifest.as_bytes()).file_name("listing.toml"),
                        );
                        let mut reply = agent
                            .post(format!("{base}/v1/listings/{slug}/versions"))
                            .header("Authorization", &auth)
                            .send(form)
                            .unwrap();
                        assert_eq!(reply.status(), 202, "{}", reply.body_mut().read_to_string().unwrap());
                        let mut path = format!("{base}/v1/listings/{slug}/versions/2.0.{i}");
                        if wait == Wait::LongPoll {
                            path.push_str("?wait=30s");
                        }
                        loop {
                            let v: serde_json::Value = agent
                                .get(&path)
                                .header("Authorization", &auth)
                                .call()
                                .unwrap()
                                .body_mut()
                                .read_json()
                                .unwrap();
                            if v["verdict"].is_string() {
                                break;
                            }
                            if wait == Wait::Poll {
                                std::thread::sleep(POLL);
                            }
                        }
                        latencies.push(t.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        let elapsed = started.elapsed();
        latencies.sort();
        (latencies, elapsed)
    })
    .await
    .unwrap();
    let _ = stop.send(true);
    let host_secs = metric("assay_review_host_seconds_sum") - before.0;
    let store_secs = metric("assay_review_store_seconds_sum") - before.1;
    store.close().await;
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let busy = host_secs + store_secs;
    format!(
        "{rate:.0} | {:.2}× | {:.1} ms | {:.1} ms | {:.0} % ({:.2} ms/review) | {:.0} % ({:.2} ms/review) |",
        rate / baseline,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        100.0 * host_secs / busy,
        1e3 * host_secs / latencies.len() as f64,
        100.0 * store_secs / busy,
        1e3 * store_secs / latencies.len() as f64,
    )
}

/// A value from the process's Prometheus metrics (0 before the first sample).
fn metric(name: &str) -> f64 {
    let text = assay_server::ops::prometheus().render();
    text.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0.0)
}
