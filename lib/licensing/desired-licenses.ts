import {
  type Catalog,
  type CatalogAddon,
  type CatalogConnector,
  type CatalogEdition,
  type LicensePolicy,
  lookupPrice,
} from "#lib/licensing/catalog.ts";
import { type EmailSource, type LicenseCustomer, resolveLicenseEmail } from "#lib/licensing/email.ts";
import type { AddonLicenseGroup, LicenseOpts } from "#lib/licensing/license.ts";
import {
  type StripeSubscription,
  type StripeSubscriptionItem,
  type StripeSubscriptionStatus,
  stripeId,
} from "#lib/stripe/schemas.ts";

/**
 * The license each catalog connector should have, given one customer's Stripe subscriptions
 * (docs/architecture.md §5). Pure: `now` is passed in, nothing is read or written.
 *
 * | subscription `status`                               | desired license (`kind`, `expires`)                                     |
 * |-----------------------------------------------------|-------------------------------------------------------------------------|
 * | `trialing`                                          | `active`, `trial_end`                                                    |
 * | `active`                                            | `active`, item `current_period_end` + `policy.renewalBufferDays`         |
 * | `active` with `cancel_at_period_end`                | `active`, item `current_period_end` (no buffer)                          |
 * | `active` with `cancel_at`                           | `active`, `cancel_at` (no buffer; never later than period end + buffer)  |
 * | `past_due`                                          | `active`, item `current_period_end` + `policy.pastDueGraceDays`          |
 * | `paused`, `unpaid`, `canceled`, `incomplete_expired`| `expire` with `expires` = now (`policy.onEnd: "expire"`), or `delete`    |
 * | `incomplete`                                        | `none` (`reason: "incomplete"`): no license yet                          |
 *
 * A pending cancellation also caps `trialing` and `past_due`: `expires` is never later than
 * `cancel_at` (or the period end when `cancel_at_period_end`).
 *
 * - **Which connector**: every subscription item's price is looked up in the catalog (by id or
 *   lookup key). An edition price makes the item the subscription's *base item* for that
 *   connector; its `current_period_end` is the period end above. Prices the catalog does not
 *   know go to `unknownPrices` and are otherwise ignored — never guessed.
 * - **Edition**: `opts.connectorEdition` = the base item's edition key. Its quantity is ignored
 *   (one license per customer and connector). Two edition items of one connector in one
 *   subscription: the edition listed last in the catalog counts.
 * - **Add-ons**: an add-on item of quantity n gives n `{ addOnEdition }` entries, grouped by
 *   add-on `type` in catalog order: `addonLicenses: [{ type: "store", licenses: [{ addOnEdition: "standard" }, ...] }]`.
 *   Add-ons count from every *live* subscription of the connector (so an add-on bought as its
 *   own subscription counts); `addonLicenses` is absent when there are none. An add-on counts at
 *   most its catalog `maxQuantity` (default 100): more units in Stripe give the cap, and the add-on
 *   goes to `cappedAddons` (→ `quantity.capped`) — each unit is one entry of the license record.
 * - **Several subscriptions for one connector**: the best live one (`active`, `trialing`,
 *   `past_due`) wins — `active` > `trialing` > `past_due`, then the latest `expires`, then the
 *   newest subscription. An ended one loses to any live one; with no live one, the most
 *   recently ended one gives `expire`/`delete`; only when all are `incomplete` is it `none`.
 *   A subscription holding only add-ons of a connector cannot carry its license: without any
 *   base item the result is `none` (`reason: "no_edition"`).
 * - **Email** (live licenses only): see `resolveLicenseEmail` — subscription
 *   `metadata.integrator_email`, customer `metadata.integrator_email`, the checkout email,
 *   customer `email`; trimmed and lower-cased. With none the result is `none`
 *   (`reason: "no_email"`): nothing is created or changed until an email appears.
 * - `pause_collection` (Stripe's "pause payment collection" keeps `status: active`) is ignored:
 *   the customer keeps access while the vendor pauses billing; only `status: paused` ends it.
 */

const DAY_SECONDS = 86_400;

export type LiveStatus = Extract<StripeSubscriptionStatus, "active" | "trialing" | "past_due">;
export type EndedStatus = Extract<
  StripeSubscriptionStatus,
  "paused" | "unpaid" | "canceled" | "incomplete_expired"
>;

const LIVE_RANK: Record<LiveStatus, number> = { active: 3, trialing: 2, past_due: 1 };
const ENDED: ReadonlySet<StripeSubscriptionStatus> = new Set<EndedStatus>([
  "paused",
  "unpaid",
  "canceled",
  "incomplete_expired",
]);

export const isLiveStatus = (status: StripeSubscriptionStatus): status is LiveStatus => status in LIVE_RANK;
export const isEndedStatus = (status: StripeSubscriptionStatus): status is EndedStatus => ENDED.has(status);

interface DesiredBase {
  customerId: string;
  connectorKey: string;
  connectorId: string;
  /** The subscription that decided this license. */
  subscriptionId: string;
}

/** The license one (customer, connector) should have. */
export type DesiredLicense =
  | (DesiredBase & {
      kind: "active";
      status: LiveStatus;
      /** Normalised (trimmed, lower-cased). */
      email: string;
      emailSource: EmailSource;
      /** ISO date-time. */
      expires: string;
      opts: LicenseOpts;
    })
  | (DesiredBase & { kind: "expire"; status: EndedStatus /** ISO date-time: now. */; expires: string })
  | (DesiredBase & { kind: "delete"; status: EndedStatus })
  | (DesiredBase & {
      kind: "none";
      status: StripeSubscriptionStatus;
      reason: "incomplete" | "no_email" | "no_edition";
    });

/** A subscription item whose price the catalog does not know (→ `price.unknown`). */
export interface UnknownPrice {
  subscriptionId: string;
  itemId: string;
  priceId: string;
  lookupKey: string | null;
}

/** An add-on of a live license whose units in Stripe exceed the catalog's `maxQuantity` (→ `quantity.capped`). */
export interface CappedAddon {
  connectorKey: string;
  addonKey: string;
  /** The live subscription items that add up to `quantity`. */
  items: { subscriptionId: string; itemId: string; quantity: number }[];
  quantity: number;
  /** What the license holds instead: the catalog's `maxQuantity`. */
  maxQuantity: number;
}

export interface DesiredLicenses {
  /** One entry per catalog connector the subscriptions touch, in catalog order. */
  licenses: DesiredLicense[];
  unknownPrices: UnknownPrice[];
  cappedAddons: CappedAddon[];
}

/** Thrown on a caller's mistake the rules cannot decide around (not on odd Stripe data). */
export class LicensingError extends Error {
  override name = "LicensingError";
}

/** What one subscription contributes to one connector. */
interface Contribution {
  subscription: StripeSubscription;
  base?: { edition: CatalogEdition; item: StripeSubscriptionItem };
  addons: { addon: CatalogAddon; itemId: string; quantity: number }[];
}

/**
 * The desired license of every catalog connector that `subscriptions` (all of one customer's
 * subscriptions, any status) touch. See the table at the top of this file.
 *
 * @example
 * const { licenses, unknownPrices, cappedAddons } = desiredLicenses(subscriptions, { id: "cus_1", email: "a@b.co", metadata: {} }, catalog, new Date());
 * // licenses[0] → { kind: "active", connectorKey: "shopify-netsuite", email: "a@b.co", expires: "2026-12-18T12:00:00.000Z",
 * //                 opts: { connectorEdition: "standard" }, status: "active", subscriptionId: "sub_1", ... }
 * @throws LicensingError when a subscription belongs to another customer.
 */
export function desiredLicenses(
  subscriptions: readonly StripeSubscription[],
  customer: LicenseCustomer,
  catalog: Catalog,
  now: Date,
): DesiredLicenses {
  const unknownPrices: UnknownPrice[] = [];
  const byConnector = new Map<CatalogConnector, Contribution[]>();

  for (const subscription of subscriptions) {
    const owner = stripeId(subscription.customer);
    if (owner !== customer.id) {
      throw new LicensingError(
        `Subscription ${subscription.id} belongs to customer ${owner}, not ${customer.id}`,
      );
    }
    const mine = new Map<CatalogConnector, Contribution>();
    for (const item of subscription.items.data) {
      const match = lookupPrice(catalog, item.price);
      if (!match) {
        unknownPrices.push({
          subscriptionId: subscription.id,
          itemId: item.id,
          priceId: item.price.id,
          lookupKey: item.price.lookup_key ?? null,
        });
        continue;
      }
      let contribution = mine.get(match.connector);
      if (!contribution) {
        contribution = { subscription, addons: [] };
        mine.set(match.connector, contribution);
      }
      if (match.kind === "addon") {
        contribution.addons.push({ addon: match.addon, itemId: item.id, quantity: item.quantity ?? 1 });
      } else if (
        !contribution.base ||
        editionRank(match.connector, match.edition) > editionRank(match.connector, contribution.base.edition)
      ) {
        contribution.base = { edition: match.edition, item };
      }
    }
    for (const [connector, contribution] of mine) {
      const list = byConnector.get(connector) ?? [];
      list.push(contribution);
      byConnector.set(connector, list);
    }
  }

  const licenses: DesiredLicense[] = [];
  const cappedAddons: CappedAddon[] = [];
  for (const connector of catalog.connectors) {
    const contributions = byConnector.get(connector);
    if (contributions)
      licenses.push(decide(connector, contributions, customer, catalog.policy, now, cappedAddons));
  }
  return { licenses, unknownPrices, cappedAddons };
}

function decide(
  connector: CatalogConnector,
  contributions: Contribution[],
  customer: LicenseCustomer,
  policy: LicensePolicy,
  now: Date,
  cappedAddons: CappedAddon[],
): DesiredLicense {
  const base = { customerId: customer.id, connectorKey: connector.key, connectorId: connector.connectorId };
  const withBase = contributions.filter((c) => c.base !== undefined);

  const live = withBase
    .map((c) => ({ c, status: c.subscription.status, expiresMs: liveExpiresMs(c, policy) }))
    .filter(
      (entry): entry is typeof entry & { status: LiveStatus; expiresMs: number } =>
        entry.expiresMs !== undefined,
    );
  const best = live.sort(
    (a, b) =>
      LIVE_RANK[b.status] - LIVE_RANK[a.status] ||
      b.expiresMs - a.expiresMs ||
      newestFirst(a.c.subscription, b.c.subscription),
  )[0];
  if (best?.c.base) {
    const { subscription } = best.c;
    const resolved = resolveLicenseEmail(subscription, customer);
    if (!resolved) {
      return {
        ...base,
        subscriptionId: subscription.id,
        kind: "none",
        status: best.status,
        reason: "no_email",
      };
    }
    const addonLicenses = addonGroups(
      connector,
      contributions.filter((c) => isLiveStatus(c.subscription.status)),
      cappedAddons,
    );
    return {
      ...base,
      subscriptionId: subscription.id,
      kind: "active",
      status: best.status,
      email: resolved.email,
      emailSource: resolved.source,
      expires: new Date(best.expiresMs).toISOString(),
      opts: {
        connectorEdition: best.c.base.edition.key,
        ...(addonLicenses.length > 0 ? { addonLicenses } : {}),
      },
    };
  }

  const ended = withBase
    .filter((c) => isEndedStatus(c.subscription.status))
    .sort(
      (a, b) =>
        endedAt(b.subscription) - endedAt(a.subscription) || newestFirst(a.subscription, b.subscription),
    )[0];
  if (ended) {
    const status = ended.subscription.status as EndedStatus;
    const subscriptionId = ended.subscription.id;
    return policy.onEnd === "delete"
      ? { ...base, subscriptionId, kind: "delete", status }
      : { ...base, subscriptionId, kind: "expire", status, expires: now.toISOString() };
  }

  const incomplete = withBase.sort((a, b) => newestFirst(a.subscription, b.subscription))[0];
  if (incomplete) {
    return {
      ...base,
      subscriptionId: incomplete.subscription.id,
      kind: "none",
      status: incomplete.subscription.status,
      reason: "incomplete",
    };
  }

  // Only add-on items for this connector: nothing defines the edition.
  const [latest] = [...contributions].sort((a, b) => newestFirst(a.subscription, b.subscription));
  if (!latest) throw new LicensingError(`No subscription for connector ${connector.key}`);
  const { subscription } = latest;
  return {
    ...base,
    subscriptionId: subscription.id,
    kind: "none",
    status: subscription.status,
    reason: "no_edition",
  };
}

/** `expires` (epoch ms) of a live subscription's license per the table; `undefined` when not live. */
function liveExpiresMs(contribution: Contribution, policy: LicensePolicy): number | undefined {
  const { subscription } = contribution;
  const periodEnd = contribution.base?.item.current_period_end;
  if (periodEnd === undefined || !isLiveStatus(subscription.status)) return undefined;
  let expires: number;
  switch (subscription.status) {
    case "trialing":
      expires = subscription.trial_end ?? periodEnd;
      break;
    case "active":
      expires = periodEnd + policy.renewalBufferDays * DAY_SECONDS;
      break;
    case "past_due":
      expires = periodEnd + policy.pastDueGraceDays * DAY_SECONDS;
      break;
  }
  // A scheduled cancellation ends access then, without buffer or grace.
  const cancelsAt = subscription.cancel_at ?? (subscription.cancel_at_period_end ? periodEnd : undefined);
  if (cancelsAt !== undefined) expires = Math.min(expires, cancelsAt);
  return expires * 1000;
}

/** The add-on entries of a license, each add-on at most its `maxQuantity` (the excess goes to `cappedAddons`). */
function addonGroups(
  connector: CatalogConnector,
  live: Contribution[],
  cappedAddons: CappedAddon[],
): AddonLicenseGroup[] {
  const itemsOf = new Map<CatalogAddon, CappedAddon["items"]>();
  for (const { subscription, addons } of live) {
    for (const { addon, itemId, quantity } of addons) {
      const items = itemsOf.get(addon) ?? [];
      items.push({ subscriptionId: subscription.id, itemId, quantity });
      itemsOf.set(addon, items);
    }
  }
  const groups: AddonLicenseGroup[] = [];
  for (const addon of connector.addons) {
    const items = itemsOf.get(addon) ?? [];
    const quantity = items.reduce((sum, item) => sum + item.quantity, 0);
    if (quantity > addon.maxQuantity) {
      const { maxQuantity } = addon;
      cappedAddons.push({ connectorKey: connector.key, addonKey: addon.key, items, quantity, maxQuantity });
    }
    const count = Math.min(quantity, addon.maxQuantity);
    if (count === 0) continue;
    let group = groups.find((g) => g.type === addon.type);
    if (!group) {
      group = { type: addon.type, licenses: [] };
      groups.push(group);
    }
    for (let i = 0; i < count; i++) group.licenses.push({ addOnEdition: addon.addOnEdition });
  }
  return groups;
}

const editionRank = (connector: CatalogConnector, edition: CatalogEdition) =>
  connector.editions.indexOf(edition);

const endedAt = (subscription: StripeSubscription) =>
  subscription.ended_at ?? subscription.canceled_at ?? subscription.created;

/** Sort order: newest subscription first, then by id so the result never depends on input order. */
const newestFirst = (a: StripeSubscription, b: StripeSubscription) =>
  b.created - a.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
