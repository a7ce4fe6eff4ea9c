import type { ProvisioningContext } from "#lib/engine/context.ts";
import { CreateOutcomePendingError, mayBeInFlight } from "#lib/engine/converge.ts";
import { describeError } from "#lib/http/http-function.ts";
import { IntegratorError } from "#lib/integrator/errors.ts";
import type { License } from "#lib/integrator/schemas.ts";
import { lookupPrice } from "#lib/licensing/catalog.ts";
import type { DesiredLicense } from "#lib/licensing/desired-licenses.ts";
import { normalizeEmail } from "#lib/licensing/license.ts";
import type { CustomerProfile } from "#lib/store/customers.ts";
import type { LicenseRecord } from "#lib/store/licenses.ts";
import type { DriftItem } from "#lib/store/reconcile-runs.ts";
import type { StripeSubscription } from "#lib/stripe/schemas.ts";
import { UnrecognisedStripeObject } from "#lib/stripe/unrecognised.ts";
import { accessEnded, classifyDrift, isLive, licenseExpires, syncWithIntegrator } from "./drift.ts";
import {
  type IntegratorState,
  type ListedLicense,
  pairKey,
  profileDrifted,
  type StripeState,
  snapshotVersion,
  subscriptionDrifted,
  touchesCatalog,
  unreadableFinding,
} from "./sources.ts";

/** What one run shares while it reconciles customer after customer. */
export interface CustomerRun {
  runId: string;
  dryRun: boolean;
  stripe: StripeState;
  integrator: IntegratorState;
  ctx: ProvisioningContext;
}

/**
 * Reconciles one customer: Stripe's subscriptions and customer against the store, the store against
 * integrator.io, then the desired licenses against both. Returns the findings and how many
 * licenses were checked. Unless `dryRun`, repairs through the worker's own path: the stored
 * subscription is refreshed from Stripe, the stored licenses take integrator.io's values, and
 * the engine plans and carries out the changes. A concurrent writer (the worker) makes it start
 * over from a fresh read; a create whose outcome is still unknown leaves the customer to the next
 * run; a failure is reported as an `error` finding, never thrown.
 */
export async function reconcileCustomer(
  customerId: string,
  sharedRun: CustomerRun,
): Promise<{ items: DriftItem[]; checked: number }> {
  // Customers are reconciled concurrently: each gets a logger that names it in every line.
  const logger = sharedRun.ctx.logger.createChild({ persistentKeys: { customerId } });
  const engine = sharedRun.ctx.engine.withLogger(logger);
  const run: CustomerRun = { ...sharedRun, ctx: { ...sharedRun.ctx, logger, engine } };
  try {
    return await engine.retry(() => reconcileOnce(customerId, run));
  } catch (error) {
    const { name, message } = describeError(error);
    logger.error("reconcile failed for a customer", { error: { name, message } });
    return {
      items: [{ kind: "error", customerId, connector: null, detail: `${name}: ${message}` }],
      checked: 0,
    };
  }
}

/** What a dry run says it would have done, per finding. */
const DRY_RUN_NOTE: Partial<Record<DriftItem["kind"], string>> = {
  missing: "would repair",
  wrongEdition: "would repair",
  wrongExpiry: "would repair",
  shouldBeExpired: "would repair",
  pendingRetried: "would retry",
  adopted: "would adopt",
};

/** What a repair adds to each finding when a license create it made is still settling. */
const SETTLING_NOTE = "; a license create is still settling, the next run looks again";

/**
 * How many of a repair's findings it carried out: those of a kind it repairs, but a pending
 * license still waiting for its account, and none while a create it made is still settling.
 */
export function countRepaired(items: readonly DriftItem[]): number {
  return items.filter(
    (item) =>
      DRY_RUN_NOTE[item.kind] !== undefined &&
      !item.detail.endsWith(SETTLING_NOTE) &&
      (item.kind !== "pendingRetried" || item.licenseId !== undefined),
  ).length;
}

async function reconcileOnce(
  customerId: string,
  run: CustomerRun,
): Promise<{ items: DriftItem[]; checked: number }> {
  const { ctx } = run;
  const now = ctx.now();
  const [profile, storedSubscriptions, records] = await Promise.all([
    ctx.customers.profile(customerId),
    ctx.customers.subscriptions(customerId),
    ctx.licenses.forCustomer(customerId),
  ]);
  if (records.some((r) => mayBeInFlight(r, now))) {
    ctx.logger.info("a license create is in flight; the next run looks again", { customerId });
    return { items: [], checked: 0 };
  }
  const findings: DriftItem[] = [];

  // Stripe is the truth for subscriptions; a stored one Stripe answers 404 for is kept and reported.
  const listed = run.stripe.customers.get(customerId);
  const storedById = new Map(storedSubscriptions.map((s) => [s.subscriptionId, s]));
  const truth: StripeSubscription[] = [];
  const refresh: StripeSubscription[] = [];
  for (const subscription of listed?.subscriptions ?? []) {
    const stored = storedById.get(subscription.id);
    if (!stored && !touchesCatalog(subscription, ctx.catalog)) continue;
    truth.push(subscription);
    if (!stored || subscriptionDrifted(stored.snapshot, subscription)) refresh.push(subscription);
  }
  const unreadable = new Set(run.stripe.unreadable.map((u) => u.subscriptionId));
  for (const stored of storedSubscriptions) {
    if (truth.some((s) => s.id === stored.subscriptionId)) continue;
    // Listed but unreadable (reported once for the run): the stored snapshot stands.
    if (unreadable.has(stored.subscriptionId)) {
      truth.push(stored.snapshot);
      continue;
    }
    // Not in the listing: created since, or hidden from lists (a test clock's); ask for it by id.
    const current = await subscriptionById(stored.subscriptionId, ctx);
    if (current instanceof UnrecognisedStripeObject) {
      truth.push(stored.snapshot);
      const { objectId: subscriptionId, problems } = current;
      const connector = connectorKeysOf(stored.snapshot, ctx)[0] ?? null;
      findings.push(unreadableFinding({ subscriptionId, customerId, problems }, connector));
      continue;
    }
    if (current) {
      truth.push(current);
      if (subscriptionDrifted(stored.snapshot, current)) refresh.push(current);
      continue;
    }
    truth.push(stored.snapshot);
    findings.push({
      kind: "notInStripe",
      customerId,
      connector: connectorKeysOf(stored.snapshot, ctx)[0] ?? null,
      subscriptionId: stored.subscriptionId,
      detail: `subscription ${stored.subscriptionId} (${stored.status}) is stored but Stripe answers 404; kept as it is, never expired`,
    });
  }

  const customer =
    listed?.customer ?? (profile && profile.version > 0 ? undefined : await ctx.stripe.customer(customerId));
  const profileStale = customer !== undefined && profileDrifted(profile, customer);
  const profileView: CustomerProfile | undefined =
    profileStale && customer
      ? {
          customerId,
          email: customer.email ?? null,
          metadata: customer.metadata,
          ...(customer.deleted ? { deleted: true } : {}),
          ...(profile?.checkoutEmail ? { checkoutEmail: profile.checkoutEmail } : {}),
          version: profile?.version ?? 0,
          updatedAt: now.toISOString(),
        }
      : profile;

  // The store takes integrator.io's values, so the plan starts from what integrator.io really holds.
  const synced: LicenseRecord[] = [];
  const changed: { before: LicenseRecord | undefined; after: LicenseRecord }[] = [];
  for (const record of records) {
    const after = syncWithIntegrator(record, await actualLicense(record, run), now);
    synced.push(after);
    if (after !== record) changed.push({ before: record, after });
  }
  const strays = await ownLicensesOffRecord(customerId, synced, changed, findings, run);

  const plan = await ctx.engine.plan(customerId, {
    profile: profileView,
    subscriptions: truth,
    licenses: synced,
  });
  for (const step of plan.steps) {
    for (const drift of classifyDrift(step.desired, step.current, now)) {
      findings.push({
        ...drift,
        customerId,
        connector: step.desired.connectorKey,
      });
    }
  }
  const lapsed = plan.steps.filter(
    (s) => accessEnded(s.desired, now) && s.current?.licenseId && s.current.state === "active",
  );
  const work =
    refresh.length > 0 ||
    profileStale ||
    changed.length > 0 ||
    strays.length > 0 ||
    lapsed.length > 0 ||
    plan.steps.some((s) => s.operations.length > 0);
  if (!run.dryRun && work) {
    try {
      await repair(
        customerId,
        { refresh, storedById, profileStale, changed, strays, lapsed: lapsed.map((s) => s.desired) },
        run,
      );
    } catch (error) {
      if (!(error instanceof CreateOutcomePendingError)) throw error;
      // What was repaired stays repaired; a create still settling is looked at again next run.
      ctx.logger.info("a license create has an unknown outcome; the next run looks again", { customerId });
      for (const finding of findings) finding.detail += SETTLING_NOTE;
      return { items: findings, checked: plan.steps.length };
    }
    await describePendingOutcome(customerId, findings, run);
  } else if (run.dryRun) {
    for (const finding of findings) {
      const would = DRY_RUN_NOTE[finding.kind];
      if (would) finding.detail += `; ${would}`;
    }
  }
  return { items: findings, checked: plan.steps.length };
}

/** Stripe's subscription, `undefined` on 404, or the error saying it is unreadable in the pinned API version. */
async function subscriptionById(
  subscriptionId: string,
  ctx: ProvisioningContext,
): Promise<StripeSubscription | undefined | UnrecognisedStripeObject> {
  try {
    return await ctx.stripe.subscription(subscriptionId);
  } catch (error) {
    if (error instanceof UnrecognisedStripeObject) return error;
    throw error;
  }
}

/** integrator.io's copy of a record's license: the listing's, or a fresh GET when the listing may be older. */
async function actualLicense(record: LicenseRecord, run: CustomerRun): Promise<License | undefined> {
  if (
    !record.licenseId ||
    record.state === "deleted" ||
    record.state === "pending_user" ||
    record.state === "creating"
  )
    return undefined;
  const listed = run.integrator.byId.get(record.licenseId);
  if (listed && Date.parse(record.updatedAt) < run.integrator.listedAt.getTime()) return listed.license;
  return freshLicense(record.connectorId, record.licenseId, run.ctx);
}

async function freshLicense(
  connectorId: string,
  licenseId: string,
  ctx: ProvisioningContext,
): Promise<License | undefined> {
  try {
    return await ctx.integrator.licenses.get(connectorId, licenseId);
  } catch (error) {
    if (error instanceof IntegratorError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * Our live licenses the customer's records do not point at (docs/architecture.md §9: at most one per customer
 * and connector). A record without a license adopts the newest; every other one is a stray to expire.
 */
async function ownLicensesOffRecord(
  customerId: string,
  synced: LicenseRecord[],
  changed: { before: LicenseRecord | undefined; after: LicenseRecord }[],
  findings: DriftItem[],
  run: CustomerRun,
): Promise<ListedLicense[]> {
  const { ctx } = run;
  const now = ctx.now();
  const strays: ListedLicense[] = [];
  for (const connector of ctx.catalog.connectors) {
    const index = synced.findIndex((r) => r.connectorKey === connector.key);
    const record = synced[index];
    const candidates: ListedLicense[] = [];
    for (const listed of run.integrator.ownedLive.get(pairKey(customerId, connector.key)) ?? []) {
      if (listed.license._id === record?.licenseId) continue;
      // The listing is as old as the run: confirm it is still live before touching it.
      const fresh = await freshLicense(connector.connectorId, listed.license._id, ctx);
      if (fresh && isLive(fresh, now)) candidates.push({ ...listed, license: fresh });
    }
    if (candidates.length === 0 || record?.state === "creating") continue;
    const recordHasOne =
      record?.licenseId !== undefined && (record.state === "active" || record.state === "expired");
    if (recordHasOne) {
      strays.push(...candidates);
    } else {
      const [newest, ...rest] = candidates.sort((a, b) =>
        String(b.license.created).localeCompare(String(a.license.created)),
      );
      if (!newest) continue;
      const adopted: LicenseRecord = {
        customerId,
        connectorKey: connector.key,
        connectorId: connector.connectorId,
        subscriptionId: record?.subscriptionId,
        licenseId: newest.license._id,
        email: normalizeEmail(newest.license.user?.email ?? record?.email ?? ""),
        expires: licenseExpires(newest.license),
        opts: (newest.license.opts ?? {}) as Record<string, unknown>,
        state: "active",
        rev: record?.rev ?? 0,
        updatedAt: now.toISOString(),
      };
      if (record) synced[index] = adopted;
      else synced.push(adopted);
      const previous = changed.find((c) => c.after === record);
      if (previous) previous.after = adopted;
      else changed.push({ before: record, after: adopted });
      findings.push({
        kind: "adopted",
        customerId,
        connector: connector.key,
        licenseId: newest.license._id,
        detail: `our license for ${adopted.email} was not on the customer's record; adopted`,
      });
      strays.push(...rest);
    }
  }
  for (const stray of strays) {
    findings.push({
      kind: "shouldBeExpired",
      customerId,
      connector: stray.connectorKey,
      licenseId: stray.license._id,
      detail: `a second live license of ours for this customer and connector (${stray.license.user?.email ?? "?"}, until ${licenseExpires(stray.license)})`,
    });
  }
  return strays;
}

interface Repairs {
  refresh: StripeSubscription[];
  storedById: Map<string, { version: number }>;
  profileStale: boolean;
  changed: { before: LicenseRecord | undefined; after: LicenseRecord }[];
  strays: ListedLicense[];
  lapsed: DesiredLicense[];
}

/** Carries the repairs out through the engine: store first (Stripe's and integrator.io's truth), then converge. */
async function repair(customerId: string, repairs: Repairs, run: CustomerRun): Promise<void> {
  const { engine } = run.ctx;
  const cause = `reconcile:${run.runId}`;
  for (const subscription of repairs.refresh) {
    const atVersion = Math.max(
      snapshotVersion(subscription),
      repairs.storedById.get(subscription.id)?.version ?? 0,
    );
    await engine.refreshSubscription(customerId, subscription.id, atVersion);
  }
  if (repairs.profileStale) await engine.refreshProfile(customerId);
  for (const { before, after } of repairs.changed) await engine.ledger.sync(before, after, cause);
  for (const stray of repairs.strays) {
    const { connectorKey, connectorId, license } = stray;
    await engine.expireOffRecord({ customerId, connectorKey, connectorId, cause }, license);
  }
  await engine.converge(customerId, cause, { inFlight: "leave" });
  // Paid-for access ended while the subscription still reads live (a grace period ran out).
  for (const desired of repairs.lapsed) {
    if (desired.kind !== "active") continue;
    const { connectorKey, connectorId, subscriptionId, expires } = desired;
    const current = await run.ctx.licenses.get(customerId, connectorKey);
    if (!current?.licenseId || current.state !== "active") continue;
    await engine.execute({ op: "expire", connectorId, licenseId: current.licenseId, expires }, current, {
      customerId,
      connectorKey,
      connectorId,
      subscriptionId,
      cause,
    });
  }
}

/** A `pendingRetried` finding says how the retry went. */
async function describePendingOutcome(
  customerId: string,
  findings: DriftItem[],
  run: CustomerRun,
): Promise<void> {
  for (const finding of findings) {
    if (finding.kind !== "pendingRetried" || !finding.connector) continue;
    const record = await run.ctx.licenses.get(customerId, finding.connector);
    if (record?.licenseId && record.state === "active") {
      finding.licenseId = record.licenseId;
      finding.detail = `provisioned for ${record.email} (the integrator.io account exists now)`;
    } else {
      finding.detail = `still waiting for an integrator.io account for ${record?.email ?? "?"}; retried`;
    }
  }
}

function connectorKeysOf(subscription: StripeSubscription, ctx: ProvisioningContext): string[] {
  const keys = subscription.items.data.map((item) => lookupPrice(ctx.catalog, item.price)?.connector.key);
  return [...new Set(keys.filter((key): key is string => key !== undefined))];
}
