//! Per-check cost of assay's host against the floor: a bare wasmtime program that instantiates
//! the same component from an `InstancePre` and calls it. Everything is measured in this one
//! process, interleaved, and reported as ratios, because absolute times on a shared machine
//! drift. Run with `cargo bench -p assay-host --bench per_check`; see BENCHMARKS.md.

#![allow(clippy::unwrap_used)] // test code fails by panicking

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assay_core::Manifest;
use assay_host::platform::PlatformState;
use assay_host::{CheckInput, CheckSpec, Host, HostConfig, ReviewInput, RulePack};
use wasmtime::Config;

mod floor;

use floor::{Floor, pooling};

const RULE: &str = "rule_required_fields.wasm";
const ROUNDS: usize = 7;
const ITERATIONS: usize = 3_000;

/// Median per-iteration time of each contender over interleaved rounds.
fn measure(contenders: &mut [(&str, &mut dyn FnMut() -> usize)]) -> Vec<(String, Duration)> {
    let mut samples: Vec<Vec<Duration>> = contenders.iter().map(|_| Vec::new()).collect();
    for _ in 0..ROUNDS {
        for (i, (_, f)) in contenders.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..ITERATIONS {
                black_box(f());
            }
            samples[i].push(start.elapsed() / ITERATIONS as u32);
        }
    }
    contenders
        .iter()
        .zip(samples)
        .map(|((name, _), mut s)| {
            s.sort();
            (name.to_string(), s[s.len() / 2])
        })
        .collect()
}

fn main() {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/listings/clean/listing.toml"))
            .unwrap();
    let listing = Manifest::parse("listing.toml", &source).unwrap().manifest;
    let input = CheckInput::new(&listing, None);
    let floor_input = floor::input(&listing);
    let bytes = assay_builtin::artifact(RULE);

    let naive_on_demand = Floor::new("floor: on-demand (naive)", &Config::new(), &bytes);
    let naive_pooling = Floor::new("floor: pooling (naive)", &pooling(false), &bytes);
    let tuned = Floor::new("floor: pooling (tuned)", &pooling(true), &bytes);
    // What counting fuel on every check costs (assay always counts it, for replays).
    let mut fueled = pooling(true);
    fueled.consume_fuel(true);
    let tuned_fuel = Floor::new("floor: tuned + fuel counted", &fueled, &bytes);
    let host = Host::new(HostConfig { workers: 1, ..HostConfig::default() }).unwrap();
    let plugin = host.load(&bytes).unwrap();
    let spec = CheckSpec::platform(RULE, Arc::from(bytes.clone()));

    println!("per-check cost of `{RULE}` on examples/listings/clean ({ROUNDS} rounds x {ITERATIONS} checks, median)\n");
    let results = measure(&mut [
        (naive_on_demand.name, &mut || naive_on_demand.check(&floor_input, &Vec::new())),
        (naive_pooling.name, &mut || naive_pooling.check(&floor_input, &Vec::new())),
        (tuned.name, &mut || tuned.check(&floor_input, &Vec::new())),
        (tuned_fuel.name, &mut || tuned_fuel.check(&floor_input, &Vec::new())),
        ("assay Host::run", &mut || host.run(&plugin, &spec, &input, PlatformState::closed()).findings.len()),
        // What `assay check` does for one rule: convert the listing, hand off to the pool, look
        // the plugin up by digest, run, check ids.
        ("assay Host::review (1 check)", &mut || {
            host.review(ReviewInput::new(&listing, None, std::slice::from_ref(&spec))).runs.len()
        }),
    ]);
    let floor = results[2].1.as_secs_f64();
    for (name, t) in &results {
        println!("{name:<28} {:>8.2} µs   {:>5.2}x tuned floor", t.as_secs_f64() * 1e6, t.as_secs_f64() / floor);
    }

    // Compiling vs loading a verified precompiled artifact, over the whole built-in pack.
    let pack = RulePack::from_parts(assay_builtin::PACK_TOML, |name| assay_builtin::file(name).map(Arc::from)).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let config = HostConfig { cache_dir: Some(cache_dir.path().to_owned()), ..HostConfig::default() };
    let compile_start = Instant::now();
    let cold = Host::new(config.clone()).unwrap();
    for component in &pack.components {
        assert!(!cold.load(component).unwrap().from_cache);
    }
    let compile = compile_start.elapsed();
    let load_start = Instant::now();
    let warm = Host::new(config).unwrap();
    for component in &pack.components {
        assert!(warm.load(component).unwrap().from_cache);
    }
    let load = load_start.elapsed();
    println!(
        "\nbuilt-in pack ({} components): compile {:.1} ms, load precompiled {:.1} ms ({:.1}x faster)",
        pack.components.len(),
        compile.as_secs_f64() * 1e3,
        load.as_secs_f64() * 1e3,
        compile.as_secs_f64() / load.as_secs_f64()
    );

    // Each rule on its own, and all of them in turn on one thread.
    let checks = pack.checks();
    let clean_input = CheckInput::new(&listing, None);
    let plugins: Vec<_> = checks.iter().map(|c| warm.load(&c.bytes).unwrap()).collect();
    if std::env::var_os("ASSAY_BENCH_PER_RULE").is_some() {
        for (plugin, spec) in plugins.iter().zip(&checks) {
            let start = Instant::now();
            for _ in 0..500 {
                black_box(warm.run(plugin, spec, &clean_input, PlatformState::closed()));
            }
            println!("  {:<40} {:>8.2} µs", plugin.meta.id, start.elapsed().as_secs_f64() * 1e6 / 500.0);
        }
    }
    let start = Instant::now();
    for _ in 0..200 {
        for (plugin, spec) in plugins.iter().zip(&checks) {
            black_box(warm.run(plugin, spec, &clean_input, PlatformState::closed()));
        }
    }
    println!(
        "every rule of the pack in turn (Host::run, one thread): {:.0} µs per listing",
        start.elapsed().as_secs_f64() * 1e6 / 200.0
    );

    // The example partner integration check: a fresh seeded tenant and 12 platform calls per run.
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/integration-check/listing.toml"))
            .unwrap();
    let example = Manifest::parse("listing.toml", &example).unwrap().manifest;
    let example_input = CheckInput::new(&example, None);
    let scopes: Vec<String> = example.scopes.iter().map(|s| s.name.clone()).collect();
    let check_bytes = assay_builtin::artifact("shop_sync_check.wasm");
    let check = warm.load(&check_bytes).unwrap();
    let check_spec = CheckSpec::partner("shop_sync_check.wasm", Arc::from(check_bytes));
    let limits = warm.limits().clone();
    let platform = || {
        assay_host::platform::PlatformState::new(
            assay_host::platform::DEFAULT_SEED,
            &scopes,
            limits.max_platform_calls,
            limits.max_platform_bytes,
        )
    };
    let calls = warm.run(&check, &check_spec, &example_input, platform()).transcript.len();
    let start = Instant::now();
    for _ in 0..500 {
        black_box(warm.run(&check, &check_spec, &example_input, platform()));
    }
    println!(
        "integration check acme.shop-sync ({calls} platform calls, fresh tenant each run): {:.1} µs per run",
        start.elapsed().as_secs_f64() * 1e6 / 500.0
    );

    // A whole review: every rule of the pack against the clean listing, warm.
    let warm_review = || warm.review(ReviewInput::new(&listing, None, &checks)).runs.len();
    let start = Instant::now();
    for _ in 0..200 {
        black_box(warm_review());
    }
    println!(
        "Host::review, the same {} rules on {} workers: {:.0} µs per listing",
        checks.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        start.elapsed().as_secs_f64() * 1e6 / 200.0
    );
}
