//! A listing as `assay:plugin@0.1` WIT values.
//!
//! The benchmarks' bare-wasmtime floor (`benches/floor/mod.rs`) compiles this file too, by path,
//! against its own bindings of the same WIT, so that it measures with the very input the host
//! passes. So it names the generated types only through `super::types`.

use assay_core::manifest::{Manifest, Plan, PricingModel};

use super::types as wit;

/// The `check-input` of a review: converted once, shared by every check of that review.
pub(crate) fn check_input(listing: &Manifest, previous: Option<&Manifest>) -> wit::CheckInput {
    wit::CheckInput { listing: self::listing(listing), previous: previous.map(self::listing) }
}

fn listing(m: &Manifest) -> wit::Listing {
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
            homepage: url(m.urls.homepage.as_ref()),
            privacy_policy: url(m.urls.privacy_policy.as_ref()),
            terms: url(m.urls.terms.as_ref()),
            support: url(m.urls.support.as_ref()),
        },
        support: wit::SupportContact {
            email: m.support.email.clone(),
            url: url(m.support.url.as_ref()),
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

// Generic so that the floor, which does not depend on `url`, compiles it too.
fn url(u: Option<&impl ToString>) -> Option<String> {
    u.map(ToString::to_string)
}

fn plan(p: &Plan) -> wit::Plan {
    wit::Plan {
        name: p.name.clone(),
        price_cents: p.price_cents,
        currency: p.currency.clone(),
        interval: p.interval.clone(),
    }
}
