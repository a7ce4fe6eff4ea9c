import type Stripe from "stripe";
import {
  type Catalog,
  type CatalogPrice,
  catalogPriceRefs,
  isPriceIdRef,
  type PriceMatch,
} from "#lib/licensing/catalog.ts";

/**
 * Puts the catalog's prices into a Stripe account (`integrator-licensing catalog push-stripe`)
 * and checks that it has them (`catalog check`).
 *
 * - A catalog price object with `amount`, `currency` and `interval` is a price push-stripe
 *   creates: a recurring price with that lookup key. When Stripe's price under the key charges
 *   something else, a new price takes the key over (`transfer_lookup_key`) and the old one is
 *   archived (`active: false`) — Stripe prices cannot change their amount. Subscriptions on the
 *   old price keep it; new checkouts get the new one.
 * - A new price goes on the product of its connector (product id = the connector's catalog key)
 *   or of its add-on (`<connector key>_<add-on key>`: add-on keys are unique only within their
 *   connector), created when missing. A replacement goes on the product of the price it replaces.
 * - A `price_` id, and a lookup key without an amount, are only checked: push-stripe cannot say
 *   what they charge.
 * - Nothing is renamed or deleted; a second run with the same catalog changes nothing.
 *
 * `planCatalogPush` only reads; `applyCatalogPush` makes the plan's changes.
 */

/** What a price push-stripe creates charges. */
export interface PriceTerms {
  /** In the currency's minor unit (cents for usd). */
  amount: number;
  currency: string;
  interval: "month" | "year";
}

/** A Stripe price as the plan shows it. */
export interface StripePriceSummary {
  id: string;
  product: string;
  active: boolean;
  amount: number | null;
  currency: string;
  interval: string | null;
  intervalCount: number | null;
}

/** What the price is for: `shopify-netsuite edition standard`, `shopify-netsuite add-on store`. */
type Owner = { owner: string; ref: string };

/** What a new price is created with (besides its terms and lookup key). */
interface NewPrice {
  product: string;
  terms: PriceTerms;
  nickname: string;
  metadata: Record<string, string>;
}

export type ProductStep =
  | {
      kind: "product";
      action: "create";
      id: string;
      name: string;
      description?: string;
      metadata: Record<string, string>;
    }
  | { kind: "product"; action: "reactivate"; id: string; name: string };

export type PriceStep =
  | ({ kind: "price"; action: "create" } & Owner & NewPrice)
  | ({
      kind: "price";
      action: "replace";
      old: StripePriceSummary;
      /** The old price is its product's default price: the new one becomes it first (Stripe refuses to archive a default price). */
      moveDefaultPrice: boolean;
    } & Owner &
      NewPrice)
  | ({ kind: "price"; action: "reactivate"; price: StripePriceSummary } & Owner)
  | ({ kind: "price"; action: "unchanged"; price: StripePriceSummary } & Owner)
  | ({ kind: "price"; action: "missing"; reason: string } & Owner);

export type PushStep = ProductStep | PriceStep;

export interface PushPlan {
  /** Products first (a price needs its product), then prices in catalog order. */
  steps: PushStep[];
}

/** What a plan does, counted: products and prices created, prices replaced or products and prices reactivated, prices already right, prices push-stripe cannot create. */
export interface PushCounts {
  created: number;
  updated: number;
  unchanged: number;
  missing: number;
}

/** The Stripe calls a plan needs (the official SDK's, so tests can hand it the simulator). */
export type StripeCatalogApi = Pick<Stripe, "prices" | "products">;

/** Stripe takes at most 10 lookup keys per `prices.list`. */
const LOOKUP_KEYS_PER_CALL = 10;

/** The catalog's terms for a price, when it gives all three. */
export function priceTerms(price: CatalogPrice): PriceTerms | undefined {
  if (typeof price === "string") return undefined;
  const { amount, currency, interval } = price;
  return amount !== undefined && currency !== undefined && interval !== undefined
    ? { amount, currency, interval }
    : undefined;
}

/** The Stripe product a catalog price's new price goes on: the connector's key, or `<connector>_<add-on>`. */
export function productIdFor(match: PriceMatch): string {
  return match.kind === "edition" ? match.connector.key : `${match.connector.key}_${match.addon.key}`;
}

function ownerOf(match: PriceMatch): string {
  return match.kind === "edition"
    ? `${match.connector.key} edition ${match.edition.key}`
    : `${match.connector.key} add-on ${match.addon.key}`;
}

function productFor(match: PriceMatch): Omit<Extract<ProductStep, { action: "create" }>, "kind" | "action"> {
  if (match.kind === "edition") {
    return {
      id: productIdFor(match),
      name: match.connector.name,
      ...(match.connector.description ? { description: match.connector.description } : {}),
      metadata: { catalog_connector: match.connector.key },
    };
  }
  return {
    id: productIdFor(match),
    name: `${match.connector.name}: ${match.addon.name ?? match.addon.key}`,
    metadata: { catalog_connector: match.connector.key, catalog_addon: match.addon.key },
  };
}

function newPrice(match: PriceMatch, terms: PriceTerms, product: string): NewPrice {
  const what =
    match.kind === "edition"
      ? (match.edition.name ?? match.edition.key)
      : `${match.addon.name ?? match.addon.key} add-on`;
  return {
    product,
    terms,
    nickname: `${match.connector.name} ${what} (${terms.interval}ly)`,
    metadata: {
      catalog_connector: match.connector.key,
      ...(match.kind === "edition"
        ? { catalog_edition: match.edition.key }
        : { catalog_addon: match.addon.key }),
    },
  };
}

function summary(price: Stripe.Price): StripePriceSummary {
  return {
    id: price.id,
    product: typeof price.product === "string" ? price.product : price.product.id,
    active: price.active,
    amount: price.unit_amount ?? null,
    currency: price.currency,
    interval: price.recurring?.interval ?? null,
    intervalCount: price.recurring?.interval_count ?? null,
  };
}

/** True when Stripe's price charges what the catalog says: the amount, currency, interval, and every single interval. */
export function chargesTerms(price: StripePriceSummary, terms: PriceTerms): boolean {
  return (
    price.amount === terms.amount &&
    price.currency === terms.currency &&
    price.interval === terms.interval &&
    price.intervalCount === 1
  );
}

const isMissing = (error: unknown) =>
  typeof error === "object" &&
  error !== null &&
  ((error as { statusCode?: unknown }).statusCode === 404 ||
    (error as { code?: unknown }).code === "resource_missing");

async function retrieveOrUndefined<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Stripe's price under each lookup key, active or archived (a lookup key names at most one price).
 * Active and archived prices are listed apart: Stripe's documentation says a list without `active`
 * holds active prices only, so an archived holder is asked for by name.
 */
async function pricesByLookupKey(
  stripe: StripeCatalogApi,
  keys: string[],
): Promise<Map<string, Stripe.Price>> {
  const found = new Map<string, Stripe.Price>();
  for (const chunk of chunks(keys, LOOKUP_KEYS_PER_CALL)) {
    for (const active of [true, false]) {
      for await (const price of stripe.prices.list({ lookup_keys: chunk, active, limit: 100 })) {
        if (price.lookup_key && chunk.includes(price.lookup_key) && !found.has(price.lookup_key))
          found.set(price.lookup_key, price);
      }
    }
  }
  return found;
}

/**
 * What push-stripe would do to make the Stripe account hold every catalog price. Reads only:
 * each `price_` id, the lookup keys (ten per call) and the products new prices go on.
 */
export async function planCatalogPush(catalog: Catalog, stripe: StripeCatalogApi): Promise<PushPlan> {
  const matches = catalogPriceRefs(catalog);
  const byKey = await pricesByLookupKey(
    stripe,
    matches.filter((match) => !isPriceIdRef(match.ref)).map((match) => match.ref),
  );
  const priceSteps: PriceStep[] = [];
  for (const match of matches) {
    const at: Owner = { owner: ownerOf(match), ref: match.ref };
    if (isPriceIdRef(match.ref)) {
      const price = await retrieveOrUndefined(() => stripe.prices.retrieve(match.ref));
      if (price === undefined)
        priceSteps.push({ kind: "price", action: "missing", ...at, reason: "Stripe has no such price" });
      else if (!price.active)
        priceSteps.push({
          kind: "price",
          action: "missing",
          ...at,
          reason: "the price is archived in Stripe",
        });
      else priceSteps.push({ kind: "price", action: "unchanged", ...at, price: summary(price) });
      continue;
    }
    const held = byKey.get(match.ref);
    const current = held === undefined ? undefined : summary(held);
    const terms = priceTerms(match.price);
    if (terms === undefined) {
      if (current === undefined)
        priceSteps.push({
          kind: "price",
          action: "missing",
          ...at,
          reason:
            "no Stripe price has this lookup key (give amount, currency and interval in the catalog to create it)",
        });
      else if (!current.active)
        priceSteps.push({
          kind: "price",
          action: "missing",
          ...at,
          reason: `the price with this lookup key (${current.id}) is archived in Stripe`,
        });
      else priceSteps.push({ kind: "price", action: "unchanged", ...at, price: current });
      continue;
    }
    if (current === undefined) {
      priceSteps.push({
        kind: "price",
        action: "create",
        ...at,
        ...newPrice(match, terms, productIdFor(match)),
      });
    } else if (!chargesTerms(current, terms)) {
      priceSteps.push({
        kind: "price",
        action: "replace",
        ...at,
        old: current,
        moveDefaultPrice: false,
        ...newPrice(match, terms, current.product),
      });
    } else if (!current.active) {
      priceSteps.push({ kind: "price", action: "reactivate", ...at, price: current });
    } else {
      priceSteps.push({ kind: "price", action: "unchanged", ...at, price: current });
    }
  }

  // The products prices are about to be created on (or reactivated on): created when missing, reactivated when archived.
  const productSteps: ProductStep[] = [];
  const wanted = new Map<string, PriceMatch>();
  for (const [i, step] of priceSteps.entries()) {
    const match = matches[i] as PriceMatch;
    if (step.action === "create" || step.action === "replace") {
      if (!wanted.has(step.product)) wanted.set(step.product, match);
    } else if (step.action === "reactivate" && !wanted.has(step.price.product)) {
      wanted.set(step.price.product, match);
    }
  }
  for (const [id, match] of wanted) {
    const product = await retrieveOrUndefined(() => stripe.products.retrieve(id));
    if (product === undefined) {
      productSteps.push({ kind: "product", action: "create", ...productFor(match), id });
      continue;
    }
    if (!product.active) productSteps.push({ kind: "product", action: "reactivate", id, name: product.name });
    const defaultPrice =
      typeof product.default_price === "string" ? product.default_price : product.default_price?.id;
    for (const step of priceSteps) {
      if (step.action === "replace" && step.product === id && step.old.id === defaultPrice)
        step.moveDefaultPrice = true;
    }
  }
  return { steps: [...productSteps, ...priceSteps] };
}

/** The plan's steps counted (a dry run's answer, and what `applyCatalogPush` did). */
export function countPlan(plan: PushPlan): PushCounts {
  const counts: PushCounts = { created: 0, updated: 0, unchanged: 0, missing: 0 };
  for (const step of plan.steps) {
    if (step.action === "create") counts.created += 1;
    else if (step.action === "replace" || step.action === "reactivate") counts.updated += 1;
    else if (step.action === "unchanged") counts.unchanged += 1;
    else counts.missing += 1;
  }
  return counts;
}

/** Whether a plan changes anything in Stripe. */
export function planChanges(plan: PushPlan): boolean {
  const { created, updated } = countPlan(plan);
  return created + updated > 0;
}

/** `99000 usd/year` → `990.00 USD / year`, in the currency's own decimals. */
export function formatTerms(
  amount: number | null,
  currency: string,
  interval: string | null,
  count = 1,
): string {
  const code = currency.toUpperCase();
  let digits = 2;
  try {
    digits =
      new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions()
        .maximumFractionDigits ?? 2;
  } catch {
    // A code Intl does not know: two decimals, as most currencies.
  }
  const money = amount === null ? "(no unit amount)" : `${(amount / 10 ** digits).toFixed(digits)} ${code}`;
  const every = interval === null ? "once" : count === 1 ? interval : `${count} ${interval}s`;
  return `${money} / ${every}`;
}

const stripeTerms = (price: StripePriceSummary) =>
  formatTerms(price.amount, price.currency, price.interval, price.intervalCount ?? 1);
const catalogTerms = (terms: PriceTerms) => formatTerms(terms.amount, terms.currency, terms.interval);

/** One line per step, as push-stripe prints its plan (`create  price std_yearly ...`). */
export function describeStep(step: PushStep): string {
  if (step.kind === "product") {
    return step.action === "create"
      ? `create     product ${step.id} "${step.name}"`
      : `reactivate product ${step.id} "${step.name}" (archived in Stripe)`;
  }
  const what = `price ${step.ref} (${step.owner})`;
  switch (step.action) {
    case "create":
      return `create     ${what}: ${catalogTerms(step.terms)} on product ${step.product}`;
    case "replace":
      return `replace    ${what}: ${stripeTerms(step.old)} → ${catalogTerms(step.terms)}; a new price on product ${step.product} takes the lookup key, ${step.old.id} is archived${step.moveDefaultPrice ? " (the new price becomes the product's default price)" : ""}`;
    case "reactivate":
      return `reactivate ${what}: ${step.price.id} (${stripeTerms(step.price)}) is archived in Stripe`;
    case "unchanged":
      return step.price.id === step.ref
        ? `unchanged  ${what}: ${stripeTerms(step.price)}`
        : `unchanged  ${what}: ${step.price.id} (${stripeTerms(step.price)})`;
    case "missing":
      return `missing    ${what}: ${step.reason}`;
  }
}

/** What `catalog check` says of a catalog price Stripe does not have as the catalog says. */
export interface CheckFinding {
  ref: string;
  owner: string;
  problem: string;
}

function findingOf(step: PriceStep): string | undefined {
  switch (step.action) {
    case "unchanged":
      return undefined;
    case "create":
      return `not in Stripe (push-stripe creates it: ${catalogTerms(step.terms)})`;
    case "replace":
      return `Stripe's price ${step.old.id} charges ${stripeTerms(step.old)}, the catalog ${catalogTerms(step.terms)} (push-stripe replaces it)`;
    case "reactivate":
      return `Stripe's price ${step.price.id} is archived (push-stripe reactivates it)`;
    case "missing":
      return step.reason;
  }
}

/** The catalog prices Stripe does not have as the catalog says (`catalog check`), in catalog order. */
export function checkFindings(plan: PushPlan): CheckFinding[] {
  const findings: CheckFinding[] = [];
  for (const step of plan.steps) {
    if (step.kind !== "price") continue;
    const problem = findingOf(step);
    if (problem !== undefined) findings.push({ ref: step.ref, owner: step.owner, problem });
  }
  return findings;
}

/**
 * Makes the plan's changes, in order: products, then prices. A replacement is created first
 * (taking the lookup key over, so checkout always finds a price), made its product's default
 * price when the old one was, and the old price archived after. `onStep` hears each step done.
 * Stops at the first failure (Stripe's error is thrown); running again picks up from there.
 */
export async function applyCatalogPush(
  plan: PushPlan,
  stripe: StripeCatalogApi,
  onStep: (step: PushStep) => void = () => {},
): Promise<PushCounts> {
  for (const step of plan.steps) {
    if (step.kind === "product") {
      if (step.action === "create") {
        await stripe.products.create({
          id: step.id,
          name: step.name,
          ...(step.description ? { description: step.description } : {}),
          metadata: step.metadata,
        });
      } else {
        await stripe.products.update(step.id, { active: true });
      }
      onStep(step);
      continue;
    }
    switch (step.action) {
      case "create":
      case "replace": {
        const created = await stripe.prices.create({
          product: step.product,
          currency: step.terms.currency,
          unit_amount: step.terms.amount,
          recurring: { interval: step.terms.interval },
          lookup_key: step.ref,
          // Safe when no price holds the key; takes it from one Stripe did not list (archived, say).
          transfer_lookup_key: true,
          nickname: step.nickname,
          metadata: step.metadata,
        });
        if (step.action === "replace") {
          if (step.moveDefaultPrice)
            await stripe.products.update(step.product, { default_price: created.id });
          if (step.old.active) await stripe.prices.update(step.old.id, { active: false });
        }
        break;
      }
      case "reactivate":
        await stripe.prices.update(step.price.id, { active: true });
        break;
      case "unchanged":
      case "missing":
        break;
    }
    onStep(step);
  }
  return countPlan(plan);
}
