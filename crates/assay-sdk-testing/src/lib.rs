//! # assay-sdk-testing: native unit tests for assay rules
//!
//! Build a rule's input from `listing.toml` text, exactly as the host converts it, and call the
//! rule without a sandbox. A separate crate, so that the SDK a rule compiles to WebAssembly with
//! depends on `wit-bindgen` only; this one brings the service's own listing parser
//! (`assay-core`) to native tests.
//!
//! ```toml
//! [dev-dependencies]
//! assay-sdk-testing = { path = "…/assay/crates/assay-sdk-testing" }
//! ```
//!
//! ```
//! use assay_sdk::{CheckInput, Config, Finding, Rule, RuleInfo, Severity, finding};
//!
//! struct SummaryLength;
//!
//! impl Rule for SummaryLength {
//!     fn info() -> RuleInfo {
//!         RuleInfo::new("copy.summary-length", "Summary length", "1.0.0", Severity::Error)
//!     }
//!     fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
//!         let len = input.listing.summary.chars().count();
//!         Ok((len > 80).then(|| finding("/summary", format!("{len} characters"))).into_iter().collect())
//!     }
//! }
//!
//! let long = assay_sdk_testing::EXAMPLE.replace("sales channel\"", "sales channel, pop-up shop and market stall\"");
//! let findings = assay_sdk_testing::check::<SummaryLength>(&assay_sdk_testing::input(&long), &[]);
//! assert_eq!(findings[0].pointer, "/summary");
//! let findings = assay_sdk_testing::check::<SummaryLength>(&assay_sdk_testing::input(assay_sdk_testing::EXAMPLE), &[]);
//! assert!(findings.is_empty());
//! ```
//!
//! The listing is parsed and validated by the same parser the service uses, so a test cannot
//! build a listing the service would refuse. Data-driven tests of a whole pack, through the real
//! host, are `assay rules test` cases (see docs/writing-rules.md).

// `convert` names the WIT types through `super::types`.
use assay_sdk::bindings::assay::plugin::types;
use assay_sdk::{CheckInput, Config, Finding, Listing, Rule};

// The host's own conversion from a parsed manifest to the WIT values a rule receives.
#[path = "../../assay-host/src/bindings/v0_1/listing.rs"]
mod convert;

/// A complete, honest listing that passes the built-in pack: a starting point to edit.
pub const EXAMPLE: &str = include_str!("../../../examples/listings/clean/listing.toml");

/// Parse `listing.toml` text as the service does. Panics with the parser's message (file, line
/// and field) when the text is not a valid listing, which fails the test that called it.
pub fn listing(toml: &str) -> Listing {
    input(toml).listing
}

/// The input of a first review of this listing (no previous version).
pub fn input(toml: &str) -> CheckInput {
    convert::check_input(&parse(toml), None)
}

/// The input of a review of `toml` with `previous` as the last approved version.
pub fn input_with_previous(toml: &str, previous: &str) -> CheckInput {
    convert::check_input(&parse(toml), Some(&parse(previous)))
}

/// Run rule `R` on `input` with the pack configuration `config` (key/value pairs) and return
/// its findings (a finding's `severity` is `None` when it takes the rule's default). Panics
/// when the rule returns an error.
pub fn check<R: Rule>(input: &CheckInput, config: &[(&str, &str)]) -> Vec<Finding> {
    let config = Config::new(config.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
    R::check(input, &config).unwrap_or_else(|e| panic!("rule {} returned an error: {e}", R::info().id))
}

fn parse(toml: &str) -> assay_core::Manifest {
    match assay_core::Manifest::parse("listing.toml", toml) {
        Ok(parsed) => parsed.manifest,
        Err(e) => panic!("not a valid listing: {e}"),
    }
}
