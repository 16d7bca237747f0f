//! The integration check of "Acme Shop Sync", an example partner app.
//!
//! The app mirrors a shop's catalogue and orders into Acme's warehouse system, tags each order
//! it has synced, and subscribes to the webhooks its listing declares. This check does what the
//! app does on install, against assay's sandbox platform, and reports what would break.

use assay_sdk::platform::{self, PlatformError};
use assay_sdk::{CheckInput, Finding, Integration, RuleInfo, Severity, export_integration, finding, log, pointer};

struct ShopSync;

/// The tag the app puts on every order it has synced.
const SYNCED_TAG: &str = "acme-synced";

impl Integration for ShopSync {
    fn info() -> RuleInfo {
        RuleInfo::new("acme.shop-sync", "Acme Shop Sync installs and syncs", "1.0.0", Severity::Error)
            .description(
                "Reads the shop, pages through the catalogue, syncs and tags the newest orders, and \
                 subscribes to every webhook the listing declares.",
            )
            .help_url("https://acme.example/docs/assay-check")
    }

    fn run(input: &CheckInput) -> Result<Vec<Finding>, String> {
        let mut findings = Vec::new();
        let shop = platform::get_shop().map_err(|e| format!("cannot read the shop: {e:?}"))?;
        log::info(&format!("syncing {} ({}, {}, {})", shop.name, shop.id, shop.domain, shop.currency));

        // The catalogue, page by page, as the app's first sync does.
        let mut after = None;
        let mut products = 0;
        loop {
            let page = match platform::list_products(after, 10) {
                Ok(page) => page,
                Err(e) => {
                    findings.push(refused("/scopes", "reading the catalogue", e));
                    break;
                }
            };
            products += page.len();
            match page.last() {
                Some(last) => after = Some(last.id),
                None => break,
            }
        }
        log::info(&format!("{products} products mirrored"));

        // The five newest-by-id orders: totals must add up, then the app tags them as synced.
        match platform::list_orders(None, 5) {
            Ok(orders) => {
                for order in orders {
                    let lines: u64 = order.line_items.iter().map(|l| l.price_cents * u64::from(l.quantity)).sum();
                    if lines != order.total_cents {
                        findings.push(finding(
                            "",
                            format!("order {} totals {} but its lines add up to {lines}", order.id, order.total_cents),
                        ));
                    }
                    if let Err(e) = platform::tag_order(order.id, SYNCED_TAG) {
                        findings.push(refused("/scopes", "tagging a synced order", e));
                        break;
                    }
                }
            }
            Err(e) => findings.push(refused("/scopes", "reading orders", e)),
        }

        // Every webhook the listing declares must be accepted by the platform.
        for (i, webhook) in input.listing.webhooks.iter().enumerate() {
            if let Err(e) = platform::register_webhook(&webhook.topic, &webhook.url) {
                let at = pointer(["webhooks", &i.to_string()]);
                findings.push(refused(&at, &format!("subscribing to `{}`", webhook.topic), e));
            }
        }
        Ok(findings)
    }
}

/// A finding for a platform call the app needs and could not make.
fn refused(at: &str, what: &str, error: PlatformError) -> Finding {
    let (message, hint) = match error {
        PlatformError::Forbidden(scope) => {
            (format!("{what} needs scope `{scope}`"), format!("Request `{scope}` in listing.toml."))
        }
        PlatformError::Invalid(why) => (format!("{what} was refused: {why}"), "Fix the request.".to_owned()),
        PlatformError::NotFound => (format!("{what} found nothing"), "Check the ids the app uses.".to_owned()),
        PlatformError::BudgetExhausted => {
            (format!("{what} ran out of platform budget"), "Make fewer platform calls.".to_owned())
        }
    };
    finding(at, message).remediation(hint)
}

export_integration!(ShopSync);
