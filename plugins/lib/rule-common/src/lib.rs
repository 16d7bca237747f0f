//! # rule-common: what the built-in rules share
//!
//! A plain library (std only) that rule crates in `plugins/rules/*` link into their components,
//! so that logic two rules need, and data two rules must agree on, is written once:
//!
//! - [`text`]: splitting copy into lower-cased words, with or without their byte ranges, and
//!   matching phrases on them;
//! - [`url`]: the host of a URL, reserved and address hosts, and the site (registrable domain)
//!   a host belongs to;
//! - [`scopes`]: the platform's scope catalogue.
//!
//! Nothing here depends on `assay-sdk`: the functions take and return plain strings, and each
//! rule keeps its own findings, messages and versions.

pub mod scopes;
pub mod text;
pub mod url;
