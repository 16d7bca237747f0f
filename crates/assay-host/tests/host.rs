//! The host against real components built from `plugins/`: honest rules, every hostile
//! fixture, malformed files, and the precompiled-artifact cache.

#![allow(clippy::unwrap_used)] // test code fails by panicking

use std::sync::Arc;
use std::time::Duration;

use assay_core::{CheckOutcome, CheckRun, Manifest, Severity};
use assay_host::{CheckSpec, Host, HostConfig, Limits, ReviewInput};

const LISTING: &str = r#"
slug = "acme-stock-sync"
name = "Acme Stock Sync"
version = "1.2.0"
summary = "TODO"
description = "Syncs inventory."
category = "inventory"
api-version = "2026-07"

[pricing]
model = "free"

[[scopes]]
name = "read_products"
justification = "Reads stock levels to compare warehouses."
"#;

fn manifest() -> Manifest {
    Manifest::parse("listing.toml", LISTING).unwrap().manifest
}

fn spec(name: &str, bytes: Vec<u8>) -> CheckSpec {
    CheckSpec::platform(name, Arc::from(bytes))
}

fn fixture(name: &str) -> CheckSpec {
    spec(name, assay_builtin::artifact(name))
}

fn host_with(limits: Limits) -> Host {
    Host::new(HostConfig { limits, ..HostConfig::default() }).unwrap()
}

fn review(host: &Host, checks: &[CheckSpec]) -> Vec<CheckRun> {
    let listing = manifest();
    host.review(ReviewInput::new(&listing, None, checks)).runs
}

/// Run `hostile` beside an honest rule; assert the classification and that the honest rule
/// still reported its finding.
fn check_contained(limits: Limits, hostile: CheckSpec, expect: CheckOutcome, message: &str) {
    let host = host_with(limits);
    let runs = review(&host, &[fixture("rule_required_fields.wasm"), hostile]);
    let honest = &runs[0];
    assert_eq!(honest.outcome, CheckOutcome::Findings, "{honest:?}");
    assert!(honest.findings.iter().any(|f| f.pointer == "/summary"), "{honest:?}");
    let run = &runs[1];
    assert_eq!(run.outcome, expect, "{run:?}");
    let text = run.message.as_deref().unwrap_or_default();
    assert!(text.contains(message), "message {text:?} lacks {message:?}");
    // The host survives: it can still run the honest rule afterwards.
    assert_eq!(review(&host, &[fixture("rule_required_fields.wasm")])[0].outcome, CheckOutcome::Findings);
}

#[test]
fn honest_rule_reports_findings_with_metadata() {
    let host = host_with(Limits::default());
    let plugin = host.load(&assay_builtin::artifact("rule_required_fields.wasm")).unwrap();
    assert_eq!(plugin.meta.id, "listing.required-fields");
    assert_eq!(plugin.meta.default_severity, Severity::Error);
    let runs = review(&host, &[fixture("rule_required_fields.wasm")]);
    let run = &runs[0];
    assert_eq!(run.check_id, "listing.required-fields");
    let pointers: Vec<_> = run.findings.iter().map(|f| f.pointer.as_str()).collect();
    assert_eq!(pointers, ["/summary", "/description"]);
    assert!(run.findings.iter().all(|f| f.remediation.is_some() && f.severity == Severity::Error));
    assert!(run.usage.peak_memory > 0 && run.usage.output_bytes > 0, "{:?}", run.usage);
}

#[test]
fn infinite_loop_times_out() {
    let limits = Limits { wall_time: Duration::from_millis(200), ..Limits::default() };
    check_contained(limits, fixture("hostile_loop.wasm"), CheckOutcome::TimedOut, "wall-time limit of 200ms");
}

#[test]
fn infinite_loop_runs_out_of_fuel_when_fuel_is_set() {
    let limits = Limits { fuel: Some(5_000_000), ..Limits::default() };
    check_contained(limits, fixture("hostile_loop.wasm"), CheckOutcome::TimedOut, "fuel budget of 5000000");
}

#[test]
fn memory_bomb_is_out_of_memory() {
    let limits = Limits { max_memory_bytes: 16 << 20, ..Limits::default() };
    check_contained(limits, fixture("hostile_memory.wasm"), CheckOutcome::OutOfMemory, "the limit is 16.0 MiB");
}

#[test]
fn unbounded_recursion_is_a_stack_overflow() {
    // Rust keeps its frames on a shadow stack in linear memory (64 KiB here): recursion runs off
    // its bottom before the wasm stack limit, and the message says what that usually means.
    check_contained(
        Limits::default(),
        fixture("hostile_recursion.wasm"),
        CheckOutcome::Trapped,
        "usually a stack overflow",
    );
}

#[test]
fn recursion_on_the_wasm_stack_is_a_stack_overflow() {
    check_contained(
        Limits::default(),
        spec("recursion.wasm", wat_component("recursion.wat")),
        CheckOutcome::Trapped,
        "stack overflow (the wasm stack limit is 512 KiB)",
    );
}

#[test]
fn sleeping_is_refused_instead_of_blocking_the_host() {
    // With WASI's real timers this would hold its worker for a day, past any epoch deadline.
    check_contained(
        Limits::default(),
        fixture("hostile_sleep.wasm"),
        CheckOutcome::Trapped,
        "tried to sleep or wait on a clock",
    );
}

#[test]
fn calling_exit_is_classified() {
    check_contained(
        Limits::default(),
        fixture("hostile_exit.wasm"),
        CheckOutcome::Trapped,
        "called exit(0) instead of returning",
    );
}

#[test]
fn a_second_check_with_the_same_rule_id_is_refused() {
    let host = host_with(Limits::default());
    let mut impostor = fixture("rule_required_fields.wasm");
    impostor.platform = false;
    let runs = review(&host, &[fixture("rule_required_fields.wasm"), impostor]);
    assert_eq!(runs[0].outcome, CheckOutcome::Findings);
    assert_eq!(runs[1].outcome, CheckOutcome::InvalidPlugin);
    assert!(runs[1].message.as_deref().unwrap().contains("rule id `listing.required-fields` is already used"));
}

#[test]
fn huge_return_value_is_output_too_large() {
    check_contained(
        Limits::default(),
        fixture("hostile_huge_output.wasm"),
        CheckOutcome::OutputTooLarge,
        "4000 findings",
    );
}

#[test]
fn trap_is_classified() {
    check_contained(Limits::default(), fixture("hostile_trap.wasm"), CheckOutcome::Trapped, "unreachable");
}

#[test]
fn panic_message_reaches_the_report() {
    check_contained(
        Limits::default(),
        fixture("hostile_panic.wasm"),
        CheckOutcome::Trapped,
        "deliberate panic while reading 1001 scopes",
    );
}

#[test]
fn log_flood_is_stopped() {
    check_contained(
        Limits::default(),
        fixture("hostile_log_flood.wasm"),
        CheckOutcome::OutputTooLarge,
        "logged more than 65536 bytes",
    );
}

#[test]
fn wrong_world_is_invalid() {
    check_contained(
        Limits::default(),
        fixture("hostile_wrong_world.wasm"),
        CheckOutcome::InvalidPlugin,
        "exports: greet",
    );
}

#[test]
fn core_module_is_invalid() {
    let module = wat::parse_str("(module (func (export \"check\")))").unwrap();
    check_contained(
        Limits::default(),
        spec("core.wasm", module),
        CheckOutcome::InvalidPlugin,
        "core WebAssembly module, not a component",
    );
}

#[test]
fn random_bytes_are_invalid() {
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    check_contained(
        Limits::default(),
        spec("random.wasm", bytes),
        CheckOutcome::InvalidPlugin,
        "not a WebAssembly component",
    );
}

#[test]
fn truncated_component_fails_to_compile() {
    let mut bytes = assay_builtin::artifact("rule_required_fields.wasm");
    bytes.truncate(bytes.len() / 2);
    check_contained(Limits::default(), spec("truncated.wasm", bytes), CheckOutcome::InvalidPlugin, "failed to compile");
}

#[test]
fn oversized_file_is_refused_before_compiling() {
    let limits = Limits { max_component_bytes: 1 << 20, ..Limits::default() };
    let mut bytes = assay_builtin::artifact("rule_required_fields.wasm");
    bytes.resize(2 << 20, 0);
    check_contained(
        limits,
        spec("big.wasm", bytes),
        CheckOutcome::InvalidPlugin,
        "the limit for a component is 1048576 bytes",
    );
}

#[test]
fn a_partners_failing_check_fails_the_verdict_not_errors_it() {
    let host = host_with(Limits::default());
    let mut partner = fixture("hostile_trap.wasm");
    partner.platform = false;
    let runs = review(&host, &[partner]);
    assert_eq!(assay_core::Verdict::decide(&runs, Severity::Error), assay_core::Verdict::Fail);
    let runs = review(&host, &[fixture("hostile_trap.wasm")]);
    assert_eq!(assay_core::Verdict::decide(&runs, Severity::Error), assay_core::Verdict::Error);
}

#[test]
fn pack_severity_overrides_the_rules_own() {
    let host = host_with(Limits::default());
    let mut check = fixture("rule_required_fields.wasm");
    check.severity = Some(Severity::Info);
    let runs = review(&host, &[check]);
    assert!(runs[0].findings.iter().all(|f| f.severity == Severity::Info));
}

#[test]
fn guests_see_a_fixed_clock_and_seeded_randomness() {
    let observe = || {
        let host = host_with(Limits::default());
        let runs = review(&host, &[fixture("hostile_clock.wasm")]);
        assert_eq!(runs[0].outcome, CheckOutcome::Findings, "{:?}", runs[0]);
        runs[0].findings[0].message.clone()
    };
    let first = observe();
    let wall = assay_host::sandbox::FIXED_WALL_CLOCK.as_secs();
    assert!(first.starts_with(&format!("wall={wall} elapsed=0 hash=")), "{first}");
    // A new host, a new store, the same randomness.
    assert_eq!(observe(), first);
}

#[test]
fn runs_are_deterministic() {
    let host = host_with(Limits::default());
    let checks = [fixture("rule_required_fields.wasm"), fixture("hostile_panic.wasm")];
    let strip = |runs: Vec<CheckRun>| {
        runs.into_iter().map(|r| (r.outcome, r.message, r.findings, r.usage.peak_memory)).collect::<Vec<_>>()
    };
    assert_eq!(strip(review(&host, &checks)), strip(review(&host, &checks)));
}

/// A hand-written core module from `plugins/hostile-wat/` wrapped into a `listing-rule@0.1.0` component.
fn wat_component(file: &str) -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut module = wat::parse_file(root.join("plugins/hostile-wat").join(file)).unwrap();
    // The fixtures are written against the released 0.1.0 (which also proves 0.1.0 still runs).
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_file(root.join("tests/frozen/assay-plugin@0.1.0.wit")).unwrap();
    let world = resolve.select_world(&[pkg], Some("listing-rule")).unwrap();
    wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8).unwrap();
    wit_component::ComponentEncoder::default().module(&module).unwrap().validate(true).encode().unwrap()
}

#[test]
fn memory_bomb_across_several_memories_is_out_of_memory() {
    // Each of the three memories grows to 25 MiB, under any per-memory limit; the total is not.
    check_contained(
        Limits::default(),
        spec("multi-memory.wasm", wat_component("multi-memory.wat")),
        CheckOutcome::OutOfMemory,
        "(summed over all memories); the limit is 64.0 MiB",
    );
    // Under a larger total limit the same component runs to completion: the limit is what stops it.
    let host = host_with(Limits { max_memory_bytes: 128 << 20, ..Limits::default() });
    let runs = review(&host, &[spec("multi-memory.wasm", wat_component("multi-memory.wat"))]);
    assert_eq!(runs[0].outcome, CheckOutcome::Passed, "{:?}", runs[0]);
    assert!(runs[0].usage.peak_memory >= 75 << 20, "{:?}", runs[0].usage);
}

/// wasmtime limits memories one at a time; the limiter must sum them. A real module with three
/// memories, each under any per-memory limit, grows past the total.
#[test]
fn memory_is_limited_in_total_across_several_memories() {
    use wasmtime::{Module, Store};
    let limits = Limits { max_memory_bytes: 8 << 20, ..Limits::default() };
    let host = host_with(limits.clone());
    let wasm = wat::parse_str(
        r#"(module
            (memory $a 1) (memory $b 1) (memory $c 1)
            (func (export "grow") (result i32)
              ;; 48 pages = 3 MiB each: every memory alone is under the 8 MiB limit
              (drop (memory.grow $a (i32.const 48)))
              (drop (memory.grow $b (i32.const 48)))
              (memory.grow $c (i32.const 48))))"#,
    )
    .unwrap();
    let module = Module::new(host.engine(), wasm).unwrap();
    let mut store = Store::new(host.engine(), assay_host::sandbox::Sandbox::new(&limits));
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(1_000);
    store.set_fuel(u64::MAX).unwrap(); // the engine always counts fuel
    let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance.get_typed_func::<(), i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, ()).unwrap(), -1, "the third memory's growth must be refused");
    assert!(store.data().limiter.hit.is_some());
    assert_eq!(store.data().limiter.peak_memory, (3 * 64 + 2 * 48 * 64) << 10);
}

mod cache {
    use super::*;

    fn host_in(dir: &std::path::Path) -> Host {
        Host::new(HostConfig { cache_dir: Some(dir.to_owned()), ..HostConfig::default() }).unwrap()
    }

    #[test]
    fn restart_loads_the_precompiled_artifact() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = assay_builtin::artifact("rule_required_fields.wasm");
        assert!(!host_in(dir.path()).load(&bytes).unwrap().from_cache);
        let plugin = host_in(dir.path()).load(&bytes).unwrap();
        assert!(plugin.from_cache);
        assert_eq!(plugin.meta.id, "listing.required-fields");
    }

    #[test]
    fn corrupt_artifact_is_discarded_and_recompiled() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = assay_builtin::artifact("rule_required_fields.wasm");
        host_in(dir.path()).load(&bytes).unwrap();
        let artifact = walk(dir.path()).into_iter().find(|p| p.extension().is_some_and(|e| e == "cwasm")).unwrap();
        let mut data = std::fs::read(&artifact).unwrap();
        let middle = data.len() / 2;
        data[middle] ^= 0xFF;
        std::fs::write(&artifact, &data).unwrap();
        let plugin = host_in(dir.path()).load(&bytes).unwrap();
        assert!(!plugin.from_cache, "a corrupt artifact must not be loaded");
        // ... and the rewritten artifact is good again.
        assert!(host_in(dir.path()).load(&bytes).unwrap().from_cache);
        // A truncated one too.
        std::fs::write(&artifact, &data[..10]).unwrap();
        assert!(!host_in(dir.path()).load(&bytes).unwrap().from_cache);
    }

    #[test]
    fn an_artifact_under_another_components_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = assay_builtin::artifact("rule_urls_https.wasm");
        let b = assay_builtin::artifact("rule_required_fields.wasm");
        let host = host_in(dir.path());
        host.load(&a).unwrap();
        host.load(&b).unwrap();
        let artifacts: Vec<_> =
            walk(dir.path()).into_iter().filter(|p| p.extension().is_some_and(|e| e == "cwasm")).collect();
        assert_eq!(artifacts.len(), 2);
        let name = |bytes: &[u8]| format!("{}.cwasm", assay_host::PluginDigest::of(bytes).to_hex());
        let path_of = |bytes: &[u8]| artifacts.iter().find(|p| p.ends_with(name(bytes))).unwrap().clone();
        // A well-formed artifact, but A's, placed where B's belongs.
        std::fs::copy(path_of(&a), path_of(&b)).unwrap();
        let plugin = host_in(dir.path()).load(&b).unwrap();
        assert!(!plugin.from_cache, "A's artifact must not be loaded as B");
        assert_eq!(plugin.meta.id, "listing.required-fields");
    }

    #[test]
    fn a_refused_component_leaves_no_artifact() {
        let dir = tempfile::tempdir().unwrap();
        let host = host_in(dir.path());
        // It compiles, then fails the world check; a panicking `describe` fails after linking.
        for name in ["hostile_wrong_world.wasm", "hostile_panic.wasm"] {
            let bytes = assay_builtin::artifact(name);
            let loaded = host.load(&bytes);
            if name == "hostile_wrong_world.wasm" {
                assert!(loaded.is_err(), "{name} must be refused");
            }
            let kept = walk(dir.path()).into_iter().any(|p| p.extension().is_some_and(|e| e == "cwasm"));
            assert_eq!(kept, loaded.is_ok(), "{name}: an artifact is kept exactly when the component loads");
        }
    }

    #[test]
    fn a_component_that_compiles_too_slowly_is_refused_and_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits { max_compile_time: Duration::ZERO, ..Limits::default() };
        let host =
            Host::new(HostConfig { limits, cache_dir: Some(dir.path().to_owned()), ..HostConfig::default() }).unwrap();
        let bytes = assay_builtin::artifact("rule_required_fields.wasm");
        let error = host.load(&bytes).unwrap_err();
        assert_eq!(error, assay_host::LoadError::CompileTooSlow { limit: Duration::ZERO });
        assert!(error.to_string().starts_with("compiling the component took longer than the limit of 0 s"), "{error}");
        assert!(walk(dir.path()).iter().all(|p| p.extension().is_none_or(|e| e != "cwasm")), "nothing is kept");
        // Refused again, not served from a cache, the second time.
        assert!(host.load(&bytes).is_err());
    }

    #[test]
    fn another_engine_configuration_does_not_reuse_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = assay_builtin::artifact("rule_required_fields.wasm");
        host_in(dir.path()).load(&bytes).unwrap();
        // An engine that compiles differently (here: without fuel counting) has its own directory.
        let mut config = assay_host::host::engine_config(&Limits::default(), 4);
        config.consume_fuel(false);
        let other = wasmtime::Engine::new(&config).unwrap();
        let cache = assay_host::cache::ArtifactCache::open(dir.path(), &other).unwrap();
        let digest = assay_host::PluginDigest::of(&bytes);
        assert!(cache.load(&other, &digest).0.is_none(), "an artifact of another configuration was offered");
        let dirs = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(dirs, 2, "each engine configuration has its own directory");
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
        }
        out
    }
}

/// Integration checks (world `integration-check`) against the sandbox platform.
mod integration {
    use assay_core::integration::{CallOutcome, REFUSED_CALL, UNUSED_SCOPE};

    use super::*;

    /// The example partner check's own listing (`examples/integration-check/listing.toml`).
    fn example_listing(edit: impl FnOnce(String) -> String) -> Manifest {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let text = std::fs::read_to_string(root.join("examples/integration-check/listing.toml")).unwrap();
        Manifest::parse("listing.toml", &edit(text)).unwrap().manifest
    }

    fn example_check() -> CheckSpec {
        CheckSpec::partner("shop_sync_check.wasm", Arc::from(assay_builtin::artifact("shop_sync_check.wasm")))
    }

    fn run_example(listing: &Manifest) -> Vec<CheckRun> {
        let host = host_with(Limits::default());
        host.review(ReviewInput::new(listing, None, &[example_check()])).runs
    }

    fn run<'a>(runs: &'a [CheckRun], id: &str) -> &'a CheckRun {
        runs.iter().find(|r| r.check_id == id).unwrap_or_else(|| panic!("no run {id} in {runs:#?}"))
    }

    /// The sandbox delivers exactly the topics the `webhooks.known-topics` rule accepts: a
    /// listing that subscribes to every one passes the rule, and the example check registers
    /// each of them. A topic outside the list fails both.
    #[test]
    fn the_sandbox_and_the_known_topics_rule_agree_on_topics() {
        let topics = assay_host::platform::TOPICS;
        let listing = |extra: &str| {
            example_listing(|mut text| {
                text = text.replace(
                    "[[webhooks]]\ntopic = \"orders/create\"\nurl = \"https://acme-apps.com/hooks/orders\"\n",
                    "",
                );
                for (i, topic) in topics.iter().chain([extra].iter().filter(|t| !t.is_empty())).enumerate() {
                    text.push_str(&format!(
                        "\n[[webhooks]]\ntopic = \"{topic}\"\nurl = \"https://acme-apps.com/hooks/{i}\"\n"
                    ));
                }
                text
            })
        };
        let rule = spec("rule_webhooks_known_topics.wasm", assay_builtin::artifact("rule_webhooks_known_topics.wasm"));
        let host = host_with(Limits::default());
        let all = listing("");
        assert_eq!(all.webhooks.len(), topics.len());
        let runs = host.review(ReviewInput::new(&all, None, &[rule.clone(), example_check()])).runs;
        assert_eq!(run(&runs, "webhooks.known-topics").findings, [], "the rule accepts every sandbox topic");
        let check = run(&runs, "acme.shop-sync");
        let registered = check.transcript.iter().filter(|c| c.operation == "register-webhook").collect::<Vec<_>>();
        assert_eq!(registered.len(), topics.len());
        assert!(registered.iter().all(|c| c.outcome == CallOutcome::Ok), "{registered:#?}");

        let unknown = listing("orders/teleported");
        let runs = host.review(ReviewInput::new(&unknown, None, &[rule, example_check()])).runs;
        assert_eq!(run(&runs, "webhooks.known-topics").findings.len(), 1);
        assert_eq!(run(&runs, "acme.shop-sync").transcript.last().unwrap().outcome, CallOutcome::Invalid);
    }

    #[test]
    fn the_example_check_passes_with_exactly_the_scopes_it_uses() {
        let runs = run_example(&example_listing(|t| t));
        let check = run(&runs, "acme.shop-sync");
        assert_eq!(check.outcome, CheckOutcome::Passed, "{check:#?}");
        assert!(check.integration && !check.platform);
        let ops: Vec<&str> = check.transcript.iter().map(|c| c.operation.as_str()).collect();
        assert_eq!(
            ops.iter().filter(|o| **o == "list-products").count(),
            4,
            "24 products in pages of 10, then an empty page: {ops:?}"
        );
        assert_eq!(ops.iter().filter(|o| **o == "tag-order").count(), 5);
        assert!(check.transcript.iter().all(|c| c.outcome == CallOutcome::Ok), "{:#?}", check.transcript);
        assert_eq!(check.usage.platform_calls, check.transcript.len() as u64);
        assert!(check.usage.bytes_out > 0 && check.usage.fuel.unwrap() > 0);
        assert!(check.logs.iter().any(|l| l.contains("24 products mirrored")), "{:?}", check.logs);
        assert!(run(&runs, REFUSED_CALL).findings.is_empty());
        assert!(run(&runs, UNUSED_SCOPE).findings.is_empty(), "{:#?}", run(&runs, UNUSED_SCOPE));
    }

    #[test]
    fn an_over_privileged_listing_gets_unused_scope_findings() {
        let listing = example_listing(|t| {
            t.replace("name = \"read_products\"", "name = \"write_products\"")
                + "\n[[scopes]]\nname = \"read_customers\"\njustification = \"Might email customers one day.\"\n"
        });
        let runs = run_example(&listing);
        let unused = &run(&runs, UNUSED_SCOPE).findings;
        let messages: Vec<&str> = unused.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(unused.len(), 2, "{messages:#?}");
        assert!(messages[0].contains("`write_products` was only used to read"), "{messages:?}");
        assert!(messages[1].contains("`read_customers` is requested but no integration check"), "{messages:?}");
        assert_eq!(unused[1].pointer, "/scopes/4/name");
        assert!(unused.iter().all(|f| f.severity == Severity::Warning));
    }

    #[test]
    fn an_under_privileged_listing_gets_refused_call_findings() {
        let listing = example_listing(|t| t.replace("name = \"write_webhooks\"", "name = \"read_webhooks\""));
        let runs = run_example(&listing);
        let check = run(&runs, "acme.shop-sync");
        let refused: Vec<_> = check.transcript.iter().filter(|c| c.outcome == CallOutcome::Forbidden).collect();
        assert_eq!(refused.len(), 1, "{:#?}", check.transcript);
        assert_eq!((refused[0].operation.as_str(), refused[0].scope.as_str()), ("register-webhook", "write_webhooks"));
        // The partner's own check says what broke, and assay says which scope was missing.
        assert_eq!(check.outcome, CheckOutcome::Findings);
        assert_eq!(check.findings[0].pointer, "/webhooks/0");
        let judged = &run(&runs, REFUSED_CALL).findings;
        assert_eq!(judged.len(), 1);
        assert!(judged[0].message.contains("`register-webhook` needs scope `write_webhooks`"), "{}", judged[0].message);
        assert_eq!(judged[0].severity, Severity::Error);
        // `read_webhooks` was granted but nothing needed it.
        assert!(run(&runs, UNUSED_SCOPE).findings.iter().any(|f| f.message.contains("`read_webhooks`")));
        let verdict = assay_core::Verdict::decide(&runs, Severity::Error);
        assert_eq!(verdict, assay_core::Verdict::Fail);
    }

    #[test]
    fn the_same_inputs_give_the_same_transcript_and_another_seed_another_shop() {
        let listing = example_listing(|t| t);
        let host = host_with(Limits::default());
        let checks = [example_check()];
        let once = host.review(ReviewInput::new(&listing, None, &checks)).runs;
        let twice = host.review(ReviewInput::new(&listing, None, &checks)).runs;
        let deterministic = |r: &CheckRun| {
            (r.transcript.clone(), r.findings.clone(), r.usage.fuel, r.usage.peak_memory, r.logs.clone())
        };
        assert_eq!(deterministic(&once[0]), deterministic(&twice[0]));
        let other = host.review(ReviewInput { seed: 7, ..ReviewInput::new(&listing, None, &checks) }).runs;
        assert_ne!(once[0].logs, other[0].logs, "the log names the seeded shop");
    }

    #[test]
    fn a_call_flood_is_stopped_after_the_budget() {
        let limits = Limits { max_platform_calls: 50, ..Limits::default() };
        let host = host_with(limits);
        let runs = review(&host, &[fixture("hostile_platform_flood.wasm")]);
        let flood = &runs[0];
        assert_eq!(flood.outcome, CheckOutcome::BudgetExceeded, "{flood:#?}");
        assert!(flood.message.as_deref().unwrap().contains("made more than 50 platform calls"), "{:?}", flood.message);
        assert_eq!(flood.transcript.len(), 51, "50 allowed calls and the one told `budget-exhausted`");
        assert_eq!(flood.transcript[50].outcome, CallOutcome::BudgetExhausted);
    }

    #[test]
    fn huge_payloads_are_refused_and_a_sender_that_insists_is_stopped() {
        let host = host_with(Limits::default());
        let runs = review(&host, &[fixture("hostile_platform_payload.wasm")]);
        let payload = &runs[0];
        assert_eq!(payload.outcome, CheckOutcome::BudgetExceeded, "{payload:#?}");
        assert!(payload.message.as_deref().unwrap().contains("sent more than 1048576 bytes"), "{:?}", payload.message);
        assert_eq!(payload.transcript.len(), 1);
        assert_eq!(payload.transcript[0].outcome, CallOutcome::BudgetExhausted);
        assert_eq!(payload.transcript[0].bytes_out, 8 << 20);
    }

    #[test]
    fn a_spinning_check_times_out_and_keeps_its_transcript() {
        let limits = Limits { wall_time: Duration::from_millis(200), ..Limits::default() };
        let runs = review(&host_with(limits), &[fixture("hostile_platform_spin.wasm")]);
        assert_eq!(runs[0].outcome, CheckOutcome::TimedOut);
        assert_eq!(runs[0].transcript.len(), 1, "{:#?}", runs[0].transcript);
        // The listing asks for `read_products` only: the shop read was refused, and the check
        // never finished, so its unused scopes are not judged.
        assert_eq!(runs[0].transcript[0].outcome, CallOutcome::Forbidden);
        assert!(run(&runs, REFUSED_CALL).findings[0].message.contains("`get-shop` needs scope `read_shop`"));
        assert!(runs.iter().all(|r| r.check_id != UNUSED_SCOPE));
    }

    #[test]
    fn a_hoarding_check_is_out_of_memory() {
        let limits = Limits { max_memory_bytes: 16 << 20, ..Limits::default() };
        let runs = review(&host_with(limits), &[fixture("hostile_platform_hoard.wasm")]);
        assert_eq!(runs[0].outcome, CheckOutcome::OutOfMemory, "{:#?}", runs[0]);
        assert_eq!(runs[0].transcript.len(), 1);
    }

    #[test]
    fn a_rule_built_against_0_1_0_runs_on_this_host() {
        let host = host_with(Limits::default());
        let plugin = host.load(&assay_builtin::artifact("compat_rule_v0_1_0.wasm")).unwrap();
        assert_eq!(plugin.world_version, semver::Version::new(0, 1, 0));
        let runs = review(&host, &[fixture("compat_rule_v0_1_0.wasm")]);
        assert_eq!(runs[0].outcome, CheckOutcome::Findings, "{:#?}", runs[0]);
        assert_eq!(runs[0].findings[0].message, "saw listing `acme-stock-sync`");
        assert_eq!(runs[0].logs, ["info: legacy rule ran"]);
    }

    #[test]
    fn a_component_for_an_unsupported_version_is_refused_with_both_versions() {
        // The WAT fixture and the frozen WIT, both moved to a 0.2.0 this host does not run.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let wat = std::fs::read_to_string(root.join("plugins/hostile-wat/recursion.wat")).unwrap();
        let mut module = wat::parse_str(wat.replace("@0.1.0", "@0.2.0")).unwrap();
        let wit = std::fs::read_to_string(root.join("tests/frozen/assay-plugin@0.1.0.wit")).unwrap();
        let mut resolve = wit_parser::Resolve::default();
        let pkg =
            resolve.push_str("assay-plugin.wit", &wit.replace("assay:plugin@0.1.0", "assay:plugin@0.2.0")).unwrap();
        let world = resolve.select_world(&[pkg], Some("listing-rule")).unwrap();
        wit_component::embed_component_metadata(&mut module, &resolve, world, wit_component::StringEncoding::UTF8)
            .unwrap();
        let bytes = wit_component::ComponentEncoder::default().module(&module).unwrap().encode().unwrap();
        let error = host_with(Limits::default()).load(&bytes).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the component targets assay:plugin/rule@0.2.0 (world `listing-rule`), which this assay does not support \
             (supported: assay:plugin 0.1.0 to 0.1.1)"
        );
    }

    #[test]
    fn each_component_is_loaded_for_the_world_it_targets() {
        let host = host_with(Limits::default());
        let rule = host.load(&assay_builtin::artifact("rule_urls_https.wasm")).unwrap();
        assert_eq!(rule.world, assay_host::World::ListingRule);
        let check = host.load(&assay_builtin::artifact("shop_sync_check.wasm")).unwrap();
        assert_eq!(check.world, assay_host::World::IntegrationCheck);
        assert_eq!(check.world_version, semver::Version::new(0, 1, 1));
    }
}

/// Bindings stay behind their module: the public API takes host and core types only, and a new
/// WIT version is a file under `src/bindings/` plus a row in `bindings::SUPPORTED`. The compiler
/// keeps the hand-written `pub(crate)` types of `bindings` out of public signatures
/// (`private_interfaces` is denied), but not the generated ones: `bindgen!` declares them `pub`,
/// and rustc reports no `unnameable_types` inside another crate's macro output. So this reads
/// the sources: version modules are named in `src/bindings*` only, nothing in them is `pub`, and
/// no declaration with a visibility in `bindings.rs` names one.
mod wit_versions {
    use std::path::{Path, PathBuf};

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Whether `line` names a bindings module for a version (`v0_1`, `V0_1`, `v2_0`) as a word.
    fn names_a_version(line: &str) -> bool {
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        line.char_indices().any(|(i, c)| {
            let rest = &line[i + c.len_utf8()..];
            let (major, after) = (digits(rest), rest.get(digits(rest) + 1..).unwrap_or(""));
            matches!(c, 'v' | 'V')
                && !line[..i].ends_with(ident)
                && major > 0
                && rest[major..].starts_with('_')
                && digits(after) > 0
                && !after[digits(after)..].starts_with(ident)
        })
    }

    /// The lines of `bindings.rs` that declare something with a visibility: each such item from
    /// its first line to where its body opens or it ends, a field to its comma, and the whole of
    /// a `pub enum` (its variants are as public as it is).
    fn declarations(text: &str) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        let mut open: Option<(usize, &str)> = None; // its indent, and what ends it
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            let indent = line.len() - code.len();
            if open.is_none() {
                let rest = match code.strip_prefix("pub") {
                    Some(rest) if rest.starts_with('(') => rest.split_once(')').map_or("", |(_, r)| r),
                    Some(rest) if rest.starts_with(' ') => rest,
                    _ => continue,
                };
                let rest = rest.trim_start();
                let word = rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').next().unwrap_or("");
                let end = if word == "enum" && code.starts_with("pub ") {
                    "}"
                } else if rest[word.len()..].starts_with(':') {
                    ","
                } else {
                    "{;"
                };
                open = Some((indent, end));
            }
            let Some((at, end)) = open else { continue };
            out.push((n, code));
            let done = match end {
                "}" => indent == at && code.ends_with('}'),
                "," => code.ends_with(',') || code.ends_with('}'),
                _ => code.contains('{') || code.ends_with(';'),
            };
            if done {
                open = None;
            }
        }
        out
    }

    /// Every line of the crate's sources that breaks the rule, as `file:line: text`.
    fn leaks() -> Vec<String> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        files.sort();
        let mut leaks = Vec::new();
        for file in files {
            let name = file.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&file).unwrap();
            let lines: Vec<(usize, &str)> = text.lines().map(str::trim_start).enumerate().collect();
            let bad: Vec<(usize, &str)> = if name.starts_with("bindings/") {
                // A version's module: nothing in it is API.
                lines.into_iter().filter(|(_, code)| code.starts_with("pub ")).collect()
            } else if name == "bindings.rs" {
                declarations(&text).into_iter().filter(|(_, code)| names_a_version(code)).collect()
            } else {
                // Comments may name what they explain; code may not.
                lines
                    .into_iter()
                    .filter(|(_, code)| !code.starts_with("//"))
                    .filter(|(_, code)| names_a_version(code) || code.contains("bindgen!"))
                    .collect()
            };
            leaks.extend(bad.into_iter().map(|(n, code)| format!("src/{name}:{}: {code}", n + 1)));
        }
        leaks
    }

    #[test]
    fn no_bindings_type_leaks_out_of_the_bindings_module() {
        let leaks = leaks();
        assert!(
            leaks.is_empty(),
            "version-specific bindings outside `src/bindings*`, or public in them; take and return host \
             types, and convert in the version's module:\n{}",
            leaks.join("\n")
        );
    }

    #[test]
    fn the_scan_sees_version_modules_and_only_them() {
        for named in ["use crate::bindings::v0_1;", "x: &v0_1::types::CheckInput", "Pre::V0_1(pre)", "v12_0::X"] {
            assert!(names_a_version(named), "{named}");
        }
        for not in ["compat_rule_v0_1_0.wasm", "semver 0.1", "v0_1_0", "value_1", "v0_", "dev2_3", "`v0`"] {
            assert!(!names_a_version(not), "{not}");
        }
        let bindings = "\
mod v0_1;
pub(crate) enum Pre {
    V0_1(v0_1::Pre),
}
pub enum Raw {
    Rule(
        v0_1::Rule,
    ),
}
pub struct CheckInput {
    v0_1: v0_1::CheckInput,
    pub raw: v0_1::CheckInput,
}
impl CheckInput {
    pub fn new(listing: &Manifest) -> CheckInput {
        CheckInput { v0_1: v0_1::check_input(listing) }
    }
    pub fn raw(
        &self,
    ) -> &v0_1::CheckInput {
        &self.v0_1
    }
}
pub(crate) type Alias = v0_1::Pre;
";
        let found: Vec<usize> =
            declarations(bindings).into_iter().filter(|(_, code)| names_a_version(code)).map(|(n, _)| n + 1).collect();
        assert_eq!(found, [7, 12, 20, 24], "the public enum's variant, the public field, the signature, the alias");
    }
}
