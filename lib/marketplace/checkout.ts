import type { Logger } from "@aws-lambda-powertools/logger";
import type Stripe from "stripe";
import {
  type Catalog,
  type CatalogAddon,
  type CatalogConnector,
  type CatalogEdition,
  connectorByKey,
  isPriceIdRef,
  priceRefs,
} from "#lib/licensing/catalog.ts";
import { INTEGRATOR_EMAIL_KEY } from "#lib/licensing/email.ts";
import { normalizeEmail } from "#lib/licensing/license.ts";
import { loadStripeSdk, type StripeSdk } from "#lib/stripe/client.ts";
import { type CheckoutProblem, CheckoutRequestError, CheckoutUnavailableError } from "./errors.ts";
import type { Listings } from "./listings.ts";
import type {
  CheckoutInterval,
  CheckoutRequest,
  CheckoutResponse,
  ConnectorListing,
  ListingPrice,
} from "./schemas.ts";
import type { SessionStatus, TrialClaim, TrialClaims } from "./trial-claims.ts";

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
 * Validates a checkout request against the catalog (connector, edition, add-ons and their
 * `maxQuantity`) and `CHECKOUT_ALLOWED_ORIGINS`, pure.
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
    else if (quantity > addon.maxQuantity)
      refuse(
        `addons.${i}.quantity`,
        `Add-on ${JSON.stringify(key)} allows at most ${addon.maxQuantity} per license; asked for ${quantity}.`,
      );
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
 * The line items, from the connector's listing (the prices the last listings sync found in
 * Stripe): the edition's price for the interval (absent: its first listed price), then each
 * add-on's price with the same interval and currency — Stripe bills one subscription on one
 * cycle. Pure.
 * @throws CheckoutRequestError when the edition or an add-on has no listed price for that interval.
 */
export function checkoutLineItems(
  plan: CheckoutPlan,
  listing: ConnectorListing | undefined,
): { price: string; quantity: number }[] {
  const monthlyOrYearly = (entries: { key: string; prices: ListingPrice[] }[] | undefined, key: string) =>
    (entries?.find((entry) => entry.key === key)?.prices ?? []).filter((price) => price.intervalCount === 1);
  const editionPrices = monthlyOrYearly(listing?.editions, plan.edition.key);
  const base = plan.interval
    ? editionPrices.find((price) => price.interval === plan.interval)
    : editionPrices[0];
  const label = `Edition ${JSON.stringify(plan.edition.key)} of connector ${JSON.stringify(plan.connector.key)}`;
  if (!base) {
    throw new CheckoutRequestError([
      plan.interval
        ? { path: "body.interval", message: `${label} has no ${JSON.stringify(plan.interval)} price.` }
        : { path: "body.edition", message: `${label} has no price on sale.` },
    ]);
  }
  const items = [{ price: base.id, quantity: 1 }];
  const problems: CheckoutProblem[] = [];
  for (const [i, { addon, quantity }] of plan.addons.entries()) {
    const match = monthlyOrYearly(listing?.addons, addon.key).find(
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

/** The catalog price references of the plan's edition and add-ons that its listing lacks, pure. */
export function unlistedPriceRefs(plan: CheckoutPlan, listing: ConnectorListing | undefined): string[] {
  const listed = (entries: { key: string; prices: ListingPrice[] }[] | undefined, key: string) =>
    entries?.find((entry) => entry.key === key)?.prices ?? [];
  const missing = (refs: string[], prices: ListingPrice[]) =>
    refs.filter(
      (ref) => !prices.some((price) => (isPriceIdRef(ref) ? price.id === ref : price.lookupKey === ref)),
    );
  return [
    ...missing(priceRefs(plan.edition), listed(listing?.editions, plan.edition.key)),
    ...plan.addons.flatMap(({ addon }) => missing(priceRefs(addon), listed(listing?.addons, addon.key))),
  ];
}

export interface CheckoutDeps {
  catalog: Catalog;
  listings: Pick<Listings, "connector" | "refreshForMissingPrice">;
  trials: TrialClaims;
  /** The client, built (and the SDK imported) at the first checkout. */
  stripe: StripeSdk;
  checkoutAllowedOrigins: readonly string[];
  logger: Pick<Logger, "warn">;
}

/**
 * How long a Checkout session can be paid (its `expires_at`): Stripe's shortest lifetime, 30
 * minutes, and one more for the time between reading this clock and Stripe creating the session
 * (the trial claim, the request, an SDK retry) and for clock skew — Stripe refuses an `expires_at`
 * under 30 minutes from its own now. A trial claim holds no longer than its session (docs/decisions.md).
 */
export const CHECKOUT_SESSION_LIFETIME_SECONDS = 31 * 60;

/**
 * Creates the Stripe Checkout session (subscription mode) for a checkout request — its one Stripe
 * call: prices come from the stored listings. The buyer's integrator.io email goes in
 * `client_reference_id`, the session's and the subscription's `metadata.integrator_email` — the
 * worker licenses that email, whatever email the buyer pays with. The session expires after
 * `CHECKOUT_SESSION_LIFETIME_SECONDS`. The catalog's trial is offered once per (email, connector):
 * a checkout whose email already claimed it gets none, and says so; a claim lapses with its session.
 */
export async function createCheckoutSession(
  deps: CheckoutDeps,
  request: CheckoutRequest,
): Promise<CheckoutResponse> {
  const plan = planCheckout(deps.catalog, request, deps.checkoutAllowedOrigins);
  const lineItems = await listedLineItems(deps, plan);
  const metadata = {
    [INTEGRATOR_EMAIL_KEY]: plan.email,
    connector: plan.connector.key,
    edition: plan.edition.key,
  };
  const trialDays = plan.connector.trialDays ?? 0;
  // Decided before the claim, so the claim never outlives the session that offers it.
  const expiresAt = Math.floor(Date.now() / 1000) + CHECKOUT_SESSION_LIFETIME_SECONDS;
  const trial =
    trialDays > 0 ? await deps.trials.claim(plan.connector.key, plan.email, expiresAt * 1000) : undefined;
  let session: Stripe.Checkout.Session;
  try {
    const stripe = await deps.stripe();
    session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: lineItems,
      success_url: plan.successUrl,
      cancel_url: plan.cancelUrl,
      client_reference_id: plan.email,
      metadata,
      subscription_data: { metadata, ...(trial ? { trial_period_days: trialDays } : {}) },
      expires_at: expiresAt,
    });
    if (!session.url) throw new Error(`Stripe answered session ${session.id} without a URL.`);
  } catch (error) {
    if (trial) await releaseTrial(deps, trial);
    const refused = await refusedLineItem(error);
    if (refused !== undefined) {
      // A price deactivated in Stripe since the last sync: the listings learn it, the buyer gets a 400.
      await deps.listings.refreshForMissingPrice();
      throw new CheckoutRequestError([
        { path: lineItemField(plan, refused), message: "A price of this order is no longer on sale." },
      ]);
    }
    throw new CheckoutUnavailableError("Stripe did not create the Checkout session.", { cause: error });
  }
  if (trial) {
    try {
      await deps.trials.attach(trial, session.id, session.expires_at * 1000);
    } catch (error) {
      // The session's URL is never handed out, so it cannot be paid: the trial goes back now
      // rather than when the claim lapses, and the buyer gets the error as it is (a 500).
      await releaseTrial(deps, trial);
      throw error;
    }
  }
  const offer: Pick<CheckoutResponse, "trial" | "trialDays" | "noTrialReason"> = trial
    ? { trial: true, trialDays }
    : { trial: false, noTrialReason: trialDays > 0 ? "already_used" : "not_offered" };
  return { id: session.id, url: session.url, ...offer };
}

/** Gives a claimed trial back; a failure is logged (the claim then lapses with its session), never thrown over the error at hand. */
async function releaseTrial(deps: CheckoutDeps, trial: TrialClaim): Promise<void> {
  try {
    await deps.trials.release(trial);
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    deps.logger.warn("could not release a trial claim; it lapses with its session", {
      connector: trial.connectorKey,
      error: reason,
    });
  }
}

/**
 * The line items from the stored listing. When they cannot be made and the listing lacks one of
 * the plan's catalog prices, the listings are refreshed (at most once a minute, fleet-wide) and
 * tried once more.
 */
async function listedLineItems(deps: CheckoutDeps, plan: CheckoutPlan) {
  const listing = await deps.listings.connector(plan.connector.key);
  try {
    return checkoutLineItems(plan, listing);
  } catch (error) {
    if (!(error instanceof CheckoutRequestError) || unlistedPriceRefs(plan, listing).length === 0)
      throw error;
    if (!(await deps.listings.refreshForMissingPrice())) throw error;
    return checkoutLineItems(plan, await deps.listings.connector(plan.connector.key));
  }
}

/** The index of the line item whose price Stripe refused (`param: "line_items[N][price]"`), if that was the refusal. */
async function refusedLineItem(error: unknown): Promise<number | undefined> {
  // An SDK that cannot be imported threw no Stripe error (it is the error at hand).
  const sdk = await loadStripeSdk().catch(() => undefined);
  if (!sdk || !(error instanceof sdk.errors.StripeInvalidRequestError)) return undefined;
  const index = /^line_items\[(\d+)\]\[price\]$/.exec(error.param ?? "")?.[1];
  return index === undefined ? undefined : Number(index);
}

/** The request field behind line item `index`: the edition's price first, then the add-ons in order. */
function lineItemField(plan: CheckoutPlan, index: number): string {
  if (index === 0) return plan.interval ? "body.interval" : "body.edition";
  return `body.addons.${index - 1}.key`;
}

/** Stripe's status of a Checkout session, for `TrialClaims` ("missing" when Stripe has no such session). */
export function checkoutSessionStatus(sdk: StripeSdk): (sessionId: string) => Promise<SessionStatus> {
  return async (sessionId) => {
    try {
      const stripe = await sdk();
      const { status } = await stripe.checkout.sessions.retrieve(sessionId);
      // A status this code does not know counts as payable: the trial stays held.
      if (status === "complete") return "complete";
      return status === "expired" ? "expired" : "open";
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode === 404) return "missing";
      throw new CheckoutUnavailableError("Stripe did not answer for an earlier Checkout session.", {
        cause: error,
      });
    }
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "null";
  }
}
