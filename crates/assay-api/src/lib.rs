//! # assay-api: the wire contract of the review service
//!
//! Every `/v1` request and response body, as the server sends it and every client reads it,
//! and the [`problem::Problem`] document every error comes back as, with its stable
//! [`problem::ProblemCode`]. The server (`assay-server`) serializes these and generates the
//! OpenAPI document from them; the CLI's HTTP client deserializes them. A Rust client of the API
//! depends on this crate alone: it links no HTTP framework, no template engine, no store and no
//! plugin host (`tests/architecture.rs` checks it).
//!
//! - [`listings`] — listings, submissions, a version with its review and findings.
//! - [`reviews`] — the review queue, decisions, waivers.
//! - [`lifecycle`] — change notices, deprecation schedules, standing, timelines.
//! - [`packs`] — rule-pack rollouts, partner-check updates, re-check verdicts, the job queue.
//! - [`webhooks`] — endpoints and delivery logs.
//! - [`events`] — the webhook messages themselves: the envelope and each event type's data.
//! - [`ops`] — readiness.
//! - [`audit`] — the audit chain's signed checkpoints and its verification.
//! - [`problem`] — errors.
//!
//! Rules this crate keeps: plain data with serde and schema derives; what a value means is
//! documented on its field, and what the server enforces is stated in its schema. Converting
//! from the service's types happens in the server, at its edge.

pub mod audit;
pub mod conversation;
pub mod events;
pub mod exceptions;
pub mod lifecycle;
pub mod listings;
pub mod ops;
pub mod packs;
pub mod people;
pub mod problem;
pub mod reviews;
pub mod rules;
pub mod webhooks;
mod whole;

pub use problem::{FieldError, Problem, ProblemCode};

/// The path of a version's resource.
pub fn version_url(slug: &str, version: &str) -> String {
    format!("/v1/listings/{slug}/versions/{version}")
}
