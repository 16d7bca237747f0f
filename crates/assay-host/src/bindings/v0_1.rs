//! `assay:plugin@0.1.x`: 0.1.0 (`listing-rule`) and 0.1.1 (adds `integration-check`). wasmtime
//! matches semver-compatible names, so a component built against 0.1.0 links against these.
//!
//! The generated types stop here: this module converts the host's values to them and back, and
//! implements the imports by calling the sandbox's and the platform's own methods.

use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

use super::{GuestFinding, GuestRuleInfo, World};
use crate::platform::{self as host, Answer};
use crate::sandbox::Sandbox;

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "listing-rule",
    // `log` may trap: a guest that logs past its budget is stopped.
    imports: { "assay:plugin/log.log": trappable },
});

use assay::plugin::types;

/// The `integration-check` world (since 0.1.1), sharing `types` and `log` with the above.
mod integration {
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

mod listing;

use integration::assay::plugin::platform as wit;
pub(crate) use listing::check_input;
pub(crate) use types::CheckInput;

/// Adds `types`, `log` and (0.1.1) `platform` to the linker.
pub(crate) fn add_to_linker(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    ListingRule::add_to_linker::<_, Sandbox>(linker, |s| s)?;
    // The integration world shares `types` and `log`; only `platform` is new.
    integration::assay::plugin::platform::add_to_linker::<_, Sandbox>(linker, |s| s)
}

/// A 0.1 component ready to instantiate, per world.
pub(crate) enum Pre {
    Rule(ListingRulePre<Sandbox>),
    Integration(integration::IntegrationCheckPre<Sandbox>),
}

pub(crate) fn pre(world: World, instance_pre: InstancePre<Sandbox>) -> wasmtime::Result<super::Pre> {
    Ok(super::Pre::V0_1(match world {
        World::ListingRule => Pre::Rule(ListingRulePre::new(instance_pre)?),
        World::IntegrationCheck => Pre::Integration(integration::IntegrationCheckPre::new(instance_pre)?),
    }))
}

impl Pre {
    pub(crate) fn describe(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<GuestRuleInfo> {
        let info = match self {
            Pre::Rule(pre) => pre.instantiate(&mut *store)?.assay_plugin_rule().call_describe(&mut *store)?,
            Pre::Integration(pre) => {
                pre.instantiate(&mut *store)?.assay_plugin_integration().call_describe(&mut *store)?
            }
        };
        Ok(info.into())
    }

    #[allow(clippy::ptr_arg)] // the generated `call_check` takes `&Vec`
    pub(crate) fn check(
        &self,
        store: &mut Store<Sandbox>,
        input: &CheckInput,
        config: &Vec<(String, String)>,
    ) -> wasmtime::Result<Result<Vec<GuestFinding>, String>> {
        let returned = match self {
            Pre::Rule(pre) => {
                pre.instantiate(&mut *store)?.assay_plugin_rule().call_check(&mut *store, input, config)?
            }
            Pre::Integration(pre) => {
                pre.instantiate(&mut *store)?.assay_plugin_integration().call_run(&mut *store, input)?
            }
        };
        // Same size element for element: the vector is converted in place, not reallocated.
        Ok(returned.map(|findings| findings.into_iter().map(GuestFinding::from).collect()).map_err(|e| e.message))
    }
}

impl From<types::Severity> for assay_core::Severity {
    fn from(s: types::Severity) -> Self {
        match s {
            types::Severity::Info => assay_core::Severity::Info,
            types::Severity::Warning => assay_core::Severity::Warning,
            types::Severity::Error => assay_core::Severity::Error,
            types::Severity::Blocker => assay_core::Severity::Blocker,
        }
    }
}

impl From<types::Finding> for GuestFinding {
    fn from(f: types::Finding) -> Self {
        GuestFinding {
            severity: f.severity.map(Into::into),
            message: f.message,
            pointer: f.pointer,
            remediation: f.remediation,
        }
    }
}

impl From<types::RuleInfo> for GuestRuleInfo {
    fn from(info: types::RuleInfo) -> Self {
        GuestRuleInfo {
            id: info.id,
            name: info.name,
            description: info.description,
            version: info.version,
            default_severity: info.default_severity.into(),
            help_url: info.help_url,
        }
    }
}

// `types` has no functions; the empty impl is what the generated linker asks for.
impl types::Host for Sandbox {}

impl assay::plugin::log::Host for Sandbox {
    fn log(&mut self, level: assay::plugin::log::Level, message: String) -> wasmtime::Result<()> {
        use assay::plugin::log::Level;
        let level = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        self.log.record(level, message)
    }
}

/// A platform call's answer in 0.1 values (a trap stays a trap).
fn answer<T, W: From<T>>(call: Answer<T>) -> wasmtime::Result<Result<W, wit::PlatformError>> {
    Ok(call?.map(W::from).map_err(Into::into))
}

/// The same for a page of items.
fn page<T, W: From<T>>(call: Answer<Vec<T>>) -> wasmtime::Result<Result<Vec<W>, wit::PlatformError>> {
    Ok(call?.map(|items| items.into_iter().map(W::from).collect()).map_err(Into::into))
}

impl wit::Host for Sandbox {
    fn get_shop(&mut self) -> wasmtime::Result<Result<wit::Shop, wit::PlatformError>> {
        answer(self.platform.get_shop())
    }

    fn list_products(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<wit::Product>, wit::PlatformError>> {
        page(self.platform.list_products(after, limit))
    }

    fn get_product(&mut self, id: u64) -> wasmtime::Result<Result<wit::Product, wit::PlatformError>> {
        answer(self.platform.get_product(id))
    }

    fn create_product(
        &mut self,
        draft: wit::ProductDraft,
    ) -> wasmtime::Result<Result<wit::Product, wit::PlatformError>> {
        answer(self.platform.create_product(draft.into()))
    }

    fn adjust_inventory(
        &mut self,
        product_id: u64,
        delta: i32,
    ) -> wasmtime::Result<Result<wit::Product, wit::PlatformError>> {
        answer(self.platform.adjust_inventory(product_id, delta))
    }

    fn list_orders(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<wit::Order>, wit::PlatformError>> {
        page(self.platform.list_orders(after, limit))
    }

    fn get_order(&mut self, id: u64) -> wasmtime::Result<Result<wit::Order, wit::PlatformError>> {
        answer(self.platform.get_order(id))
    }

    fn tag_order(&mut self, id: u64, tag: String) -> wasmtime::Result<Result<wit::Order, wit::PlatformError>> {
        answer(self.platform.tag_order(id, tag))
    }

    fn fulfill_order(&mut self, id: u64) -> wasmtime::Result<Result<wit::Order, wit::PlatformError>> {
        answer(self.platform.fulfill_order(id))
    }

    fn list_customers(
        &mut self,
        after: Option<u64>,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<wit::Customer>, wit::PlatformError>> {
        page(self.platform.list_customers(after, limit))
    }

    fn get_customer(&mut self, id: u64) -> wasmtime::Result<Result<wit::Customer, wit::PlatformError>> {
        answer(self.platform.get_customer(id))
    }

    fn list_webhooks(&mut self) -> wasmtime::Result<Result<Vec<wit::WebhookSubscription>, wit::PlatformError>> {
        page(self.platform.list_webhooks())
    }

    fn register_webhook(
        &mut self,
        topic: String,
        url: String,
    ) -> wasmtime::Result<Result<wit::WebhookSubscription, wit::PlatformError>> {
        answer(self.platform.register_webhook(topic, url))
    }

    fn delete_webhook(&mut self, id: u64) -> wasmtime::Result<Result<(), wit::PlatformError>> {
        answer(self.platform.delete_webhook(id))
    }
}

impl From<host::PlatformError> for wit::PlatformError {
    fn from(e: host::PlatformError) -> Self {
        match e {
            host::PlatformError::Forbidden(scope) => wit::PlatformError::Forbidden(scope),
            host::PlatformError::NotFound => wit::PlatformError::NotFound,
            host::PlatformError::Invalid(why) => wit::PlatformError::Invalid(why),
            host::PlatformError::BudgetExhausted => wit::PlatformError::BudgetExhausted,
        }
    }
}

impl From<wit::ProductDraft> for host::ProductDraft {
    fn from(d: wit::ProductDraft) -> Self {
        host::ProductDraft { title: d.title, price_cents: d.price_cents, inventory: d.inventory, tags: d.tags }
    }
}

impl From<host::Shop> for wit::Shop {
    fn from(s: host::Shop) -> Self {
        wit::Shop { id: s.id, name: s.name, domain: s.domain, currency: s.currency, country: s.country, plan: s.plan }
    }
}

impl From<host::Product> for wit::Product {
    fn from(p: host::Product) -> Self {
        wit::Product {
            id: p.id,
            title: p.title,
            price_cents: p.price_cents,
            inventory: p.inventory,
            status: p.status,
            tags: p.tags,
        }
    }
}

impl From<host::LineItem> for wit::LineItem {
    fn from(l: host::LineItem) -> Self {
        wit::LineItem { product_id: l.product_id, quantity: l.quantity, price_cents: l.price_cents }
    }
}

impl From<host::Order> for wit::Order {
    fn from(o: host::Order) -> Self {
        wit::Order {
            id: o.id,
            customer_id: o.customer_id,
            line_items: o.line_items.into_iter().map(Into::into).collect(),
            total_cents: o.total_cents,
            financial_status: o.financial_status,
            fulfillment_status: o.fulfillment_status,
            tags: o.tags,
        }
    }
}

impl From<host::Customer> for wit::Customer {
    fn from(c: host::Customer) -> Self {
        wit::Customer {
            id: c.id,
            email: c.email,
            name: c.name,
            accepts_marketing: c.accepts_marketing,
            orders_count: c.orders_count,
        }
    }
}

impl From<host::WebhookSubscription> for wit::WebhookSubscription {
    fn from(w: host::WebhookSubscription) -> Self {
        wit::WebhookSubscription { id: w.id, topic: w.topic, url: w.url }
    }
}
