//! The sandbox platform an integration check talks to: a seeded tenant (shop, products, orders,
//! customers, webhooks) that is fresh for every run, scope enforcement, the transcript of calls,
//! and the budget that bounds what a guest can make the host do.
//!
//! Determinism: the tenant comes from [`Tenant::seeded`], which uses its own splitmix64 so that
//! the same seed gives the same shop on every assay version (a library's generator may change
//! its stream in a minor release; a replay must not). Nothing here reads a clock.
//!
//! The data and the operations are the host's own; the bindings of each WIT version implement
//! the `platform` interface by calling them and converting the records.

use assay_core::integration::{CallOutcome, PlatformCall, Scope};

/// The seed a run uses unless told otherwise (`assay check --seed`).
pub const DEFAULT_SEED: u64 = 2026;

/// Limits on single fields of a request, beyond the run's byte budget.
const MAX_TITLE: usize = 255;
const MAX_TAG: usize = 64;
const MAX_TAGS: usize = 16;
const MAX_URL: usize = 2048;
const MAX_TOPIC: usize = 128;
const MAX_PAGE: u32 = 100;

/// Webhook topics the platform delivers: the same list as the `webhooks.known-topics` rule
/// (`plugins/rules/webhooks-known-topics`), so a listing that passes the rule can subscribe to
/// every topic it declares (a host test holds the two together).
pub const TOPICS: &[&str] = &[
    "products/create",
    "products/update",
    "products/delete",
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "customers/create",
    "customers/update",
    "customers/delete",
    "app/uninstalled",
    "inventory/update",
    "fulfillments/create",
];

/// A deterministic generator (splitmix64): stable across assay and dependency versions.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `lo..hi` (`hi > lo`).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// The merchant's shop.
#[derive(Debug, Clone)]
pub(crate) struct Shop {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub currency: String,
    pub country: String,
    pub plan: String,
}

/// A product in the catalogue.
#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: u64,
    pub title: String,
    pub price_cents: u64,
    pub inventory: i64,
    pub status: String,
    pub tags: Vec<String>,
}

/// What `create-product` needs.
#[derive(Debug, Clone)]
pub(crate) struct ProductDraft {
    pub title: String,
    pub price_cents: u64,
    pub inventory: u32,
    pub tags: Vec<String>,
}

/// One line of an order.
#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub product_id: u64,
    pub quantity: u32,
    pub price_cents: u64,
}

/// An order.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: u64,
    pub customer_id: u64,
    pub line_items: Vec<LineItem>,
    pub total_cents: u64,
    pub financial_status: String,
    pub fulfillment_status: String,
    pub tags: Vec<String>,
}

/// A customer of the shop.
#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub id: u64,
    pub email: String,
    pub name: String,
    pub accepts_marketing: bool,
    pub orders_count: u32,
}

/// A webhook registered by the app.
#[derive(Debug, Clone)]
pub(crate) struct WebhookSubscription {
    pub id: u64,
    pub topic: String,
    pub url: String,
}

/// Why the platform refused a call. A refused call changes nothing.
#[derive(Debug, Clone)]
pub(crate) enum PlatformError {
    /// The listing was not granted this scope.
    Forbidden(String),
    /// No object has that id.
    NotFound,
    /// Malformed or too large; the payload says how.
    Invalid(String),
    /// The run has used its budget of calls or bytes.
    BudgetExhausted,
}

/// A platform call's outcome: the platform's answer, or a trap once the guest insisted past its
/// budget.
pub(crate) type Answer<T> = wasmtime::Result<Result<T, PlatformError>>;

/// The sandbox tenant: one shop and its data.
#[derive(Debug, Clone)]
pub struct Tenant {
    shop: Shop,
    products: Vec<Product>,
    orders: Vec<Order>,
    customers: Vec<Customer>,
    webhooks: Vec<WebhookSubscription>,
    next_product: u64,
    next_webhook: u64,
}

impl Tenant {
    /// The tenant for `seed`: 24 products, 30 customers, 40 orders.
    pub fn seeded(seed: u64) -> Tenant {
        let mut rng = SplitMix(seed);
        let adjectives = ["Alpine", "Harbor", "Copper", "Meadow", "Summit", "Velvet", "Cedar", "Juniper"];
        let nouns = ["Mug", "Backpack", "Lantern", "Notebook", "Scarf", "Kettle", "Candle", "Blanket"];
        let shop_names = ["Northwind Goods", "Bluebird Supply", "Maple & Co", "Tidewater Outfitters"];
        let first = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Radia", "Edsger", "Frances"];
        let last = ["Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Perlman", "Dijkstra", "Allen"];
        let name = rng.pick(&shop_names).to_owned();
        let shop = Shop {
            id: format!("shop-{:08x}", rng.next() as u32),
            domain: format!(
                "{}.sandbox.assay.dev",
                name.to_ascii_lowercase().replace([' ', '&'], "-").replace("--", "-")
            ),
            name,
            currency: rng.pick(&["USD", "EUR", "GBP", "CAD"]).to_owned(),
            country: rng.pick(&["US", "DE", "GB", "CA"]).to_owned(),
            plan: rng.pick(&["basic", "growth", "plus"]).to_owned(),
        };
        let products: Vec<Product> = (0..24)
            .map(|i| Product {
                id: 1001 + i,
                title: format!("{} {}", rng.pick(&adjectives), rng.pick(&nouns)),
                price_cents: rng.range(5, 200) * 100 - 1,
                inventory: rng.range(0, 250) as i64,
                status: rng.pick(&["active", "active", "active", "draft", "archived"]).to_owned(),
                tags: vec![rng.pick(&["new", "sale", "gift", "bestseller"]).to_owned()],
            })
            .collect();
        let customers: Vec<Customer> = (0..30)
            .map(|i| {
                let (f, l) = (rng.pick(&first), rng.pick(&last));
                Customer {
                    id: 9001 + i,
                    email: format!("{}.{}{}@example.com", f.to_ascii_lowercase(), l.to_ascii_lowercase(), i),
                    name: format!("{f} {l}"),
                    accepts_marketing: rng.next().is_multiple_of(3),
                    orders_count: 0,
                }
            })
            .collect();
        let mut tenant = Tenant {
            shop,
            next_product: 1001 + products.len() as u64,
            products,
            orders: Vec::new(),
            customers,
            webhooks: Vec::new(),
            next_webhook: 1,
        };
        for i in 0..40 {
            let lines = rng.range(1, 4);
            let line_items: Vec<LineItem> = (0..lines)
                .map(|_| {
                    let product = &tenant.products[rng.range(0, tenant.products.len() as u64) as usize];
                    LineItem {
                        product_id: product.id,
                        quantity: rng.range(1, 4) as u32,
                        price_cents: product.price_cents,
                    }
                })
                .collect();
            let customer = rng.range(0, tenant.customers.len() as u64) as usize;
            tenant.customers[customer].orders_count += 1;
            tenant.orders.push(Order {
                id: 5001 + i,
                customer_id: tenant.customers[customer].id,
                total_cents: line_items.iter().map(|l| l.price_cents * u64::from(l.quantity)).sum(),
                line_items,
                financial_status: rng.pick(&["paid", "paid", "paid", "pending", "refunded"]).to_owned(),
                fulfillment_status: rng.pick(&["unfulfilled", "fulfilled"]).to_owned(),
                tags: Vec::new(),
            });
        }
        tenant
    }
}

/// Why a run was stopped by the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetHit {
    /// Too many calls.
    Calls,
    /// Too many bytes sent.
    Bytes,
}

/// The platform side of one run: the tenant, what the listing was granted, and the record.
#[derive(Debug)]
pub struct PlatformState {
    tenant: Option<Tenant>,
    seed: u64,
    granted: Vec<Scope>,
    max_calls: usize,
    max_bytes: usize,
    /// Every call, in order (bounded by the call budget plus one).
    pub transcript: Vec<PlatformCall>,
    /// Calls made (refused ones included).
    pub calls: u64,
    /// Bytes sent in arguments.
    pub bytes_out: u64,
    /// The budget the run ran out of, once it did.
    pub exhausted: Option<BudgetHit>,
    /// Set when the guest called again after `budget-exhausted`; the call trapped.
    pub stopped: bool,
}

impl PlatformState {
    /// A run against a fresh tenant for `seed`, granting `scopes` (the listing's requested
    /// scopes; names that are not platform scopes grant nothing).
    pub fn new(seed: u64, scopes: &[String], max_calls: usize, max_bytes: usize) -> Self {
        PlatformState {
            tenant: None,
            seed,
            granted: scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
            max_calls,
            max_bytes,
            transcript: Vec::new(),
            calls: 0,
            bytes_out: 0,
            exhausted: None,
            stopped: false,
        }
    }

    /// No platform at all (rules, and `describe`): every call is refused with `forbidden`,
    /// and a guest that insists past a small budget is stopped.
    pub fn closed() -> Self {
        PlatformState::new(DEFAULT_SEED, &[], 16, 4 << 10)
    }

    /// One call: budget, then scope, then the operation on the tenant. The tenant is built on
    /// the first allowed call, so checks that never call the platform never pay for it.
    fn call<T>(
        &mut self,
        operation: &'static str,
        scope: &'static str,
        bytes: usize,
        op: impl FnOnce(&mut Tenant) -> Result<T, PlatformError>,
    ) -> Answer<T> {
        if self.exhausted.is_some() {
            self.stopped = true;
            return Err(wasmtime::format_err!("platform call after the budget was spent"));
        }
        self.calls += 1;
        self.bytes_out = self.bytes_out.saturating_add(bytes as u64);
        let record = |this: &mut Self, outcome| {
            this.transcript.push(PlatformCall {
                operation: operation.to_owned(),
                scope: scope.to_owned(),
                outcome,
                bytes_out: bytes as u64,
            });
        };
        let over = if self.calls > self.max_calls as u64 {
            Some(BudgetHit::Calls)
        } else if self.bytes_out > self.max_bytes as u64 {
            Some(BudgetHit::Bytes)
        } else {
            None
        };
        if let Some(hit) = over {
            self.exhausted = Some(hit);
            record(self, CallOutcome::BudgetExhausted);
            return Ok(Err(PlatformError::BudgetExhausted));
        }
        let needed = Scope::parse(scope).expect("operations name platform scopes");
        if !self.granted.iter().any(|g| g.covers(&needed)) {
            record(self, CallOutcome::Forbidden);
            return Ok(Err(PlatformError::Forbidden(scope.to_owned())));
        }
        let seed = self.seed;
        let tenant = self.tenant.get_or_insert_with(|| Tenant::seeded(seed));
        let result = op(tenant);
        let outcome = match &result {
            Ok(_) => CallOutcome::Ok,
            Err(PlatformError::NotFound) => CallOutcome::NotFound,
            Err(PlatformError::Invalid(_)) => CallOutcome::Invalid,
            Err(PlatformError::Forbidden(_)) => CallOutcome::Forbidden,
            Err(PlatformError::BudgetExhausted) => CallOutcome::BudgetExhausted,
        };
        record(self, outcome);
        Ok(result)
    }
}

fn page<T: Clone>(
    items: &[T],
    id: impl Fn(&T) -> u64,
    after: Option<u64>,
    limit: u32,
) -> Result<Vec<T>, PlatformError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(PlatformError::Invalid(format!("limit must be 1 to {MAX_PAGE}, not {limit}")));
    }
    Ok(items.iter().filter(|x| after.is_none_or(|a| id(x) > a)).take(limit as usize).cloned().collect())
}

fn bounded(field: &str, value: &str, max: usize) -> Result<(), PlatformError> {
    if value.len() > max {
        return Err(PlatformError::Invalid(format!("{field} is {} bytes; the limit is {max}", value.len())));
    }
    Ok(())
}

fn find<T>(items: &mut [T], id: impl Fn(&T) -> u64, wanted: u64) -> Result<&mut T, PlatformError> {
    items.iter_mut().find(|x| id(x) == wanted).ok_or(PlatformError::NotFound)
}

/// The operations of the platform interface, one method each.
impl PlatformState {
    pub(crate) fn get_shop(&mut self) -> Answer<Shop> {
        self.call("get-shop", "read_shop", 0, |t| Ok(t.shop.clone()))
    }

    pub(crate) fn list_products(&mut self, after: Option<u64>, limit: u32) -> Answer<Vec<Product>> {
        self.call("list-products", "read_products", 0, |t| page(&t.products, |p| p.id, after, limit))
    }

    pub(crate) fn get_product(&mut self, id: u64) -> Answer<Product> {
        self.call("get-product", "read_products", 0, |t| find(&mut t.products, |p| p.id, id).cloned())
    }

    pub(crate) fn create_product(&mut self, draft: ProductDraft) -> Answer<Product> {
        // What crosses the boundary: each tag's text and its (pointer, length) pair, so a flood
        // of empty tags is not free.
        let bytes = draft.title.len() + draft.tags.iter().map(|tag| 8 + tag.len()).sum::<usize>();
        self.call("create-product", "write_products", bytes, |t| {
            if draft.title.is_empty() {
                return Err(PlatformError::Invalid("title is empty".into()));
            }
            bounded("title", &draft.title, MAX_TITLE)?;
            if draft.tags.len() > MAX_TAGS {
                return Err(PlatformError::Invalid(format!("{} tags; the limit is {MAX_TAGS}", draft.tags.len())));
            }
            draft.tags.iter().try_for_each(|tag| bounded("a tag", tag, MAX_TAG))?;
            let product = Product {
                id: t.next_product,
                title: draft.title,
                price_cents: draft.price_cents,
                inventory: i64::from(draft.inventory),
                status: "draft".into(),
                tags: draft.tags,
            };
            t.next_product += 1;
            t.products.push(product.clone());
            Ok(product)
        })
    }

    pub(crate) fn adjust_inventory(&mut self, product_id: u64, delta: i32) -> Answer<Product> {
        self.call("adjust-inventory", "write_inventory", 0, |t| {
            let product = find(&mut t.products, |p| p.id, product_id)?;
            product.inventory = product.inventory.saturating_add(i64::from(delta));
            Ok(product.clone())
        })
    }

    pub(crate) fn list_orders(&mut self, after: Option<u64>, limit: u32) -> Answer<Vec<Order>> {
        self.call("list-orders", "read_orders", 0, |t| page(&t.orders, |o| o.id, after, limit))
    }

    pub(crate) fn get_order(&mut self, id: u64) -> Answer<Order> {
        self.call("get-order", "read_orders", 0, |t| find(&mut t.orders, |o| o.id, id).cloned())
    }

    pub(crate) fn tag_order(&mut self, id: u64, tag: String) -> Answer<Order> {
        self.call("tag-order", "write_orders", tag.len(), |t| {
            bounded("tag", &tag, MAX_TAG)?;
            let order = find(&mut t.orders, |o| o.id, id)?;
            if !order.tags.contains(&tag) && order.tags.len() < MAX_TAGS {
                order.tags.push(tag);
            }
            Ok(order.clone())
        })
    }

    pub(crate) fn fulfill_order(&mut self, id: u64) -> Answer<Order> {
        self.call("fulfill-order", "write_fulfillments", 0, |t| {
            let order = find(&mut t.orders, |o| o.id, id)?;
            order.fulfillment_status = "fulfilled".into();
            Ok(order.clone())
        })
    }

    pub(crate) fn list_customers(&mut self, after: Option<u64>, limit: u32) -> Answer<Vec<Customer>> {
        self.call("list-customers", "read_customers", 0, |t| page(&t.customers, |c| c.id, after, limit))
    }

    pub(crate) fn get_customer(&mut self, id: u64) -> Answer<Customer> {
        self.call("get-customer", "read_customers", 0, |t| find(&mut t.customers, |c| c.id, id).cloned())
    }

    pub(crate) fn list_webhooks(&mut self) -> Answer<Vec<WebhookSubscription>> {
        self.call("list-webhooks", "read_webhooks", 0, |t| Ok(t.webhooks.clone()))
    }

    pub(crate) fn register_webhook(&mut self, topic: String, url: String) -> Answer<WebhookSubscription> {
        self.call("register-webhook", "write_webhooks", topic.len() + url.len(), |t| {
            bounded("topic", &topic, MAX_TOPIC)?;
            bounded("url", &url, MAX_URL)?;
            if !TOPICS.contains(&topic.as_str()) {
                return Err(PlatformError::Invalid(format!("unknown topic `{topic}`; known: {}", TOPICS.join(", "))));
            }
            if !url.starts_with("https://") {
                return Err(PlatformError::Invalid("the URL must use https".into()));
            }
            let webhook = WebhookSubscription { id: t.next_webhook, topic, url };
            t.next_webhook += 1;
            t.webhooks.push(webhook.clone());
            Ok(webhook)
        })
    }

    pub(crate) fn delete_webhook(&mut self, id: u64) -> Answer<()> {
        self.call("delete-webhook", "write_webhooks", 0, |t| {
            let before = t.webhooks.len();
            t.webhooks.retain(|w| w.id != id);
            if t.webhooks.len() == before { Err(PlatformError::NotFound) } else { Ok(()) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_tenant_and_another_seed_another() {
        let a = Tenant::seeded(7);
        let b = Tenant::seeded(7);
        let c = Tenant::seeded(8);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_ne!(format!("{a:?}"), format!("{c:?}"));
        assert_eq!(a.products.len(), 24);
        assert_eq!(a.orders.len(), 40);
        assert!(a.orders.iter().all(|o| o.total_cents > 0 && !o.line_items.is_empty()));
    }

    #[test]
    fn scopes_budget_and_payloads_are_enforced() {
        let mut p = PlatformState::new(1, &["write_orders".into()], 3, 100);
        assert!(
            p.call("get-order", "read_orders", 0, |t| find(&mut t.orders, |o| o.id, 5001).cloned()).unwrap().is_ok()
        );
        let refused = p.call("get-shop", "read_shop", 0, |t| Ok(t.shop.clone())).unwrap();
        assert!(matches!(refused, Err(PlatformError::Forbidden(s)) if s == "read_shop"));
        let big = p.call("tag-order", "write_orders", 500, |_| Ok(())).unwrap();
        assert!(matches!(big, Err(PlatformError::BudgetExhausted)), "500 bytes is over the 100-byte budget");
        assert!(p.call("get-shop", "read_shop", 0, |_| Ok(())).is_err(), "a call after exhaustion traps");
        assert!(p.stopped);
        let outcomes: Vec<_> = p.transcript.iter().map(|c| c.outcome).collect();
        assert_eq!(outcomes, [CallOutcome::Ok, CallOutcome::Forbidden, CallOutcome::BudgetExhausted]);
    }

    #[test]
    fn a_closed_platform_refuses_calls_as_forbidden() {
        let mut p = PlatformState::closed();
        let refused = p.call("get-shop", "read_shop", 0, |t| Ok(t.shop.clone())).unwrap();
        assert!(matches!(refused, Err(PlatformError::Forbidden(s)) if s == "read_shop"));
        assert!(p.tenant.is_none(), "a refused call builds no tenant");
    }
}
