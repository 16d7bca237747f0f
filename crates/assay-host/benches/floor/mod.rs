//! The bare-wasmtime floor: a program that instantiates a rule component from an
//! `InstancePre` and calls it, with nothing of assay around it. Shared by the host's per-check
//! benchmark and the service's re-check storm (included by path), so both measure against the
//! same floor.
//!
//! It has its own `bindgen!` of `wit/`, as a bare program would: the host's bindings are private
//! to it. Only the listing's conversion to WIT values is the host's own file, compiled here
//! against these bindings, so the floor passes the very values the host passes (and the
//! conversion is outside every measured loop).

#![allow(dead_code, missing_debug_implementations, clippy::unwrap_used, clippy::ptr_arg)] // each benchmark uses part of it; the bindings take `&Vec`

use assay_core::Manifest;
use wasmtime::component::{Component, HasData, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({ path: "../../wit", world: "listing-rule" });

use assay::plugin::types;

#[path = "../../src/bindings/v0_1/listing.rs"]
mod listing;

/// A listing as the floor's WIT input.
pub fn input(listing: &Manifest) -> types::CheckInput {
    listing::check_input(listing, None)
}

/// The bare store data: just what the component's imports need.
struct Bare {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Bare {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl HasData for Bare {
    type Data<'a> = &'a mut Bare;
}

impl types::Host for Bare {}

impl assay::plugin::log::Host for Bare {
    fn log(&mut self, _: assay::plugin::log::Level, _: String) {}
}

/// A floor variant: an engine configuration and an `InstancePre` on it.
pub struct Floor {
    pub name: &'static str,
    engine: Engine,
    pre: ListingRulePre<Bare>,
}

impl Floor {
    pub fn new(name: &'static str, config: &Config, bytes: &[u8]) -> Floor {
        Floor::on(name, &Engine::new(config).unwrap(), bytes)
    }

    /// A floor on an engine it shares with others (one pooling allocator for a whole pack: an
    /// engine each reserves its own pool, and 34 of them exhaust the process's mappings).
    pub fn on(name: &'static str, engine: &Engine, bytes: &[u8]) -> Floor {
        let engine = engine.clone();
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
        ListingRule::add_to_linker::<_, Bare>(&mut linker, |s| s).unwrap();
        let component = Component::new(&engine, bytes).unwrap();
        let pre = ListingRulePre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
        Floor { name, engine, pre }
    }

    pub fn check(&self, input: &types::CheckInput, config: &Vec<(String, String)>) -> usize {
        let mut store =
            Store::new(&self.engine, Bare { wasi: WasiCtx::builder().build(), table: ResourceTable::new() });
        // Only engines that count fuel accept it.
        let _ = store.set_fuel(u64::MAX);
        let rule = self.pre.instantiate(&mut store).unwrap();
        rule.assay_plugin_rule().call_check(&mut store, input, config).unwrap().unwrap().len()
    }
}

pub fn pooling(tuned: bool) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(16)
        .total_core_instances(64)
        .total_memories(64)
        .total_tables(64)
        .max_memory_size(64 << 20);
    if tuned {
        pool.linear_memory_keep_resident(128 << 10).table_keep_resident(16 << 10);
    }
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool)).memory_init_cow(true);
    if tuned {
        config.max_wasm_stack(512 << 10);
    }
    config
}
