import type { ProvisioningContext } from "#lib/engine/context.ts";
import { INTENT_SKEW_MS, LATE_COMMIT_ADOPTION_MS } from "#lib/engine/timing.ts";
import { describeError } from "#lib/http/http-function.ts";
import { IntegratorError } from "#lib/integrator/errors.ts";
import type { License } from "#lib/integrator/schemas.ts";
import { type Catalog, lookupPrice } from "#lib/licensing/catalog.ts";
import { normalizeEmail, sameJson } from "#lib/licensing/license.ts";
import type { CustomerProfile } from "#lib/store/customers.ts";
import { type CreateIntent, LicenseConflictError, type OwnedLicense } from "#lib/store/licenses.ts";
import type { DriftItem } from "#lib/store/reconcile-runs.ts";
import {
  type StripeCustomer,
  type StripeSubscription,
  stripeCustomerSchema,
  stripeId,
  stripeSubscriptionSchema,
} from "#lib/stripe/schemas.ts";
import { describeIssues, objectIdOf } from "#lib/stripe/unrecognised.ts";
import { isLive } from "./drift.ts";

/**
 * What reconcile reads once per run from each side: every Stripe subscription (all pages, the
 * customers expanded inline so no customer costs a call of its own) and every license of every
 * catalog connector in integrator.io (all pages), with who owns each in our store (a create of
 * ours that landed too late for its create to see it is ours too).
 */

export interface StripeCustomerState {
  /** The customer as Stripe holds it (absent when no subscription carried it). */
  customer: StripeCustomer | undefined;
  subscriptions: StripeSubscription[];
}

/** A listed subscription our schemas cannot read (a status Stripe added since): skipped and reported. */
export interface UnreadableSubscription {
  subscriptionId: string;
  customerId: string | null;
  /** What did not parse, bounded. */
  problems: string;
}

/** The finding for a subscription reconcile cannot read: skipped, what the store holds kept as it is. */
export function unreadableFinding(
  unreadable: UnreadableSubscription,
  connector: string | null = null,
): DriftItem {
  const { subscriptionId, customerId, problems } = unreadable;
  return {
    kind: "unreadable",
    customerId,
    connector,
    subscriptionId,
    detail: `subscription ${subscriptionId} is not readable in the pinned API version (${problems}); skipped, the stored subscription kept as it is`,
  };
}

export interface StripeState {
  customers: Map<string, StripeCustomerState>;
  unreadable: UnreadableSubscription[];
}

/** True when any item of the subscription is a catalog price: the product sells nothing else. */
export function touchesCatalog(subscription: StripeSubscription, catalog: Catalog): boolean {
  return subscription.items.data.some((item) => lookupPrice(catalog, item.price) !== undefined);
}

/**
 * Every Stripe subscription of every status (of one customer, with `customerId`), grouped by
 * customer. One our schemas cannot read is left out and listed in `unreadable`: one odd
 * subscription must not stop the run.
 */
export async function loadStripeState(
  ctx: ProvisioningContext,
  { customerId }: { customerId?: string } = {},
): Promise<StripeState> {
  const customers = new Map<string, StripeCustomerState>();
  const unreadable: UnreadableSubscription[] = [];
  const list = (await ctx.stripe.sdk()).subscriptions.list({
    status: "all",
    limit: 100,
    expand: ["data.customer"],
    ...(customerId ? { customer: customerId } : {}),
  });
  for await (const raw of list) {
    const plain = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
    const customerRef = plain.customer as string | { id: string } | null | undefined;
    const expanded = customerRef && typeof customerRef === "object" ? customerRef : undefined;
    // Stored snapshots carry the customer id, as webhook events do.
    const listed = { ...plain, customer: stripeId(customerRef) };
    const subscription = stripeSubscriptionSchema.safeParse(listed);
    if (!subscription.success) {
      unreadable.push({
        subscriptionId: objectIdOf(plain) ?? "(no id)",
        customerId: listed.customer ?? null,
        problems: describeIssues(subscription.error.issues, listed),
      });
      continue;
    }
    const customerId = stripeId(subscription.data.customer);
    const entry = customers.get(customerId) ?? { customer: undefined, subscriptions: [] };
    // A customer that does not parse is left out, as if not expanded: it is fetched when needed.
    entry.customer ??= stripeCustomerSchema.safeParse(expanded).data;
    entry.subscriptions.push(subscription.data);
    customers.set(customerId, entry);
  }
  return { customers, unreadable };
}

/** The fields of a subscription the licensing rules read: a difference here is drift in the store. */
function licensingFields(subscription: StripeSubscription) {
  return {
    status: subscription.status,
    items: subscription.items.data.map((item) => ({
      price: item.price.id,
      lookupKey: item.price.lookup_key ?? null,
      quantity: item.quantity ?? 1,
      end: item.current_period_end,
    })),
    trialEnd: subscription.trial_end ?? null,
    cancelAt: subscription.cancel_at ?? null,
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    metadata: subscription.metadata,
  };
}

/** True when the stored snapshot and Stripe's current one would license differently. */
export function subscriptionDrifted(stored: StripeSubscription, current: StripeSubscription): boolean {
  return !sameJson(licensingFields(stored), licensingFields(current));
}

/** True when the stored profile lacks what Stripe's customer says about the license email. */
export function profileDrifted(stored: CustomerProfile | undefined, current: StripeCustomer): boolean {
  if (!stored || stored.version === 0) return true;
  return (
    (stored.email ?? null) !== (current.email ?? null) ||
    !sameJson(stored.metadata, current.metadata) ||
    Boolean(stored.deleted) !== Boolean(current.deleted)
  );
}

/**
 * The newest moment a subscription snapshot shows (its latest start, cancellation or end): any
 * event created before it is older than the snapshot, so a refresh is versioned at least here.
 */
export function snapshotVersion(subscription: StripeSubscription): number {
  const moments = [
    subscription.created,
    subscription.start_date ?? 0,
    subscription.trial_start ?? 0,
    subscription.canceled_at ?? 0,
    subscription.ended_at ?? 0,
    ...subscription.items.data.map((item) => item.current_period_start),
  ];
  return Math.max(...moments);
}

export interface ListedLicense {
  license: License;
  connectorKey: string;
  connectorId: string;
  owner: OwnedLicense | undefined;
}

export interface IntegratorState {
  /** When the listing started: a record changed after this may be newer than its listed copy. */
  listedAt: Date;
  byId: Map<string, ListedLicense>;
  /** Our unexpired licenses per `${customerId}|${connectorKey}` (more than one is a duplicate). */
  ownedLive: Map<string, ListedLicense[]>;
  /** Unexpired licenses our store never created or adopted. */
  foreign: ListedLicense[];
}

export const pairKey = (customerId: string, connectorKey: string) => `${customerId}|${connectorKey}`;

/**
 * Keeps the integration integrator.io bound each of our licenses to on the license's record, so
 * the stack finds an integration's license without listing the connector's licenses. Only where
 * the record still holds what this page's read of it saw (a binding the stack wrote meanwhile
 * stays), and best effort: it is a shortcut, and a failed write fails no run.
 */
async function recordBindings(ctx: ProvisioningContext, listed: ListedLicense[]): Promise<void> {
  await Promise.all(
    listed.map(async ({ license, owner }) => {
      const integrationId = license._integrationId ?? undefined;
      if (!owner || owner.integrationId === integrationId) return;
      await ctx.licenses
        .bindIntegration(license._id, integrationId, { expected: owner.integrationId })
        .catch((error: unknown) =>
          ctx.logger.warn("license binding not recorded", {
            licenseId: license._id,
            error: describeError(error),
          }),
        );
    }),
  );
}

/** The creates we intended, per `${connectorId}|${email}`. */
type IntentIndex = Map<string, CreateIntent[]>;

async function lateCommitClaims(ctx: ProvisioningContext): Promise<IntentIndex> {
  const index: IntentIndex = new Map();
  for (const connector of ctx.catalog.connectors) {
    for (const intent of await ctx.licenses.openIntents(connector.connectorId)) {
      const key = `${intent.connectorId}|${intent.email}`;
      index.set(key, [...(index.get(key) ?? []), intent]);
    }
  }
  return index;
}

/**
 * The owner of a live license our store does not own, when it is a create of ours that landed
 * after the create gave up on it (a late commit): a license for the connector and email of a
 * recorded intent, created after it (less `INTENT_SKEW_MS`) and within
 * `LATE_COMMIT_ADOPTION_MS`. It is recorded as ours unless `dryRun`; the customer's reconcile
 * then adopts it, or expires it as a second license.
 */
async function claimLateCommit(
  ctx: ProvisioningContext,
  intents: IntentIndex,
  listed: ListedLicense,
  { dryRun }: { dryRun: boolean },
): Promise<OwnedLicense | undefined> {
  const email = normalizeEmail(listed.license.user?.email ?? "");
  const created = Date.parse(String(listed.license.created ?? ""));
  if (!email || !Number.isFinite(created)) return undefined;
  const intent = (intents.get(`${listed.connectorId}|${email}`) ?? [])
    .filter((i) => {
      const at = Date.parse(i.intentAt);
      return created >= at - INTENT_SKEW_MS && created <= at + LATE_COMMIT_ADOPTION_MS;
    })
    .at(-1);
  if (!intent) return undefined;
  const owned = {
    licenseId: listed.license._id,
    customerId: intent.customerId,
    connectorKey: intent.connectorKey,
    connectorId: intent.connectorId,
    email,
  };
  ctx.logger.info("a license created after one of our intents is ours (a late commit)", {
    licenseId: owned.licenseId,
    customerId: owned.customerId,
    intentAt: intent.intentAt,
  });
  if (!dryRun) {
    try {
      await ctx.engine.ledger.claim(owned, intent);
    } catch (error) {
      // Another customer's record took it meanwhile (a lost create of theirs adopted it): theirs.
      if (!(error instanceof LicenseConflictError)) throw error;
      return ctx.licenses.owner(owned.licenseId);
    }
  }
  return { ...owned, ownedAt: ctx.now().toISOString() };
}

/**
 * Every license of every catalog connector in integrator.io, and its owner in our store (which
 * learns, on the way and unless `dryRun`, the integration each of our licenses is bound to).
 */
export async function loadIntegratorState(
  ctx: ProvisioningContext,
  { dryRun }: { dryRun: boolean },
): Promise<IntegratorState> {
  const listedAt = ctx.now();
  const byId = new Map<string, ListedLicense>();
  for (const connector of ctx.catalog.connectors) {
    const page: License[] = [];
    const flush = async () => {
      const owners = await ctx.licenses.owners(page.map((l) => l._id));
      const listed = page.splice(0).map((license) => ({
        license,
        connectorKey: connector.key,
        connectorId: connector.connectorId,
        owner: owners.get(license._id),
      }));
      for (const entry of listed) byId.set(entry.license._id, entry);
      if (!dryRun) await recordBindings(ctx, listed);
    };
    for await (const license of ctx.integrator.licenses.list(connector.connectorId)) {
      page.push(license);
      if (page.length >= 100) await flush();
    }
    await flush();
  }
  const ownedLive = new Map<string, ListedLicense[]>();
  const foreign: ListedLicense[] = [];
  const lateCommits = await lateCommitClaims(ctx);
  for (const listed of byId.values()) {
    if (!isLive(listed.license, listedAt)) continue;
    listed.owner ??= await claimLateCommit(ctx, lateCommits, listed, { dryRun });
    if (!listed.owner) {
      foreign.push(listed);
      continue;
    }
    const key = pairKey(listed.owner.customerId, listed.owner.connectorKey);
    ownedLive.set(key, [...(ownedLive.get(key) ?? []), listed]);
  }
  return { listedAt, byId, ownedLive, foreign };
}

/**
 * integrator.io's side for reconciling one customer, without listing every license of a connector:
 * each license id the customer owns (`Licenses.ownedBy`), read by id. A live one off the
 * customer's records is adopted or expired as a run would; what only a listing finds — a license
 * whose create was never answered and that no record or ownership names yet (a late commit), or
 * one owned before ownership was kept by customer — is left to the next run.
 */
export async function loadCustomerIntegratorState(
  ctx: ProvisioningContext,
  customerId: string,
): Promise<IntegratorState> {
  const listedAt = ctx.now();
  const connectorIds = new Set(ctx.catalog.connectors.map((c) => c.connectorId));
  const owned = (await ctx.licenses.ownedBy(customerId)).filter((o) => connectorIds.has(o.connectorId));
  const read = await Promise.all(
    owned.map(async (owner) => {
      try {
        const license = await ctx.integrator.licenses.get(owner.connectorId, owner.licenseId);
        return { license, connectorKey: owner.connectorKey, connectorId: owner.connectorId, owner };
      } catch (error) {
        if (error instanceof IntegratorError && error.status === 404) return undefined;
        throw error;
      }
    }),
  );
  const byId = new Map<string, ListedLicense>();
  const ownedLive = new Map<string, ListedLicense[]>();
  for (const listed of read) {
    if (!listed) continue;
    byId.set(listed.license._id, listed);
    if (!isLive(listed.license, listedAt)) continue;
    const key = pairKey(customerId, listed.connectorKey);
    ownedLive.set(key, [...(ownedLive.get(key) ?? []), listed]);
  }
  return { listedAt, byId, ownedLive, foreign: [] };
}
