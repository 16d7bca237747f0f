//! [`Host`]: one wasmtime engine per process, the component cache, and check execution.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assay_core::{CheckOutcome, CheckRun, Finding, Manifest, ResourceUsage, RuleInfo, Severity};
use rayon::prelude::*;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use crate::bindings::{self, CheckInput, GuestFinding, Target, World};
use crate::cache::{ArtifactCache, Lookup};
use crate::limits::LimitHit;
use crate::platform::{BudgetHit, PlatformState};
use crate::plugin::{self, LoadError, Plugin};
use crate::sandbox::Sandbox;
use crate::{Limits, PluginDigest};

/// How often the epoch advances; wall-time limits are enforced at this granularity.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// How to build a [`Host`].
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Limits applied to every check.
    pub limits: Limits,
    /// Where precompiled components are kept; `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// How many checks run at once. Defaults to the number of cores.
    pub workers: usize,
    /// Where the marketplace documents its rules: a rule that names no help URL of its own
    /// links to `{docs_url}/rules/{id}` (the review service's public URL, which serves the
    /// pack's documentation there). `None` leaves it without one.
    pub docs_url: Option<String>,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            limits: Limits::default(),
            cache_dir: None,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            docs_url: None,
        }
    }
}

/// Why the host itself could not start. Plugin failures are never a `HostError`.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// wasmtime refused the configuration (e.g. not enough virtual memory for the pool).
    #[error("could not configure the WebAssembly engine: {0}")]
    Engine(String),
    /// The artifact cache directory could not be created.
    #[error("could not open the component cache at {path}")]
    Cache {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One check to run in a review.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// A name for reports when the plugin cannot describe itself (usually its file name).
    pub name: String,
    /// The component's bytes.
    pub bytes: Arc<[u8]>,
    /// Their SHA-256, computed once so a review of a loaded plugin never rehashes it.
    pub digest: PluginDigest,
    /// Pack configuration passed to the rule.
    pub config: Vec<(String, String)>,
    /// A severity that replaces the rule's own.
    pub severity: Option<Severity>,
    /// A platform rule (its failure makes the verdict `error`) or a partner's own check.
    pub platform: bool,
}

impl CheckSpec {
    /// A platform rule with no pack configuration.
    pub fn platform(name: impl Into<String>, bytes: Arc<[u8]>) -> Self {
        CheckSpec {
            name: name.into(),
            digest: PluginDigest::of(&bytes),
            bytes,
            config: Vec::new(),
            severity: None,
            platform: true,
        }
    }

    /// A partner's own check: its failures block the listing instead of erroring the review.
    pub fn partner(name: impl Into<String>, bytes: Arc<[u8]>) -> Self {
        CheckSpec { platform: false, ..CheckSpec::platform(name, bytes) }
    }
}

/// What to review.
#[derive(Debug, Clone, Copy)]
pub struct ReviewInput<'a> {
    /// The version under review.
    pub listing: &'a Manifest,
    /// The last approved version, if any.
    pub previous: Option<&'a Manifest>,
    /// The checks to run.
    pub checks: &'a [CheckSpec],
    /// The seed of the sandbox tenant integration checks run against
    /// ([`crate::platform::DEFAULT_SEED`] unless a replay says otherwise).
    pub seed: u64,
}

impl<'a> ReviewInput<'a> {
    /// A review of `listing` with the default sandbox seed.
    pub fn new(listing: &'a Manifest, previous: Option<&'a Manifest>, checks: &'a [CheckSpec]) -> Self {
        ReviewInput { listing, previous, checks, seed: crate::platform::DEFAULT_SEED }
    }
}

/// The result of a review: one run per check, in the order given.
#[derive(Debug, Clone)]
pub struct Review {
    /// Check runs.
    pub runs: Vec<CheckRun>,
}

/// The plugin host. Create one per process and share it; it is `Sync`.
pub struct Host {
    engine: Engine,
    linker: Linker<Sandbox>,
    limits: Limits,
    workers: usize,
    docs_url: Option<String>,
    plugins: Mutex<HashMap<PluginDigest, Arc<Plugin>>>,
    artifacts: Option<ArtifactCache>,
    stop_ticker: Arc<AtomicBool>,
    pool: rayon::ThreadPool,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("limits", &self.limits).field("workers", &self.workers).finish_non_exhaustive()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// The engine configuration every assay host uses (also the benchmark's "assay" side).
pub fn engine_config(limits: &Limits, concurrent_stores: u32) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    let per = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    pool.total_component_instances(concurrent_stores)
        .total_core_instances(concurrent_stores.saturating_mul(per(limits.max_instances)))
        .total_memories(concurrent_stores.saturating_mul(per(limits.max_memories)))
        .total_tables(concurrent_stores.saturating_mul(per(limits.max_tables)))
        .total_stacks(concurrent_stores)
        .max_core_instances_per_component(per(limits.max_instances))
        .max_memories_per_component(per(limits.max_memories))
        .max_memories_per_module(per(limits.max_memories))
        .max_tables_per_module(per(limits.max_tables))
        .max_tables_per_component(per(limits.max_tables))
        .max_memory_size(limits.max_memory_bytes)
        .table_elements(limits.max_table_elements)
        // Reset what a small rule touches by memset instead of madvise: see BENCHMARKS.md.
        .linear_memory_keep_resident(128 << 10)
        .table_keep_resident(16 << 10);
    let mut config = Config::new();
    config
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .memory_init_cow(true)
        .epoch_interruption(true)
        // Always counted: fuel is the deterministic measure replays compare (BENCHMARKS.md has its cost).
        .consume_fuel(true)
        .max_wasm_stack(limits.max_wasm_stack)
        .wasm_multi_memory(true);
    config
}

impl Host {
    /// Start a host: configure the engine, open the artifact cache, start the epoch ticker.
    pub fn new(config: HostConfig) -> Result<Host, HostError> {
        let workers = config.workers.max(1);
        let slots = u32::try_from(workers * 2 + 2).unwrap_or(u32::MAX);
        let engine =
            Engine::new(&engine_config(&config.limits, slots)).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        bindings::link(&mut linker).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        refuse_to_wait(&mut linker).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let artifacts = match &config.cache_dir {
            Some(dir) => Some(
                ArtifactCache::open(dir, &engine).map_err(|source| HostError::Cache { path: dir.clone(), source })?,
            ),
            None => None,
        };
        let stop_ticker = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop_ticker.clone();
            std::thread::Builder::new()
                .name("assay-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| HostError::Engine(format!("could not start the epoch thread: {e}")))?;
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("assay-check-{i}"))
            .build()
            .map_err(|e| HostError::Engine(format!("could not start the check workers: {e}")))?;
        Ok(Host {
            pool,
            engine,
            linker,
            limits: config.limits,
            workers,
            docs_url: config.docs_url,
            plugins: Mutex::new(HashMap::new()),
            artifacts,
            stop_ticker,
        })
    }

    /// The limits applied to every check.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The engine (shared by every check).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Load a plugin: from memory if this digest was loaded before, else from the artifact
    /// cache, else compiled (and then cached). Checks the world and calls `describe()` once.
    pub fn load(&self, bytes: &[u8]) -> Result<Arc<Plugin>, LoadError> {
        self.load_digested(bytes, PluginDigest::of(bytes))
    }

    fn load_digested(&self, bytes: &[u8], digest: PluginDigest) -> Result<Arc<Plugin>, LoadError> {
        if let Some(plugin) = self.lock_plugins().get(&digest) {
            return Ok(plugin.clone());
        }
        plugin::sniff(bytes, self.limits.max_component_bytes)?;
        let (component, from_cache) = self.compile(bytes, &digest)?;
        let target = self.target(&component)?;
        let imports = |e: wasmtime::Error| LoadError::Imports(format!("{e:#}"));
        let instance_pre = self.linker.instantiate_pre(&component).map_err(imports)?;
        let pre = target.pre(instance_pre).map_err(imports)?;
        let mut meta = self.describe(&pre)?;
        if meta.help_url.is_empty()
            && let Some(base) = &self.docs_url
        {
            meta.help_url = format!("{}/rules/{}", base.trim_end_matches('/'), meta.id);
        }
        // Only a component that passed every check is kept on disk: a refused upload leaves
        // nothing behind.
        if !from_cache
            && let Some(cache) = &self.artifacts
            && let Err(e) = cache.store(&digest, &component)
        {
            tracing::warn!(%digest, error = %e, "could not write precompiled component");
        }
        let (world, world_version) = (target.world, target.version);
        let plugin = Arc::new(Plugin { digest, meta, world, world_version, from_cache, pre });
        self.lock_plugins().insert(digest, plugin.clone());
        Ok(plugin)
    }

    fn lock_plugins(&self) -> std::sync::MutexGuard<'_, HashMap<PluginDigest, Arc<Plugin>>> {
        // A panic while holding the lock cannot leave the map inconsistent (inserts are atomic).
        self.plugins.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn compile(&self, bytes: &[u8], digest: &PluginDigest) -> Result<(Component, bool), LoadError> {
        if let Some(cache) = &self.artifacts {
            let (component, lookup) = cache.load(&self.engine, digest);
            if let Some(component) = component {
                return Ok((component, true));
            }
            if lookup == Lookup::Discarded {
                tracing::info!(%digest, "recompiling after discarding a bad artifact");
            }
        }
        let started = std::time::Instant::now();
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        let limit = self.limits.max_compile_time;
        if started.elapsed() > limit {
            return Err(LoadError::CompileTooSlow { limit });
        }
        Ok((component, false))
    }

    /// Which world, at which package version, the component targets: a row of the table of
    /// supported versions, or a refusal that names the version and the table.
    fn target(&self, component: &Component) -> Result<Target, LoadError> {
        let ty = component.component_type();
        let exports: Vec<String> = ty.exports(&self.engine).map(|(name, _)| name.to_owned()).collect();
        bindings::target(&exports)
    }

    fn store(&self, platform: PlatformState) -> Store<Sandbox> {
        let mut store = Store::new(&self.engine, Sandbox::with_platform(&self.limits, platform));
        store.limiter(|s| &mut s.limiter);
        let ticks = self.limits.wall_time.as_nanos().div_ceil(EPOCH_TICK.as_nanos()).max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        // Fuel is always consumed (see `engine_config`); without a budget, only counted.
        let _ = store.set_fuel(self.limits.fuel.unwrap_or(u64::MAX));
        store
    }

    fn describe(&self, pre: &bindings::Pre) -> Result<RuleInfo, LoadError> {
        let mut store = self.store(PlatformState::closed());
        match pre.describe(&mut store) {
            Ok(info) => plugin::rule_info(info),
            Err(e) => {
                let (outcome, message) = self.classify(&store, &e);
                Err(LoadError::Describe { outcome, message })
            }
        }
    }

    /// Run every check of a review, concurrently across the host's workers. Never fails:
    /// a check that cannot load or run is reported in its [`CheckRun`].
    pub fn review(&self, input: ReviewInput<'_>) -> Review {
        // A lone check runs on the calling thread: handing it to the pool costs more than it saves.
        self.review_with(input, input.checks.len() > 1 && self.workers > 1)
    }

    /// Review many listings at once, spread over the host's workers a listing at a time: each
    /// listing's checks run in order on one worker. The shape for throughput (a batch of
    /// re-checks), where forking and joining every listing's small checks across threads costs
    /// more than it saves; [`Host::review`] is the shape for one review's latency. The reviews
    /// come back in the order of `inputs`, each exactly as [`Host::review`] would make it.
    pub fn review_many(&self, inputs: &[ReviewInput<'_>]) -> Vec<Review> {
        if inputs.len() <= 1 || self.workers == 1 {
            return inputs.iter().map(|input| self.review_with(*input, false)).collect();
        }
        self.pool.install(|| inputs.par_iter().map(|input| self.review_with(*input, false)).collect())
    }

    fn review_with(&self, input: ReviewInput<'_>, parallel: bool) -> Review {
        let check_input = CheckInput::new(input.listing, input.previous);
        // A persistent pool: spawning threads per review costs more than the checks themselves.
        // `collect` keeps the order of `checks`.
        let run = |spec| self.run_spec(spec, &check_input, &input);
        let mut runs: Vec<CheckRun> = if parallel {
            self.pool.install(|| input.checks.par_iter().map(run).collect())
        } else {
            input.checks.iter().map(run).collect()
        };
        // Rule ids name findings in every report: a later check may not reuse an earlier one's id
        // (a partner check posing as a platform rule, or the same rule twice).
        let mut seen = std::collections::HashSet::new();
        for (run, spec) in runs.iter_mut().zip(input.checks) {
            if run.rule.is_some() && !seen.insert(run.check_id.clone()) {
                let message = format!(
                    "rule id `{}` is already used by another check in this review; every check needs its own id",
                    run.check_id
                );
                *run = failed_run(spec, CheckOutcome::InvalidPlugin, message);
            }
        }
        // Least privilege, measured from what the integration checks did.
        let judged = assay_core::integration::least_privilege(input.listing, &runs);
        runs.extend(judged);
        Review { runs }
    }

    fn run_spec(&self, spec: &CheckSpec, check_input: &CheckInput, review: &ReviewInput<'_>) -> CheckRun {
        match self.load_digested(&spec.bytes, spec.digest) {
            Ok(plugin) => {
                let platform = match plugin.world {
                    World::ListingRule => PlatformState::closed(),
                    World::IntegrationCheck => {
                        let scopes: Vec<String> = review.listing.scopes.iter().map(|s| s.name.clone()).collect();
                        PlatformState::new(
                            review.seed,
                            &scopes,
                            self.limits.max_platform_calls,
                            self.limits.max_platform_bytes,
                        )
                    }
                };
                self.run(&plugin, spec, check_input, platform)
            }
            Err(e) => failed_run(spec, e.outcome(), e.to_string()),
        }
    }

    /// Run one loaded plugin against one listing (converted once per review, see
    /// [`CheckInput::new`]) in a fresh store; an integration check talks to `platform` (rules get
    /// [`PlatformState::closed`]).
    pub fn run(&self, plugin: &Plugin, spec: &CheckSpec, input: &CheckInput, platform: PlatformState) -> CheckRun {
        let mut store = self.store(platform);
        let started = Instant::now();
        let result = plugin.pre.check(&mut store, input, &spec.config);
        let wall_time = started.elapsed();
        let budget = self.limits.fuel.unwrap_or(u64::MAX);
        let mut usage = ResourceUsage {
            wall_time,
            fuel: Some(budget.saturating_sub(store.get_fuel().unwrap_or(0))),
            peak_memory: store.data().limiter.peak_memory as u64,
            output_bytes: 0,
            log_bytes: store.data().log.bytes as u64,
            platform_calls: store.data().platform.calls,
            bytes_out: store.data().platform.bytes_out,
        };
        let meta = &plugin.meta;
        let mut run = CheckRun {
            check_id: meta.id.clone(),
            digest: plugin.digest.to_hex(),
            rule: Some(meta.clone()),
            outcome: CheckOutcome::Passed,
            message: None,
            findings: Vec::new(),
            usage,
            logs: std::mem::take(&mut store.data_mut().log.lines),
            platform: spec.platform,
            integration: plugin.world == World::IntegrationCheck,
            transcript: std::mem::take(&mut store.data_mut().platform.transcript),
        };
        match result {
            Ok(Ok(findings)) => {
                usage.output_bytes = findings.iter().map(finding_bytes).sum::<usize>() as u64;
                run.usage = usage;
                if usage.output_bytes > self.limits.max_output_bytes as u64 {
                    run.outcome = CheckOutcome::OutputTooLarge;
                    run.message = Some(format!(
                        "the rule returned {} findings totalling {} bytes; the limit is {} bytes",
                        findings.len(),
                        usage.output_bytes,
                        self.limits.max_output_bytes
                    ));
                    return run;
                }
                run.findings = findings.into_iter().map(|f| finding(meta, spec.severity, f)).collect();
                run.outcome = if run.findings.is_empty() { CheckOutcome::Passed } else { CheckOutcome::Findings };
            }
            Ok(Err(rule_error)) => {
                run.outcome = CheckOutcome::RuleError;
                run.message = Some(format!("the rule could not check this listing: {}", truncate(&rule_error, 1000)));
            }
            Err(e) => {
                let (outcome, message) = self.classify(&store, &e);
                run.outcome = outcome;
                run.message = Some(message);
            }
        }
        run
    }

    /// Turn a wasmtime error from a guest into an outcome and a message a partner can act on.
    fn classify(&self, store: &Store<Sandbox>, error: &wasmtime::Error) -> (CheckOutcome, String) {
        let sandbox = store.data();
        let limits = &self.limits;
        if let Some(hit) = sandbox.limiter.hit {
            let message = match hit {
                LimitHit::Memory { requested } => format!(
                    "the check tried to use {} of linear memory (summed over all memories); the limit is {}",
                    mib(requested),
                    mib(limits.max_memory_bytes)
                ),
                LimitHit::Tables { requested } => format!(
                    "the check tried to grow its tables to {requested} elements; the limit is {}",
                    limits.max_table_elements
                ),
            };
            return (CheckOutcome::OutOfMemory, message);
        }
        if sandbox.platform.stopped {
            let what = match sandbox.platform.exhausted {
                Some(BudgetHit::Bytes) => format!("sent more than {} bytes to the platform", limits.max_platform_bytes),
                _ => format!("made more than {} platform calls", limits.max_platform_calls),
            };
            return (
                CheckOutcome::BudgetExceeded,
                format!(
                    "the check {what}, was told `budget-exhausted`, and kept calling; it was stopped \
                     (handle `budget-exhausted` by returning your findings)"
                ),
            );
        }
        if sandbox.waited {
            return (
                CheckOutcome::Trapped,
                "the check tried to sleep or wait on a clock; the sandbox has no clock, so it would never wake \
                 (return findings instead of waiting)"
                    .to_owned(),
            );
        }
        if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return (
                CheckOutcome::Trapped,
                format!("the check called exit({}) instead of returning its findings", exit.0),
            );
        }
        if sandbox.log.overflowed || sandbox.output_full() {
            return (
                CheckOutcome::OutputTooLarge,
                format!("the check logged more than {} bytes and was stopped", limits.max_log_bytes),
            );
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => (
                CheckOutcome::TimedOut,
                format!("the check ran longer than its wall-time limit of {:?} and was stopped", limits.wall_time),
            ),
            Some(Trap::OutOfFuel) => (
                CheckOutcome::TimedOut,
                format!("the check used its whole fuel budget of {} and was stopped", limits.fuel.unwrap_or(0)),
            ),
            Some(Trap::StackOverflow) => (
                CheckOutcome::Trapped,
                format!(
                    "stack overflow (the wasm stack limit is {} KiB): unbounded recursion?",
                    limits.max_wasm_stack >> 10
                ),
            ),
            Some(Trap::MemoryOutOfBounds) if sandbox.captured_output().is_empty() => (
                CheckOutcome::Trapped,
                "the check trapped (out-of-bounds memory access); in Rust guests this is usually a stack \
                 overflow from unbounded recursion, since their stack lives in linear memory"
                    .to_owned(),
            ),
            Some(trap) => {
                // Rust's panic output ends with a hint about RUST_BACKTRACE, which means nothing here.
                let output: String = sandbox
                    .captured_output()
                    .lines()
                    .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE"))
                    .collect::<Vec<_>>()
                    .join("\n");
                let detail = if output.is_empty() { String::new() } else { format!(": {}", truncate(&output, 2000)) };
                let what = if output.contains("panicked") { "the check panicked" } else { "the check trapped" };
                (CheckOutcome::Trapped, format!("{what} ({trap}){detail}"))
            }
            None if store.get_fuel().ok() == Some(0) => {
                (CheckOutcome::TimedOut, "the check used its whole fuel budget and was stopped".to_owned())
            }
            None => (
                CheckOutcome::InvalidPlugin,
                format!("the check could not be instantiated or called: {}", truncate(&format!("{error:#}"), 2000)),
            ),
        }
    }
}

/// WASI's clock subscriptions block the host thread on a real timer, where epoch interruption
/// cannot reach: a guest that sleeps for a day would hold its worker for a day. There is no clock
/// in the sandbox, so waiting on one traps instead.
fn refuse_to_wait(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    for name in ["subscribe-duration", "subscribe-instant"] {
        clock.func_new(name, |mut store, _, _, _| {
            store.data_mut().waited = true;
            Err(wasmtime::format_err!("the sandbox has no clock to wait on"))
        })?;
    }
    linker.allow_shadowing(false);
    Ok(())
}

/// The monotonic-clock interface as wasmtime-wasi 48 defines it (`tests/host.rs` fails if an
/// upgrade changes the version and the shadowing above stops applying).
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

fn finding(meta: &RuleInfo, pack_severity: Option<Severity>, f: GuestFinding) -> Finding {
    let severity = pack_severity.or(f.severity).unwrap_or(meta.default_severity);
    let pointer = if f.pointer.is_empty() || f.pointer.starts_with('/') { f.pointer } else { String::new() };
    Finding {
        rule_id: meta.id.clone(),
        severity,
        message: f.message,
        pointer,
        remediation: f.remediation,
        help_url: meta.help_url.clone(),
    }
}

fn finding_bytes(f: &GuestFinding) -> usize {
    f.message.len() + f.pointer.len() + f.remediation.as_ref().map_or(0, String::len) + 8
}

fn failed_run(spec: &CheckSpec, outcome: CheckOutcome, message: String) -> CheckRun {
    CheckRun {
        check_id: spec.name.clone(),
        digest: spec.digest.to_hex(),
        rule: None,
        outcome,
        message: Some(message),
        findings: Vec::new(),
        usage: ResourceUsage::default(),
        logs: Vec::new(),
        platform: spec.platform,
        integration: false,
        transcript: Vec::new(),
    }
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
