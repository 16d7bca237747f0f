//! # assay-host: running untrusted rules, safely and fast
//!
//! This crate embeds wasmtime to run listing-QA rules — WebAssembly components that target the
//! `assay:plugin` WIT package — against a listing. Read it in this order:
//!
//! - [`limits`]: what one check may use (time, fuel, memory summed over all memories, tables,
//!   instances, stack, output and log bytes), with documented defaults, and the
//!   [`wasmtime::ResourceLimiter`] that enforces the totals.
//! - `bindings` (private): the one table of the `assay:plugin` versions this host runs and,
//!   behind it, one module of generated bindings per version with its conversions. What leaves it
//!   is the host's own: [`World`], and [`CheckInput`], a listing converted to WIT values once per
//!   review.
//! - [`plugin`]: a component identified by its SHA-256, checked to be a component for a
//!   supported world, compiled once, with its rule metadata.
//! - [`cache`]: precompiled artifacts on disk — written atomically, verified against a recorded
//!   digest before the `unsafe` load, keyed by the engine configuration.
//! - [`sandbox`]: the per-check store: no filesystem, network, environment, real clock or
//!   randomness; bounded log and stderr capture.
//! - [`pack`]: a rule pack (`pack.toml` plus components) turned into configured checks.
//! - [`host`]: [`Host`], one engine per process, the in-memory component cache, and
//!   [`Host::review`], which runs a pack's rules concurrently and classifies every failure.
//!
//! Invariants: a guest never takes the host down — every trap, limit and malformed input
//! becomes a [`assay_core::CheckOutcome`] with a message a partner can act on, and the other
//! checks still report. A fresh store per check: a guest never sees another's state. Bindings
//! stay behind their module: the public API takes and returns host and core types only. The
//! lints below keep the hand-written `pub(crate)` types of `bindings` out of public signatures;
//! generated types are `pub` inside `bindgen!`'s output, where rustc reports nothing, so
//! `tests/host.rs` (module `wit_versions`) reads the sources for them.

#![deny(private_interfaces, private_bounds, unnameable_types)]

mod bindings;
pub mod cache;
pub mod digest;
pub mod host;
pub mod limits;
pub mod pack;
pub mod platform;
pub mod plugin;
pub mod sandbox;

pub use bindings::{CheckInput, World};
pub use digest::PluginDigest;
pub use host::{CheckSpec, Host, HostConfig, HostError, Review, ReviewInput};
pub use limits::Limits;
pub use pack::{PackLoadError, RulePack, read_bounded};
pub use plugin::{LoadError, Plugin};
