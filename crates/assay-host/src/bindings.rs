//! Generated bindings, one module per supported version of the `assay:plugin` package, and the
//! conversion of a manifest into WIT values.
//!
//! A released WIT version is frozen: when `0.2.0` arrives, `v0_1` stays and gains a `From`
//! adapter to the newest types, so old components keep running.

use assay_core::manifest::{self, Manifest, PricingModel};

/// `assay:plugin@0.1.x`: 0.1.0 (`listing-rule`) and 0.1.1 (adds `integration-check`). wasmtime
/// matches semver-compatible names, so a component built against 0.1.0 links against these.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "listing-rule",
        // `log` may trap: a guest that logs past its budget is stopped.
        imports: { "assay:plugin/log.log": trappable },
    });

    pub use assay::plugin::types;

    /// The `integration-check` world (since 0.1.1), sharing `types` and `log` with the above.
    pub mod integration {
        wasmtime::component::bindgen!({
            path: "../../wit",
            world: "integration-check",
            // Every platform call may trap: a guest that keeps calling past its budget is stopped.
            imports: { default: trappable },
            with: {
                "assay:plugin/types": super::assay::plugin::types,
                "assay:plugin/log": super::assay::plugin::log,
            },
        });
    }
}

/// The worlds a plugin can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    /// A platform listing-QA rule.
    ListingRule,
    /// A partner's integration check.
    IntegrationCheck,
}

impl World {
    /// The world's WIT name.
    pub fn as_str(self) -> &'static str {
        match self {
            World::ListingRule => "listing-rule",
            World::IntegrationCheck => "integration-check",
        }
    }

    /// The interface the world exports, without a version.
    pub fn export(self) -> &'static str {
        match self {
            World::ListingRule => "assay:plugin/rule",
            World::IntegrationCheck => "assay:plugin/integration",
        }
    }

    /// The first package version that has the world.
    pub fn since(self) -> semver::Version {
        match self {
            World::ListingRule => semver::Version::new(0, 1, 0),
            World::IntegrationCheck => semver::Version::new(0, 1, 1),
        }
    }
}

/// The package versions this host runs: 0.1.0 up to and including this one.
pub const SUPPORTED_VERSIONS: &str = "0.1.0 to 0.1.1";

/// The newest package version this host knows.
pub const NEWEST: semver::Version = semver::Version::new(0, 1, 1);

use v0_1::types as wit;

/// Convert a manifest to the WIT `listing` record. Done once per review and shared by every
/// check of that review.
pub fn listing(m: &Manifest) -> wit::Listing {
    let url = |u: &Option<url::Url>| u.as_ref().map(|u| u.to_string());
    wit::Listing {
        slug: m.slug.to_string(),
        name: m.name.clone(),
        version: m.version.to_string(),
        summary: m.summary.clone(),
        description: m.description.clone(),
        category: m.category.clone(),
        keywords: m.keywords.clone(),
        api_version: m.api_version.clone(),
        urls: wit::Urls {
            homepage: url(&m.urls.homepage),
            privacy_policy: url(&m.urls.privacy_policy),
            terms: url(&m.urls.terms),
            support: url(&m.urls.support),
        },
        support: wit::SupportContact {
            email: m.support.email.clone(),
            url: url(&m.support.url),
            phone: m.support.phone.clone(),
        },
        pricing: wit::Pricing {
            model: match m.pricing.model {
                PricingModel::Free => wit::PricingModel::Free,
                PricingModel::Freemium => wit::PricingModel::Freemium,
                PricingModel::Paid => wit::PricingModel::Paid,
                PricingModel::Subscription => wit::PricingModel::Subscription,
            },
            trial_days: m.pricing.trial_days,
            plans: m.pricing.plans.iter().map(plan).collect(),
        },
        scopes: m
            .scopes
            .iter()
            .map(|s| wit::Scope { name: s.name.clone(), justification: s.justification.clone() })
            .collect(),
        webhooks: m.webhooks.iter().map(|w| wit::Webhook { topic: w.topic.clone(), url: w.url.to_string() }).collect(),
        data_shared: m
            .data_shared
            .iter()
            .map(|d| wit::DataShare {
                data: d.data.clone(),
                recipient: d.recipient.clone(),
                purpose: d.purpose.clone(),
            })
            .collect(),
    }
}

fn plan(p: &manifest::Plan) -> wit::Plan {
    wit::Plan {
        name: p.name.clone(),
        price_cents: p.price_cents,
        currency: p.currency.clone(),
        interval: p.interval.clone(),
    }
}

/// The WIT severity as the domain's.
pub fn severity(s: wit::Severity) -> assay_core::Severity {
    match s {
        wit::Severity::Info => assay_core::Severity::Info,
        wit::Severity::Warning => assay_core::Severity::Warning,
        wit::Severity::Error => assay_core::Severity::Error,
        wit::Severity::Blocker => assay_core::Severity::Blocker,
    }
}
