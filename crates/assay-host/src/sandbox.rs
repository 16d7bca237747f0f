//! The per-check store: what a guest can reach, and what it leaves behind.
//!
//! Rust guests built for `wasm32-wasip2` import WASI (their standard library does). The sandbox
//! satisfies those imports with an empty context: no preopened directories, environment,
//! arguments or network; a wall clock fixed at [`FIXED_WALL_CLOCK`], a monotonic clock that
//! never moves, and randomness from a fixed seed — so the same inputs give the same result.
//! stdout and stderr go to a bounded in-memory buffer, which is how a Rust panic message
//! reaches the report.

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use wasmtime::component::{HasData, ResourceTable};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use crate::Limits;
use crate::limits::StoreLimiter;
use crate::platform::PlatformState;

/// The time every guest sees: 2026-01-01T00:00:00Z.
pub const FIXED_WALL_CLOCK: Duration = Duration::from_secs(1_767_225_600);

/// The data of one check's store.
pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Enforces memory, table and instance limits; records peak memory.
    pub limiter: StoreLimiter,
    /// Lines logged through the `log` interface.
    pub log: LogSink,
    /// Whether the guest tried to wait on a clock (and was stopped).
    pub waited: bool,
    /// The sandbox platform (integration checks); closed for rules.
    pub platform: PlatformState,
    output: MemoryOutputPipe,
    output_capacity: usize,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("limiter", &self.limiter).field("log", &self.log).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// A fresh sandbox with the given limits and no platform.
    pub fn new(limits: &Limits) -> Self {
        Sandbox::with_platform(limits, PlatformState::closed())
    }

    /// A fresh sandbox whose guest talks to `platform`.
    pub fn with_platform(limits: &Limits, platform: PlatformState) -> Self {
        let output = MemoryOutputPipe::new(limits.max_log_bytes);
        let wasi = WasiCtx::builder()
            .stdout(output.clone())
            .stderr(output.clone())
            .wall_clock(FixedClock)
            .monotonic_clock(FixedClock)
            .secure_random(StdRng::seed_from_u64(0))
            .insecure_random(StdRng::seed_from_u64(1))
            .insecure_random_seed(0)
            .build();
        Sandbox {
            wasi,
            table: ResourceTable::new(),
            limiter: StoreLimiter::new(limits),
            log: LogSink::new(limits.max_log_bytes),
            waited: false,
            platform,
            output,
            output_capacity: limits.max_log_bytes,
        }
    }

    /// What the guest wrote to stdout and stderr (a panic message, usually), lossily decoded.
    pub fn captured_output(&self) -> String {
        String::from_utf8_lossy(&self.output.contents()).trim_end().to_owned()
    }

    /// Whether the guest filled its stdout/stderr budget.
    pub fn output_full(&self) -> bool {
        self.output.contents().len() >= self.output_capacity
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl HasData for Sandbox {
    type Data<'a> = &'a mut Sandbox;
}

/// Bounded log capture.
#[derive(Debug)]
pub struct LogSink {
    budget: usize,
    /// Bytes the guest tried to log.
    pub bytes: usize,
    /// Lines kept, each prefixed with its level.
    pub lines: Vec<String>,
    /// Whether the guest went over its budget (and was stopped).
    pub overflowed: bool,
}

impl LogSink {
    fn new(budget: usize) -> Self {
        LogSink { budget, bytes: 0, lines: Vec::new(), overflowed: false }
    }

    /// Keep a line the guest logged at `level`; past the budget, stop the guest.
    pub(crate) fn record(&mut self, level: &str, message: String) -> wasmtime::Result<()> {
        self.bytes += message.len();
        if self.bytes > self.budget {
            self.overflowed = true;
            return Err(wasmtime::format_err!("log budget of {} bytes exceeded", self.budget));
        }
        self.lines.push(format!("{level}: {message}"));
        Ok(())
    }
}

/// A clock that never moves: determinism over realism.
struct FixedClock;

impl HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        FIXED_WALL_CLOCK
    }
}

impl HostMonotonicClock for FixedClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}
