import type Stripe from "stripe";
import {
  type Catalog,
  type CatalogAddon,
  type CatalogConnector,
  type CatalogEdition,
  connectorByKey,
} from "#lib/licensing/catalog.ts";
import { INTEGRATOR_EMAIL_KEY } from "#lib/licensing/email.ts";
import { normalizeEmail } from "#lib/licensing/license.ts";
import { type CheckoutProblem, CheckoutRequestError, CheckoutUnavailableError } from "./errors.ts";
import { resolvePriceRefs, type StripePrice } from "./prices.ts";
import type { CheckoutInterval, CheckoutRequest } from "./schemas.ts";

/** What a valid checkout request buys, checked against the catalog and the redirect allow-list. */
export interface CheckoutPlan {
  connector: CatalogConnector;
  edition: CatalogEdition;
  addons: { addon: CatalogAddon; quantity: number }[];
  interval: CheckoutInterval | undefined;
  email: string;
  successUrl: string;
  cancelUrl: string;
}

/**
 * Validates a checkout request against the catalog and `CHECKOUT_ALLOWED_ORIGINS`, pure.
 * @throws CheckoutRequestError naming every refused field and quoting its value, e.g.
 * `Unknown edition "gold" of connector "shopify-netsuite".`
 */
export function planCheckout(
  catalog: Catalog,
  request: CheckoutRequest,
  allowedOrigins: readonly string[],
): CheckoutPlan {
  const problems: CheckoutProblem[] = [];
  const refuse = (path: string, message: string) => problems.push({ path: `body.${path}`, message });
  for (const field of ["successUrl", "cancelUrl"] as const) {
    const origin = originOf(request[field]);
    if (!allowedOrigins.includes(origin))
      refuse(field, `${field} origin ${JSON.stringify(origin)} is not allowed.`);
  }
  const connector = connectorByKey(catalog, request.connector);
  if (!connector) {
    refuse("connector", `Unknown connector ${JSON.stringify(request.connector)}.`);
    throw new CheckoutRequestError(problems);
  }
  const edition = connector.editions.find((entry) => entry.key === request.edition);
  if (!edition) {
    refuse(
      "edition",
      `Unknown edition ${JSON.stringify(request.edition)} of connector ${JSON.stringify(connector.key)}.`,
    );
  }
  const seen = new Set<string>();
  const addons: CheckoutPlan["addons"] = [];
  for (const [i, { key, quantity }] of (request.addons ?? []).entries()) {
    const addon = connector.addons.find((entry) => entry.key === key);
    if (!addon)
      refuse(
        `addons.${i}.key`,
        `Unknown add-on ${JSON.stringify(key)} of connector ${JSON.stringify(connector.key)}.`,
      );
    else if (seen.has(key)) refuse(`addons.${i}.key`, `Add-on ${JSON.stringify(key)} is listed twice.`);
    else addons.push({ addon, quantity });
    seen.add(key);
  }
  if (!edition || problems.length > 0) throw new CheckoutRequestError(problems);
  return {
    connector,
    edition,
    addons,
    interval: request.interval,
    email: normalizeEmail(request.integratorEmail),
    successUrl: request.successUrl,
    cancelUrl: request.cancelUrl,
  };
}

/**
 * The line items: the edition's price for the interval (absent: its first price Stripe has), then
 * each add-on's price with the same interval and currency — Stripe bills one subscription on one
 * cycle. Pure.
 * @throws CheckoutRequestError when the edition or an add-on has no price for that interval.
 */
export function checkoutLineItems(
  plan: CheckoutPlan,
  prices: ReadonlyMap<string, StripePrice>,
): { price: string; quantity: number }[] {
  const recurringOf = (refs: string[]) =>
    refs.flatMap((ref) => {
      const price = prices.get(ref);
      return price?.recurring && price.recurring.interval_count === 1
        ? [{ ...price, interval: price.recurring.interval }]
        : [];
    });
  const editionPrices = recurringOf(plan.edition.prices);
  const base = plan.interval
    ? editionPrices.find((price) => price.interval === plan.interval)
    : editionPrices[0];
  const label = `Edition ${JSON.stringify(plan.edition.key)} of connector ${JSON.stringify(plan.connector.key)}`;
  if (!base) {
    if (plan.interval)
      throw new CheckoutRequestError([
        { path: "body.interval", message: `${label} has no ${JSON.stringify(plan.interval)} price.` },
      ]);
    throw new Error(`${label} has no price Stripe knows; run a listings sync to see the problem.`);
  }
  const items = [{ price: base.id, quantity: 1 }];
  const problems: CheckoutProblem[] = [];
  for (const [i, { addon, quantity }] of plan.addons.entries()) {
    const match = recurringOf(addon.prices).find(
      (price) => price.interval === base.interval && price.currency === base.currency,
    );
    if (match) items.push({ price: match.id, quantity });
    else
      problems.push({
        path: `body.addons.${i}.key`,
        message: `Add-on ${JSON.stringify(addon.key)} has no ${JSON.stringify(base.interval)} price in ${base.currency.toUpperCase()}.`,
      });
  }
  if (problems.length > 0) throw new CheckoutRequestError(problems);
  return items;
}

export interface CheckoutDeps {
  catalog: Catalog;
  stripe: Stripe;
  checkoutAllowedOrigins: readonly string[];
}

/**
 * Creates the Stripe Checkout session (subscription mode) for a checkout request. The buyer's
 * integrator.io email goes in `client_reference_id`, the session's and the subscription's
 * `metadata.integrator_email` — the worker licenses that email, whatever email the buyer pays with.
 */
export async function createCheckoutSession(
  deps: CheckoutDeps,
  request: CheckoutRequest,
): Promise<{ id: string; url: string }> {
  const plan = planCheckout(deps.catalog, request, deps.checkoutAllowedOrigins);
  const refs = [...plan.edition.prices, ...plan.addons.flatMap(({ addon }) => addon.prices)];
  const lineItems = checkoutLineItems(plan, await resolvePriceRefs(deps.stripe, refs));
  const metadata = {
    [INTEGRATOR_EMAIL_KEY]: plan.email,
    connector: plan.connector.key,
    edition: plan.edition.key,
  };
  const trialDays = plan.connector.trialDays ?? 0;
  let session: Stripe.Checkout.Session;
  try {
    session = await deps.stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: lineItems,
      success_url: plan.successUrl,
      cancel_url: plan.cancelUrl,
      client_reference_id: plan.email,
      metadata,
      subscription_data: { metadata, ...(trialDays > 0 ? { trial_period_days: trialDays } : {}) },
    });
  } catch (error) {
    throw new CheckoutUnavailableError("Stripe did not create the Checkout session.", { cause: error });
  }
  if (!session.url)
    throw new CheckoutUnavailableError(`Stripe answered session ${session.id} without a URL.`);
  return { id: session.id, url: session.url };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "null";
  }
}
