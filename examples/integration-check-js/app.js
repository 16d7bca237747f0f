// shop-sync: a partner integration check for assay, written in JavaScript (componentize-js).
//
// Same behaviour as examples/integration-check-python/app.py: read the shop, list products,
// read one order, subscribe to orders/create. Each refused step becomes one finding at
// `/webhooks` (no severity of its own, so the check's default `error` applies). Running out of
// the platform call budget means the check could not run, so that is a `rule-error` instead.

import { log } from 'assay:plugin/log@0.1.1';
import {
  getShop,
  listProducts,
  listOrders,
  registerWebhook,
} from 'assay:plugin/platform@0.1.1';

const WEBHOOK_TOPIC = 'orders/create';
const WEBHOOK_URL = 'https://acme-apps.com/hooks/orders';

// An imported function returning `result<T, platform-error>` throws on `err`; the WIT value is
// the thrown error's `payload` (a `{ tag, val }` variant).
function platformError(e) {
  if (e && Object.prototype.hasOwnProperty.call(e, 'payload')) return e.payload;
  throw e; // not a platform refusal: a bug in this check
}

function describeError(err) {
  switch (err.tag) {
    case 'forbidden':
      return `forbidden (needs scope \`${err.val}\`)`;
    case 'not-found':
      return 'not found';
    case 'invalid':
      return `invalid request: ${err.val}`;
    case 'budget-exhausted':
      return 'call budget exhausted';
    default:
      return JSON.stringify(err);
  }
}

// Throwing an error whose `payload` is a `rule-error` makes `run` return `err(rule-error)`.
class RuleError extends Error {
  constructor(message) {
    super(message);
    this.payload = { message };
  }
}

export const integration = {
  describe() {
    return {
      id: 'partner.shop-sync-js',
      name: 'Shop Sync install flow (JavaScript)',
      version: '1.0.0',
      description:
        'Runs Shop Sync\'s install flow against the sandbox shop: reads the shop, ' +
        'products and an order, and subscribes to orders/create.',
      defaultSeverity: 'error',
      helpUrl: 'https://example.com/help',
    };
  },

  run(input) {
    const findings = [];

    // Run one platform call; turn a refusal into a finding and return undefined.
    const step = (what, call) => {
      try {
        return call();
      } catch (e) {
        const err = platformError(e);
        if (err.tag === 'budget-exhausted') {
          throw new RuleError(`${what}: platform call budget exhausted`);
        }
        findings.push({
          message: `Shop Sync could not ${what}: ${describeError(err)}.`,
          pointer: '/webhooks',
          remediation:
            'Request the scope this step needs in the listing, or fix the request the app makes.',
          severity: undefined,
        });
        return undefined;
      }
    };

    const shop = step('read the shop', () => getShop());
    const products = step('list products', () => listProducts(undefined, 10));
    const orders = step('list orders', () => listOrders(undefined, 1));
    const hook = step(`register the ${WEBHOOK_TOPIC} webhook`, () =>
      registerWebhook(WEBHOOK_TOPIC, WEBHOOK_URL),
    );

    const show = (v, f) => (v === undefined ? '-' : f(v));
    log(
      'info',
      `shop-sync: shop=${show(shop, (s) => s.domain)} products=${show(products, (p) => p.length)} ` +
        `orders=${show(orders, (o) => o.length)} webhook=${show(hook, (h) => String(h.id))} ` +
        `failures=${findings.length}`,
    );
    return findings;
  },
};
