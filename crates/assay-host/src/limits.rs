//! What one check may use, and the limiter that enforces it.
//!
//! wasmtime limits each linear memory on its own; a guest with several memories could take a
//! multiple of any per-memory limit. [`StoreLimiter`] sums every memory of the store, so
//! [`Limits::max_memory_bytes`] bounds the total.

use std::time::Duration;

/// Limits on a single check. Every field has a documented default ([`Limits::default`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall time from instantiation to return. Default 2 s. Enforced with epoch interruption.
    pub wall_time: Duration,
    /// Fuel (roughly, wasm instructions) per check; `None` (the default) sets no budget beyond
    /// wall time. Fuel is always *counted* — it is the deterministic measure of work a replay
    /// compares and resource regressions are judged on.
    pub fuel: Option<u64>,
    /// Total linear memory summed over all memories of the check. Default 64 MiB.
    pub max_memory_bytes: usize,
    /// Total table elements summed over all tables. Default 100 000.
    pub max_table_elements: usize,
    /// Core instances per check. Default 32.
    pub max_instances: usize,
    /// Linear memories per check. Default 8.
    pub max_memories: usize,
    /// Tables per check. Default 8.
    pub max_tables: usize,
    /// Native stack available to wasm code. Default 512 KiB.
    pub max_wasm_stack: usize,
    /// Bytes of findings a check may return. Default 1 MiB. Checked once the findings are
    /// lifted into the host; what a guest can make the host lift is bounded by its memory limit.
    pub max_output_bytes: usize,
    /// Bytes a check may write through the log interface, and separately to stdout and stderr
    /// together. Default 64 KiB each; a check that writes more is stopped and reported as
    /// `output_too_large`.
    pub max_log_bytes: usize,
    /// Size of a component file. Default 32 MiB.
    pub max_component_bytes: usize,
    /// Time to compile a component that is not cached yet. Default 60 s. Compilation cannot be
    /// interrupted, so a component that took longer is refused when it ends and is not kept;
    /// the review service also stops waiting for it at this limit and bounds how many compile
    /// at once.
    pub max_compile_time: Duration,
    /// Platform calls an integration check may make. Default 1 000. The first call past the
    /// budget returns `budget-exhausted`; a check that calls again is stopped (`budget_exceeded`).
    pub max_platform_calls: usize,
    /// Bytes an integration check may send to the platform in its calls' arguments, in total.
    /// Default 1 MiB; enforced like `max_platform_calls`.
    pub max_platform_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall_time: Duration::from_secs(2),
            fuel: None,
            max_memory_bytes: 64 << 20,
            max_table_elements: 100_000,
            max_instances: 32,
            max_memories: 8,
            max_tables: 8,
            max_wasm_stack: 512 << 10,
            max_output_bytes: 1 << 20,
            max_log_bytes: 64 << 10,
            max_component_bytes: 32 << 20,
            max_compile_time: Duration::from_secs(60),
            max_platform_calls: 1_000,
            max_platform_bytes: 1 << 20,
        }
    }
}

/// Which limit a check ran into, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    /// Memory, summed over all memories.
    Memory {
        /// What the growth asked for, in bytes.
        requested: usize,
    },
    /// Table elements.
    Tables {
        /// What the growth asked for, in elements.
        requested: usize,
    },
}

/// A [`wasmtime::ResourceLimiter`] that enforces [`Limits`] over a whole store and records the
/// peak memory and the first limit hit.
#[derive(Debug)]
pub struct StoreLimiter {
    max_memory: usize,
    max_tables: usize,
    instances: usize,
    memories: usize,
    tables: usize,
    memory_total: usize,
    table_total: usize,
    /// Highest total linear memory seen, in bytes.
    pub peak_memory: usize,
    /// The first limit the guest ran into.
    pub hit: Option<LimitHit>,
}

impl StoreLimiter {
    /// A limiter for one store.
    pub fn new(limits: &Limits) -> Self {
        StoreLimiter {
            max_memory: limits.max_memory_bytes,
            max_tables: limits.max_table_elements,
            instances: limits.max_instances,
            memories: limits.max_memories,
            tables: limits.max_tables,
            memory_total: 0,
            table_total: 0,
            peak_memory: 0,
            hit: None,
        }
    }
}

impl wasmtime::ResourceLimiter for StoreLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let total = self.memory_total - current.min(self.memory_total) + desired;
        if total > self.max_memory {
            self.hit.get_or_insert(LimitHit::Memory { requested: total });
            return Ok(false);
        }
        self.memory_total = total;
        self.peak_memory = self.peak_memory.max(total);
        Ok(true)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let total = self.table_total - current.min(self.table_total) + desired;
        if total > self.max_tables {
            self.hit.get_or_insert(LimitHit::Tables { requested: total });
            return Ok(false);
        }
        self.table_total = total;
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::ResourceLimiter;

    use super::*;

    #[test]
    fn memory_is_limited_in_total_across_memories() {
        let limits = Limits { max_memory_bytes: 100, ..Limits::default() };
        let mut limiter = StoreLimiter::new(&limits);
        assert!(limiter.memory_growing(0, 40, None).unwrap()); // memory A
        assert!(limiter.memory_growing(0, 40, None).unwrap()); // memory B
        assert!(!limiter.memory_growing(40, 70, None).unwrap()); // A grows: 70 + 40 > 100
        assert_eq!(limiter.hit, Some(LimitHit::Memory { requested: 110 }));
        assert!(limiter.memory_growing(40, 55, None).unwrap()); // 95 fits
        assert_eq!(limiter.peak_memory, 95);
    }
}
