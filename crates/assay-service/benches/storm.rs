//! A re-check storm: every live listing re-checked because a new rule-pack version was
//! published, through the whole service — durable queue, batch claims, the plugin host, verdicts
//! committed with their jobs — against the bare-wasmtime floor measured in the same run.
//!
//! `cargo bench -p assay-service --bench storm` (100,000 listings; `ASSAY_STORM_LISTINGS=N` for
//! another size). SQLite always, PostgreSQL too when `ASSAY_TEST_POSTGRES_URL` names a server.
//! See BENCHMARKS.md.

#![allow(clippy::unwrap_used)] // benchmark code fails by panicking

#[path = "../../assay-host/benches/floor/mod.rs"]
mod floor;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use assay_core::Manifest;
use assay_host::{Host, HostConfig, RulePack};
use assay_service::{PackUpload, Role, Service, ServiceConfig};
use assay_store::{Capability, Store};
use floor::{Floor, pooling};

/// Queue workers in the storm: `ASSAY_STORM_WORKERS`, default 4 (as `assay serve`).
fn workers() -> usize {
    std::env::var("ASSAY_STORM_WORKERS").ok().and_then(|v| v.parse().ok()).unwrap_or(4)
}

/// How long the floor runs, per measurement.
const FLOOR_SECS: f64 = 4.0;

fn builtin() -> RulePack {
    RulePack::from_parts(assay_builtin::PACK_TOML, |name| assay_builtin::file(name).map(Arc::from)).unwrap()
}

/// The example listings that pass validation: the storm cycles through them.
fn examples() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/listings");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path().join("listing.toml");
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        if let Ok(parsed) = Manifest::parse("listing.toml", &text) {
            out.push((parsed.manifest.version.to_string(), text));
        }
    }
    out.sort();
    out
}

/// One rule's floor and its configuration.
type RuleFloor = (Floor, Vec<(String, String)>);

/// Bare-wasmtime checks per second over the whole pack and the example listings, on `threads`
/// threads: each thread runs every rule against every listing, round after round. Each thread
/// has an engine (one pooling allocator) of its own, shared by the pack's rules — nothing
/// shared between threads, the floor at its most favourable; an engine per rule, as with the
/// 20-rule pack, runs out of address space at 34.
fn floor_rate(threads: usize, pack: &RulePack, listings: &[Manifest]) -> f64 {
    let per_thread: Vec<Vec<RuleFloor>> = (0..threads)
        .map(|_| {
            let engine = wasmtime::Engine::new(&pooling(true)).unwrap();
            pack.manifest
                .rules
                .iter()
                .zip(&pack.components)
                .filter(|(rule, _)| rule.enabled)
                .map(|(rule, bytes)| (Floor::on("floor", &engine, bytes), rule.config.clone()))
                .collect()
        })
        .collect();
    let inputs: Vec<_> = listings.iter().map(floor::input).collect();
    let checks = std::sync::atomic::AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for (t, floors) in per_thread.iter().enumerate() {
            let (inputs, checks) = (&inputs, &checks);
            scope.spawn(move || {
                let mut i = t;
                while start.elapsed().as_secs_f64() < FLOOR_SECS {
                    let input = &inputs[i % inputs.len()];
                    for (floor, config) in floors {
                        std::hint::black_box(floor.check(input, config));
                    }
                    checks.fetch_add(floors.len() as u64, Ordering::Relaxed);
                    i += threads;
                }
            });
        }
    });
    checks.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Resident memory now and at its peak, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Storm {
    backend: &'static str,
    listings: usize,
    checks: u64,
    seed: Duration,
    publish: Duration,
    total: Duration,
    rss: Vec<(f64, f64)>,
    peak: f64,
}

async fn storm(backend: &'static str, store: Store, n: usize, examples: &[(String, String)]) -> Storm {
    let partner = store.ensure_partner("bench", "bench", &[Capability::List]).await.unwrap();
    let seeding = Instant::now();
    let manifests: Vec<(String, String, String)> = (0..n)
        .map(|i| {
            let (version, text) = &examples[i % examples.len()];
            let slug = format!("storm-{i:06}");
            (slug.clone(), version.clone(), text.replace("slug = \"acme-stock-sync\"", &format!("slug = \"{slug}\"")))
        })
        .collect();
    for chunk in manifests.chunks(2_000) {
        let rows: Vec<(&str, &str, &str)> =
            chunk.iter().map(|(s, v, m)| (s.as_str(), v.as_str(), m.as_str())).collect();
        store.import_live("bench", partner, &rows).await.unwrap();
    }
    let seed = seeding.elapsed();
    drop(manifests);
    let host = Arc::new(Host::new(HostConfig::default()).unwrap());
    let service = Service::new(store.clone(), host, Arc::new(builtin()), ServiceConfig::default());
    let token = store.create_token("bench", Role::Admin, None).await.unwrap();
    let admin = service.authenticate(&token).await.unwrap();
    // A new version of the built-in pack: every live listing is re-checked with it.
    let manifest = assay_builtin::PACK_TOML.replace("version = \"0.1.0\"", "version = \"0.1.1\"");
    let files = assay_builtin::files();
    // Publishing validates (compiles) every component and enqueues the storm in one transaction;
    // timed on its own, as a running server pays the compiles once.
    let publishing = Instant::now();
    let rollout = service.publish_pack(&admin, PackUpload { manifest, files }).await.unwrap();
    let publish = publishing.elapsed();
    let started = Instant::now();
    assert_eq!(rollout.jobs.total(), n as i64);
    let rules = builtin().checks().len() as u64;
    let done = Arc::new(AtomicBool::new(false));
    // Memory over the storm: (fraction done, RSS MiB), sampled every half second.
    let sampler = {
        let (store, done) = (store.clone(), done.clone());
        let pack = rollout.pack.id;
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while !done.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let counts = store.job_counts(Some((pack, "pack"))).await.unwrap();
                samples.push(((counts.done + counts.dead) as f64 / n as f64, memory().0));
            }
            samples
        })
    };
    let workers: Vec<_> = (0..workers())
        .map(|w| {
            let service = service.clone();
            tokio::spawn(async move {
                let name = format!("bench-{w}");
                while service.work_once(&name).await.unwrap().rechecks > 0 {}
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let total = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let rss = sampler.await.unwrap();
    let report = service.rollout(&admin, "assay-builtin", "0.1.1").await.unwrap();
    assert_eq!((report.jobs.done, report.jobs.dead), (n as i64, 0), "every re-check recorded");
    assert_eq!(report.verdicts.pass + report.verdicts.fail + report.verdicts.error, n as i64);
    store.close().await;
    Storm { backend, listings: n, checks: n as u64 * rules, seed, publish, total, rss, peak: memory().1 }
}

fn print(storm: &Storm, floor_1: f64, floor_2: f64) {
    let rate = storm.checks as f64 / storm.total.as_secs_f64();
    let at = |fraction: f64| {
        storm.rss.iter().find(|(f, _)| *f >= fraction).or(storm.rss.last()).map_or(0.0, |(_, rss)| *rss)
    };
    println!(
        "| {} | {} | {:.1} s | {:.0} | {:.0} | {:.0} | **{:.2}×** | {:.2}× | {:.0} / {:.0} / {:.0} | {:.0} | {:.1} s | {:.1} s |",
        storm.backend,
        storm.listings,
        storm.total.as_secs_f64(),
        rate,
        floor_2,
        floor_1,
        rate / floor_2,
        rate / floor_1,
        at(0.1),
        at(0.5),
        at(0.9),
        storm.peak,
        storm.publish.as_secs_f64(),
        storm.seed.as_secs_f64(),
    );
}

fn main() {
    let n: usize = std::env::var("ASSAY_STORM_LISTINGS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let examples = examples();
    let pack = builtin();
    let listings: Vec<Manifest> =
        examples.iter().map(|(_, text)| Manifest::parse("listing.toml", text).unwrap().manifest).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!(
        "re-check storm: {n} live listings x {} rules, {} workers, {} cores\n",
        pack.checks().len(),
        workers(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "| backend | listings | storm | checks/s | floor, 2 threads | floor, 1 thread | vs 2-thread floor | vs 1-thread floor | RSS MiB at 10/50/90 % | peak RSS MiB | publish | seeding |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let dir = tempfile::tempdir().unwrap();
    let mut backends: Vec<(&'static str, String)> =
        vec![("SQLite", format!("sqlite://{}?mode=rwc", dir.path().join("assay.db").display()))];
    let mut drop_pg = None;
    if let Ok(admin) = std::env::var("ASSAY_TEST_POSTGRES_URL") {
        use sqlx::{Connection as _, Executor as _};
        let name = format!("assay_storm_{}", std::process::id());
        runtime.block_on(async {
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).await.unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
        });
        let (server, _) = admin.rsplit_once('/').unwrap();
        backends.push(("PostgreSQL", format!("{server}/{name}")));
        drop_pg = Some((admin, name));
    }
    for (backend, url) in backends {
        // The floor, measured in this run right before the storm it is compared with.
        let floor_1 = floor_rate(1, &pack, &listings);
        let floor_2 = floor_rate(2, &pack, &listings);
        let store = runtime.block_on(Store::open(&url)).unwrap();
        let result = runtime.block_on(storm(backend, store, n, &examples));
        print(&result, floor_1, floor_2);
    }
    if let Some((admin, name)) = drop_pg {
        use sqlx::{Connection as _, Executor as _};
        runtime.block_on(async {
            let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await.unwrap();
        });
    }
}
