//! # assay-sdk: write an assay rule in a dozen lines
//!
//! A rule is a WebAssembly component that targets the `listing-rule` world of the
//! `assay:plugin@0.1.1` WIT package (`wit/assay-plugin.wit` in the assay repository). This crate
//! hides the component-model glue: implement [`Rule`] and export it with [`export_rule!`]; for a
//! partner's integration check, implement [`Integration`] and export it with [`export_integration!`].
//!
//! ```no_run
//! use assay_sdk::{export_rule, finding, CheckInput, Config, Finding, Rule, RuleInfo, Severity};
//!
//! struct SummaryLength;
//!
//! impl Rule for SummaryLength {
//!     fn info() -> RuleInfo {
//!         RuleInfo::new("copy.summary-length", "Summary length", "1.0.0", Severity::Error)
//!             .description("The one-line summary fits in search results.")
//!     }
//!
//!     fn check(input: &CheckInput, _config: &Config) -> Result<Vec<Finding>, String> {
//!         let len = input.listing.summary.chars().count();
//!         Ok((len > 80)
//!             .then(|| finding("/summary", format!("the summary has {len} characters; the limit is 80"))
//!                 .remediation("Shorten the summary to 80 characters or fewer."))
//!             .into_iter()
//!             .collect())
//!     }
//! }
//!
//! export_rule!(SummaryLength);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2` (a `cdylib` crate). The host runs
//! every check in a fresh sandbox with tight limits; link with a small guest stack so the
//! instance stays cheap to create:
//!
//! ```toml
//! # .cargo/config.toml
//! [target.wasm32-wasip2]
//! rustflags = ["-C", "link-arg=-zstack-size=65536"]
//! ```
//!
//! Rules must be deterministic and must return findings as data: printing is captured only to
//! explain a panic, and there is no clock (sleeping stops the check), randomness, filesystem or
//! network in the sandbox. Use [`log`] for
//! diagnostics; the host keeps a bounded number of log bytes per check.

// The generated bindings and the export macro refer to this crate by name.
extern crate self as assay_sdk;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "listing-rule",
        pub_export_macro: true,
        export_macro_name: "__export_listing_rule",
        default_bindings_module: "assay_sdk::bindings",
        runtime_path: "assay_sdk::__private::wit_bindgen::rt",
    });
}

/// The `integration-check` world (since `assay:plugin@0.1.1`); shares `types` and `log` above.
#[doc(hidden)]
pub mod integration_bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "integration-check",
        pub_export_macro: true,
        export_macro_name: "__export_integration_check",
        default_bindings_module: "assay_sdk::integration_bindings",
        runtime_path: "assay_sdk::__private::wit_bindgen::rt",
        with: {
            "assay:plugin/types@0.1.1": crate::bindings::assay::plugin::types,
            "assay:plugin/log@0.1.1": crate::bindings::assay::plugin::log,
        },
    });
}

/// The sandbox platform an integration check drives: the marketplace API as an installed app
/// sees it, served from a seeded tenant that is fresh for every run.
///
/// Every function needs a scope (see its documentation); a call the listing's scopes do not
/// cover returns [`PlatformError::Forbidden`] and is reported to the reviewer. Calls are
/// budgeted: after [`PlatformError::BudgetExhausted`], return your findings.
pub mod platform {
    pub use crate::integration_bindings::assay::plugin::platform::*;
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}

pub use bindings::assay::plugin::types::{
    CheckInput, DataShare, Finding, Listing, Plan, Pricing, PricingModel, RuleInfo, Scope, Severity, SupportContact,
    Urls, Webhook,
};

/// A listing-QA rule.
///
/// Both functions are called in a fresh sandbox: a rule keeps no state between calls.
pub trait Rule {
    /// The rule's identity and defaults. Must not depend on any input.
    fn info() -> RuleInfo;

    /// Check one listing version. Return every finding (none means the listing passes),
    /// or `Err` with a message when the rule itself cannot run.
    fn check(input: &CheckInput, config: &Config) -> Result<Vec<Finding>, String>;
}

/// Per-rule configuration the rule pack passes to a rule (key/value pairs).
#[derive(Debug, Clone, Default)]
pub struct Config(Vec<(String, String)>);

impl Config {
    /// Configuration from pairs; the host passes them, tests build them.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Config(pairs)
    }

    /// The value for `key`, if the pack sets it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A comma-separated value for `key` as a list, or `default` when the pack does not set it.
    pub fn list<'a>(&'a self, key: &str, default: &[&'a str]) -> Vec<&'a str> {
        match self.get(key) {
            Some(value) => value.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
            None => default.to_vec(),
        }
    }
}

/// Export a type implementing [`Rule`] as this component's rule.
///
/// Use it once per crate, at the top level: `assay_sdk::export_rule!(MyRule);`
#[macro_export]
macro_rules! export_rule {
    ($rule:ty) => {
        const _: () = {
            struct AssayRuleExport;

            impl $crate::bindings::exports::assay::plugin::rule::Guest for AssayRuleExport {
                fn describe() -> $crate::RuleInfo {
                    <$rule as $crate::Rule>::info()
                }

                fn check(
                    input: $crate::CheckInput,
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<$crate::Finding>,
                    $crate::bindings::assay::plugin::types::RuleError,
                > {
                    <$rule as $crate::Rule>::check(&input, &$crate::Config::new(config))
                        .map_err(|message| $crate::bindings::assay::plugin::types::RuleError { message })
                }
            }

    $crate::__export_listing_rule_impl!(AssayRuleExport with_types_in $crate::bindings);
        };
    };
}

/// A partner's integration check: exercises the integration against the sandbox platform.
///
/// ```no_run
/// use assay_sdk::platform::{self, PlatformError};
/// use assay_sdk::{export_integration, finding, CheckInput, Finding, Integration, RuleInfo, Severity};
///
/// struct OrdersReadable;
///
/// impl Integration for OrdersReadable {
///     fn info() -> RuleInfo {
///         RuleInfo::new("acme.orders-readable", "Orders are readable", "1.0.0", Severity::Error)
///     }
///
///     fn run(_input: &CheckInput) -> Result<Vec<Finding>, String> {
///         match platform::list_orders(None, 10) {
///             Ok(_) => Ok(vec![]),
///             Err(PlatformError::BudgetExhausted) => Err("out of platform budget".into()),
///             Err(e) => Ok(vec![finding("/scopes", format!("listing orders failed: {e:?}"))]),
///         }
///     }
/// }
///
/// export_integration!(OrdersReadable);
/// ```
pub trait Integration {
    /// The check's identity and defaults. Must not depend on any input; the platform is closed
    /// while it runs.
    fn info() -> RuleInfo;

    /// Exercise the integration for this listing version and return every finding (none means
    /// it works as the listing says), or `Err` when the check itself cannot run.
    fn run(input: &CheckInput) -> Result<Vec<Finding>, String>;
}

/// Export a type implementing [`Integration`] as this component's integration check.
///
/// Use it once per crate, at the top level, and never together with [`export_rule!`]:
/// `assay_sdk::export_integration!(MyCheck);`
#[macro_export]
macro_rules! export_integration {
    ($check:ty) => {
        const _: () = {
            struct AssayIntegrationExport;

            impl $crate::integration_bindings::exports::assay::plugin::integration::Guest for AssayIntegrationExport {
                fn describe() -> $crate::RuleInfo {
                    <$check as $crate::Integration>::info()
                }

                fn run(
                    input: $crate::CheckInput,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<$crate::Finding>,
                    $crate::bindings::assay::plugin::types::RuleError,
                > {
                    <$check as $crate::Integration>::run(&input)
                        .map_err(|message| $crate::bindings::assay::plugin::types::RuleError { message })
                }
            }

    $crate::__export_integration_check_impl!(AssayIntegrationExport with_types_in $crate::integration_bindings);
        };
    };
}

/// A finding at `pointer` (a JSON Pointer into the manifest, see [`pointer`]) with the rule's
/// default severity. Chain [`Finding::remediation`] and [`Finding::severity`] to refine it.
pub fn finding(pointer: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding { message: message.into(), pointer: pointer.into(), remediation: None, severity: None }
}

impl Finding {
    /// Say how to fix it.
    pub fn remediation(mut self, hint: impl Into<String>) -> Self {
        self.remediation = Some(hint.into());
        self
    }

    /// Override the rule's default severity for this finding.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}

impl RuleInfo {
    /// A rule's identity. `id` is stable and never reused; `version` is the rule's semver.
    /// Without a [`RuleInfo::help_url`] of its own, a rule's findings link to the review
    /// service's page for it (`{public URL}/rules/{id}`), which shows the documentation its
    /// pack ships.
    pub fn new(id: &str, name: &str, version: &str, default_severity: Severity) -> Self {
        RuleInfo {
            id: id.to_owned(),
            name: name.to_owned(),
            version: version.to_owned(),
            description: String::new(),
            default_severity,
            help_url: String::new(),
        }
    }

    /// What the rule checks and why.
    pub fn description(mut self, text: &str) -> Self {
        self.description = text.to_owned();
        self
    }

    /// Where partners read more, if not the review service's page for the rule.
    pub fn help_url(mut self, url: &str) -> Self {
        self.help_url = url.to_owned();
        self
    }
}

/// Build a JSON Pointer (RFC 6901) from path segments, escaping `~` and `/`.
///
/// `pointer(["scopes", "2", "name"])` is `/scopes/2/name`.
pub fn pointer<I, S>(segments: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for segment in segments {
        out.push('/');
        out.push_str(&segment.as_ref().replace('~', "~0").replace('/', "~1"));
    }
    out
}

/// Bounded diagnostics for rule authors. Logs never change a verdict.
pub mod log {
    use crate::bindings::assay::plugin::log::{Level, log};

    /// Log detail for rule authors.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }

    /// Log normal progress.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Log something unexpected that the rule handled.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }

    /// Log something the rule could not handle.
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
}

#[cfg(test)]
mod tests {
    use super::pointer;

    #[test]
    fn pointer_escapes_per_rfc_6901() {
        assert_eq!(pointer(["scopes", "2", "name"]), "/scopes/2/name");
        assert_eq!(pointer(["webhooks", "orders/create"]), "/webhooks/orders~1create");
        assert_eq!(pointer(["a~b"]), "/a~0b");
        assert_eq!(pointer::<[&str; 0], &str>([]), "");
    }
}
