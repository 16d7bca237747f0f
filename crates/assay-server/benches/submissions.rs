//! Submissions → verdicts through the whole service, on loopback, on SQLite and PostgreSQL.
//!
//! `cargo bench -p assay-server --bench submissions` (PostgreSQL when `ASSAY_TEST_POSTGRES_URL`
//! names a server). For each backend: a real `assay_server::router` served by
//! `assay_server::listen::serve` on 127.0.0.1, 4 review workers (`assay serve`'s default), and
//! client threads that each submit a version (multipart, over HTTP) and wait for its verdict —
//! polling every 10 ms (what clients did before the long poll), or with one long poll
//! (`?wait=30s`, what `assay submit` does now) — with 1, 4 and 8 clients. Reported: verdicts per
//! second, p50/p99 submit→verdict latency, where the worker's time went (plugin host vs
//! store), and how busy the store's one writer was (the share of the run it was held, and the
//! time writers waited for it per verdict), from the service's own metrics. The baseline,
//! measured in the same process: the same reviews straight through `Host::review`, no HTTP and
//! no store. `ASSAY_BENCH_CLIENTS=1,8` runs only those long-polling rows;
//! `ASSAY_BENCH_NODES=1,2,4` adds PostgreSQL rows with the 4 workers split over that many nodes
//! (each its own store and service, as `assay worker` processes would be).

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
        "| backend | clients | waiting by | verdicts/s | vs baseline | p50 submit→verdict | p99 | worker time in host | in store | writer busy | writer wait per verdict |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");

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
    for (backend, url) in &backends {
        for (clients, wait) in runs() {
            let run = Run { clients, wait, baseline, nodes: 1 };
            let row = runtime.block_on(bench(url, run, host.clone(), pack.clone(), &template));
            let by = if wait == Wait::Poll { "polling every 10 ms" } else { "long poll" };
            println!("| {backend} | {clients} | {by} | {row}");
        }
    }
    // The same 4 workers split over 1, 2 and 4 nodes on PostgreSQL — each node its own store
    // (pool, writer's turn) and service, as `assay worker` processes on one database would be:
    // whether more nodes add throughput or queue at the audit chain's one lock.
    if let Some((_, url)) = backends.iter().find(|(b, _)| *b == "PostgreSQL")
        && let Ok(list) = std::env::var("ASSAY_BENCH_NODES")
    {
        println!();
        println!(
            "| nodes | clients | verdicts/s | vs baseline | p50 submit→verdict | p99 | worker time in host | in store | writer busy | writer wait per verdict |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for nodes in list.split(',').map(|n| n.trim().parse::<usize>().expect("ASSAY_BENCH_NODES: numbers")) {
            let run = Run { clients: 8, wait: Wait::LongPoll, baseline, nodes };
            let row = runtime.block_on(bench(url, run, host.clone(), pack.clone(), &template));
            println!("| {nodes} | 8 | {row}");
        }
    }
    if let Some((admin, name)) = cleanup {
        runtime.block_on(setup::admin_sql(&admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
    }
}

/// The rows: polling against long polling at 4 clients, and long polling at 1, 4 and 8.
/// `ASSAY_BENCH_CLIENTS=8` (a comma-separated list) runs only those long-polling rows.
fn runs() -> Vec<(usize, Wait)> {
    let all = vec![(4, Wait::Poll), (1, Wait::LongPoll), (4, Wait::LongPoll), (8, Wait::LongPoll)];
    match std::env::var("ASSAY_BENCH_CLIENTS") {
        Ok(list) => {
            list.split(',').map(|n| (n.trim().parse().expect("ASSAY_BENCH_CLIENTS: numbers"), Wait::LongPoll)).collect()
        }
        Err(_) => all,
    }
}

/// One row: how many clients, how they wait, and the baseline rate to compare with.
#[derive(Debug, Clone, Copy)]
struct Run {
    clients: usize,
    wait: Wait,
    baseline: f64,
    /// Nodes the [`WORKERS`] are split over; the first also serves HTTP.
    nodes: usize,
}

async fn bench(url: &str, run: Run, host: Arc<Host>, pack: Arc<RulePack>, template: &str) -> String {
    let Run { clients, wait, baseline, nodes } = run;
    let store = Store::open(url).await.unwrap();
    let partner = store.ensure_partner("bench", "acme", &[Capability::List]).await.unwrap();
    let token = store.create_token("bench", Role::Owner, Some(partner)).await.unwrap();
    let service = Service::new(store.clone(), host.clone(), pack.clone(), ServiceConfig::default());
    let app = assay_server::router(service.clone(), assay_server::ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let limits = assay_server::listen::Limits::default();
    let mut listening = stopped.clone();
    tokio::spawn(assay_server::listen::serve(listener, app, limits, async move {
        drop(listening.wait_for(|s| *s).await);
    }));
    let mut node_services = vec![service.clone()];
    let mut node_stores = Vec::new();
    for _ in 1..nodes {
        let node = Store::open(url).await.unwrap();
        node_stores.push(node.clone());
        node_services.push(Service::new(node, host.clone(), pack.clone(), ServiceConfig::default()));
    }
    for i in 0..WORKERS {
        let (worker, mut stopped) = (node_services[i % nodes].clone(), stopped.clone());
        tokio::spawn(async move { worker.run_worker(async move { drop(stopped.wait_for(|s| *s).await) }).await });
    }

    static ROWS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let row = ROWS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let slug = format!("bench-{row}-{clients}-{wait:?}-{nodes}").to_lowercase();
    let template = template.replace("slug = \"acme-stock-sync\"", &format!("slug = \"{slug}\""));
    let before = (metric("assay_review_host_seconds_sum"), metric("assay_review_store_seconds_sum"));
    let writer_before = (metric("assay_store_write_held_seconds_sum"), metric("assay_store_write_wait_seconds_sum"));
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
    let held_secs = metric("assay_store_write_held_seconds_sum") - writer_before.0;
    let wait_secs = metric("assay_store_write_wait_seconds_sum") - writer_before.1;
    for node in node_stores {
        node.close().await;
    }
    store.close().await;
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let busy = host_secs + store_secs;
    format!(
        "{rate:.0} | {:.2}× | {:.1} ms | {:.1} ms | {:.0} % ({:.2} ms/review) | {:.0} % ({:.2} ms/review) | {:.0} % | {:.2} ms |",
        rate / baseline,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        100.0 * host_secs / busy,
        1e3 * host_secs / latencies.len() as f64,
        100.0 * store_secs / busy,
        1e3 * store_secs / latencies.len() as f64,
        100.0 * held_secs / elapsed.as_secs_f64(),
        1e3 * wait_secs / latencies.len() as f64,
    )
}

/// A value from the process's Prometheus metrics (0 before the first sample).
fn metric(name: &str) -> f64 {
    let text = assay_server::ops::prometheus().render();
    text.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0.0)
}
