//! # assay-core: the domain of listing review
//!
//! Pure types and policies shared by every other assay crate:
//!
//! - [`manifest`]: `listing.toml`, parsed and validated, with every error located by file,
//!   line, column and JSON Pointer, and a [`manifest::SourceMap`] that maps a finding's pointer
//!   back to the line it is about.
//! - [`address`]: which IP addresses outbound requests may reach (the IANA special-purpose
//!   registries, the IPv6 forms that embed IPv4).
//! - [`identity`]: principals, roles, capabilities and the ids things are named by.
//! - [`rule`], [`severity`], [`finding`]: what a rule is and what it reports.
//! - [`pack`]: `pack.toml`, a rule pack's name, version and per-rule configuration.
//! - [`lifecycle`]: the version state machine (`submitted → checking → … → retired`).
//! - [`outcome`]: how one check run ended, what it used, and the [`outcome::Verdict`] of a run.
//! - [`integration`]: integration-check transcripts, least privilege and resource regressions.
//! - [`waiver`]: a reviewer's exception to one rule for a range of versions, until it expires.
//! - [`notice`], [`deprecation`], [`policy`]: change notices and their lead time, deprecation
//!   schedules and their minimum notice per stability level, and the rule a refusal names.
//!
//! - [`listing`], [`review`], [`audit`], [`rollout`], [`queue`], [`webhook`]: what the store
//!   records and the service hands to its callers — listings and versions, recorded reviews,
//!   audit events, published packs and their blast radius, job counts, webhook endpoints and
//!   deliveries. Plain data; the store decodes its rows into them.
//!
//! Rules this crate keeps: no IO, no async, no wire formats. Callers read files and render
//! reports; this crate only decides.

pub mod address;
pub mod appeal;
pub mod audit;
pub mod conversation;
pub mod deprecation;
pub mod exception;
pub mod finding;
pub mod identity;
pub mod integration;
pub mod lifecycle;
pub mod listing;
pub mod manifest;
pub mod notice;
pub mod outcome;
pub mod pack;
pub mod people;
pub mod pointer;
pub mod policy;
pub mod queue;
pub mod review;
pub mod rollout;
pub mod rule;
pub mod severity;
pub mod waiver;
pub mod webhook;

pub use finding::Finding;
pub use identity::{Capability, Principal, Role, Scope, Scopes, UserId};
pub use lifecycle::{Transition, VersionState};
pub use manifest::{Manifest, ManifestError, SourceMap};
pub use outcome::{CheckOutcome, CheckRun, ResourceUsage, Verdict};
pub use rule::RuleInfo;
pub use severity::Severity;
pub use waiver::Waiver;
