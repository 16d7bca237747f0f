"""shop-sync: a partner integration check for assay, written in Python.

It drives the sandbox platform the way the "Shop Sync" app would on install: read the shop,
page through products, read one order, and subscribe to new orders. Each step that the platform
refuses becomes one finding at `/webhooks` (severity: the check's default, `error`). Running out
of the platform call budget means the check could not run, so that is a `rule-error` instead.
"""

from typing import List

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import log, platform
from wit_world.imports.types import CheckInput, Finding, RuleError, RuleInfo, Severity

WEBHOOK_TOPIC = "orders/create"
WEBHOOK_URL = "https://acme-apps.com/hooks/orders"


def _describe_error(err: platform.PlatformError) -> str:
    if isinstance(err, platform.PlatformError_Forbidden):
        return f"forbidden (needs scope `{err.value}`)"
    if isinstance(err, platform.PlatformError_NotFound):
        return "not found"
    if isinstance(err, platform.PlatformError_Invalid):
        return f"invalid request: {err.value}"
    if isinstance(err, platform.PlatformError_BudgetExhausted):
        return "call budget exhausted"
    return repr(err)


class Integration(exports.Integration):
    def describe(self) -> RuleInfo:
        return RuleInfo(
            id="partner.shop-sync-py",
            name="Shop Sync install flow (Python)",
            version="1.0.0",
            description=(
                "Runs Shop Sync's install flow against the sandbox shop: reads the shop, "
                "products and an order, and subscribes to orders/create."
            ),
            default_severity=Severity.ERROR,
            help_url="https://example.com/help",
        )

    def run(self, input: CheckInput) -> List[Finding]:
        findings: List[Finding] = []

        def step(what: str, call):
            """Run one platform call; turn a refusal into a finding and return None."""
            try:
                return call()
            except Err as e:
                err = e.value
                if isinstance(err, platform.PlatformError_BudgetExhausted):
                    raise Err(RuleError(message=f"{what}: platform call budget exhausted"))
                findings.append(
                    Finding(
                        message=f"Shop Sync could not {what}: {_describe_error(err)}.",
                        pointer="/webhooks",
                        remediation=(
                            "Request the scope this step needs in the listing, or fix the "
                            "request the app makes."
                        ),
                        severity=None,
                    )
                )
                return None

        shop = step("read the shop", platform.get_shop)
        products = step("list products", lambda: platform.list_products(None, 10))
        orders = step("list orders", lambda: platform.list_orders(None, 1))
        hook = step(
            f"register the {WEBHOOK_TOPIC} webhook",
            lambda: platform.register_webhook(WEBHOOK_TOPIC, WEBHOOK_URL),
        )

        log.log(
            log.Level.INFO,
            "shop-sync: shop={} products={} orders={} webhook={} failures={}".format(
                shop.domain if shop is not None else "-",
                len(products) if products is not None else "-",
                len(orders) if orders is not None else "-",
                hook.id if hook is not None else "-",
                len(findings),
            ),
        )
        return findings
