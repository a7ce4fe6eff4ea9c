import type { ProvisioningContext } from "#lib/engine/context.ts";
import { CreateOutcomePendingError, mayBeInFlight } from "#lib/engine/converge.ts";
import { isConflict } from "#lib/engine/retry.ts";
import { TRANSFER_SETTLE_MS, TRANSFER_SETTLE_POLL_MS } from "#lib/engine/timing.ts";
import { functionTable } from "#lib/functions.ts";
import { conflict, HttpError, notFound } from "#lib/http/errors.ts";
import { describeError } from "#lib/http/http-function.ts";
import { IntegratorError } from "#lib/integrator/errors.ts";
import { connectorByKey } from "#lib/licensing/catalog.ts";
import { INTEGRATOR_EMAIL_KEY } from "#lib/licensing/email.ts";
import { normalizeEmail } from "#lib/licensing/license.ts";
import type { SubscriptionRecord } from "#lib/store/customers.ts";
import type { Lease, Leases } from "#lib/store/leases.ts";
import type { LicenseRecord } from "#lib/store/licenses.ts";
import { UnrecognisedStripeObject } from "#lib/stripe/unrecognised.ts";
import type { CustomerInstalls } from "./deps.ts";
import { withIntegratorCopies } from "./integrator-copies.ts";
import type { CustomerView } from "./schemas.ts";

/** The customer's inbox events the view shows, newest first. */
export const CUSTOMER_VIEW_EVENTS = 50;

/**
 * Everything we hold about one Stripe customer, with integrator.io's copy of each license where it
 * differs from ours (read live; left out, and `integratorUnavailable`, when integrator.io cannot
 * be read); 404 when we hold nothing.
 */
export async function customerView(
  customerId: string,
  ctx: ProvisioningContext,
  installs?: CustomerInstalls,
): Promise<CustomerView> {
  const [profile, subscriptions, records, audit, installed, events] = await Promise.all([
    ctx.customers.profile(customerId),
    ctx.customers.subscriptions(customerId),
    ctx.licenses.forCustomer(customerId),
    ctx.audit.forCustomer(customerId),
    installs?.forCustomer(customerId),
    ctx.inbox.forCustomer(customerId, CUSTOMER_VIEW_EVENTS),
  ]);
  if (!profile && subscriptions.length === 0 && records.length === 0) {
    throw notFound(`No customer ${customerId} in the store.`);
  }
  const { licenses, unavailable } = await withIntegratorCopies(records, ctx.integrator);
  return {
    customerId,
    profile: profile
      ? {
          email: profile.email ?? null,
          metadata: profile.metadata ?? {},
          ...(profile.checkoutEmail ? { checkoutEmail: profile.checkoutEmail } : {}),
          ...(profile.deleted ? { deleted: true } : {}),
          version: profile.version,
          updatedAt: profile.updatedAt,
        }
      : null,
    subscriptions: subscriptions.map(subscriptionSummary),
    licenses,
    ...(unavailable ? { integratorUnavailable: true as const } : {}),
    ...(installed ? { installs: installed } : {}),
    events,
    audit: audit.map(({ customerId: _id, ...entry }) => entry),
  };
}

function subscriptionSummary(record: SubscriptionRecord): CustomerView["subscriptions"][number] {
  const { snapshot } = record;
  return {
    subscriptionId: record.subscriptionId,
    status: record.status,
    integratorEmail: snapshot.metadata[INTEGRATOR_EMAIL_KEY] ?? null,
    cancelAtPeriodEnd: snapshot.cancel_at_period_end,
    cancelAt: snapshot.cancel_at ?? null,
    trialEnd: snapshot.trial_end ?? null,
    items: snapshot.items.data.map((item) => ({
      price: item.price.id,
      lookupKey: item.price.lookup_key ?? null,
      quantity: item.quantity ?? 1,
      currentPeriodEnd: item.current_period_end,
    })),
    version: record.version,
    source: record.source,
    updatedAt: record.updatedAt,
  };
}

/** A transfer holds its license's lease this long unless it frees it: longer than the admin function may run. */
const TRANSFER_LEASE_MS = functionTable.admin.timeoutSeconds * 1000 + 30_000;
const transferLease = (customerId: string, connectorKey: string) => `transfer#${customerId}#${connectorKey}`;

/**
 * Moves a customer's license of one connector to another integrator.io email (docs/architecture.md §5: a
 * change of email is a transfer — the old license expires, a new one is created, both audited).
 *
 * One transfer of a license at a time: the first to take the license's transfer lease goes on,
 * before anything is written; a concurrent one is a 409 naming the email the license is on and
 * the one it is being moved to. The new email is written to the deciding Stripe subscription's
 * `metadata.integrator_email`, the first source of the license email, so the next event, replay or
 * reconcile resolves the same email instead of moving the license back; the stored subscription is
 * refreshed from Stripe and the customer converged through the worker's path. Answers the license
 * as it now stands (`pending_user` when the new email has no integrator.io account yet).
 * Repeating a transfer to the same email changes nothing.
 */
export async function transferLicense(
  customerId: string,
  connectorKey: string,
  email: string,
  ctx: ProvisioningContext,
  leases: Leases,
  requestId: string,
): Promise<LicenseRecord> {
  if (!connectorByKey(ctx.catalog, connectorKey))
    throw notFound(`No connector ${connectorKey} in the catalog.`);
  const to = normalizeEmail(email);
  const lease = transferLease(customerId, connectorKey);
  const cause = `admin:${requestId}`;
  const taken = await leases.take(lease, cause, TRANSFER_LEASE_MS, { to });
  if (!taken.taken) throw await transferInProgress(customerId, connectorKey, taken.heldBy, ctx);
  try {
    return await moveLicense(customerId, connectorKey, to, ctx, cause);
  } finally {
    // The transfer's own answer (the license, or its 404/409) stands: a lease not freed lapses after TRANSFER_LEASE_MS.
    await leases
      .release(lease, cause)
      .catch((error: unknown) =>
        ctx.logger.warn("could not free a transfer lease", { lease, error: describeError(error) }),
      );
  }
}

/** 409 for a transfer while another of the same license works: where the license is, where it goes. */
async function transferInProgress(
  customerId: string,
  connectorKey: string,
  lease: Lease,
  ctx: ProvisioningContext,
): Promise<HttpError> {
  const email = (await ctx.licenses.get(customerId, connectorKey))?.email ?? null;
  const to = lease.about.to ?? null;
  return new HttpError(
    409,
    "conflict",
    `Another request is transferring this ${connectorKey} license to ${to}; it is on ${email ?? "no email yet"} now. Try again once it is done.`,
    { details: [{ email, transferringTo: to }] },
  );
}

/** The transfer itself, under the license's transfer lease. */
async function moveLicense(
  customerId: string,
  connectorKey: string,
  to: string,
  ctx: ProvisioningContext,
  cause: string,
): Promise<LicenseRecord> {
  const before = await settled(customerId, connectorKey, ctx);
  if (!before) throw notFound(`Customer ${customerId} has no ${connectorKey} license.`);
  const plan = await ctx.engine.plan(customerId);
  const desired = plan.steps.find((step) => step.desired.connectorKey === connectorKey)?.desired;
  if (desired?.kind !== "active") {
    throw conflict(
      `Customer ${customerId} has no live ${connectorKey} subscription; there is no license to transfer.`,
    );
  }
  if (desired.email === to && before.email === to) return before;

  const stored = await ctx.customers.subscription(customerId, desired.subscriptionId);
  await (await ctx.stripe.sdk()).subscriptions.update(desired.subscriptionId, {
    metadata: { [INTEGRATOR_EMAIL_KEY]: to },
  });
  try {
    await ctx.engine.refreshSubscription(customerId, desired.subscriptionId, stored?.version ?? 0);
  } catch (error) {
    if (isConflict(error)) {
      throw conflict(
        `Stripe's subscription ${desired.subscriptionId} now names ${to}, but the stored subscription kept changing meanwhile; the license follows Stripe once the changes settle.`,
      );
    }
    if (!(error instanceof UnrecognisedStripeObject)) throw error;
    throw conflict(
      `Stripe's subscription ${desired.subscriptionId} now shows something this version cannot read (${error.problems}); its metadata names ${to}, the license is left as it was.`,
    );
  }
  await ctx.audit.record({
    customerId,
    action: "admin.transfer",
    connectorKey,
    ...(before.licenseId ? { licenseId: before.licenseId } : {}),
    cause,
    detail: { from: before.email, to, subscriptionId: desired.subscriptionId },
  });
  // Stripe's subscription names `to` now, so every plan made from here on moves the license there:
  // converging again after another writer (the worker, handling the metadata change's webhook)
  // changed the license can only finish this one transfer, never make a second winner — the
  // transfer lease keeps any other transfer out. Once settled and still not done: a 409.
  try {
    await convergeTransfer(customerId, to, ctx, cause);
  } catch (error) {
    if (!(error instanceof CreateOutcomePendingError) && !isConflict(error)) throw error;
    await settled(customerId, connectorKey, ctx);
    try {
      await convergeTransfer(customerId, to, ctx, cause);
    } catch (again) {
      if (!(again instanceof CreateOutcomePendingError) && !isConflict(again)) throw again;
      throw conflict(
        `The ${connectorKey} license kept changing while it was being transferred; Stripe's subscription names ${to}, and the license follows it. Look again shortly.`,
      );
    }
  }
  const after = await settled(customerId, connectorKey, ctx);
  if (!after) throw new HttpError(500, "internal_error", "The license record vanished during the transfer.");
  return after;
}

/** Converges the customer after a transfer to `to`; integrator.io refusing the new license is a 409. */
async function convergeTransfer(customerId: string, to: string, ctx: ProvisioningContext, cause: string) {
  try {
    await ctx.engine.retry(() => ctx.engine.converge(customerId, cause, { inFlight: "leave" }));
  } catch (error) {
    if (error instanceof IntegratorError && error.status !== undefined && error.status < 500) {
      throw conflict(
        `integrator.io refused the license for ${to} (${error.codes.join(", ") || error.status}); Stripe's subscription names ${to}. Check the email, then transfer again.`,
      );
    }
    throw error;
  }
}

/** The license record once no create is in flight on it (waits up to `TRANSFER_SETTLE_MS`; 409 after). */
async function settled(
  customerId: string,
  connectorKey: string,
  ctx: ProvisioningContext,
): Promise<LicenseRecord | undefined> {
  const { clock } = ctx.engine.ports;
  const deadline = clock.now().getTime() + TRANSFER_SETTLE_MS;
  for (;;) {
    const record = await ctx.licenses.get(customerId, connectorKey);
    if (!record || !mayBeInFlight(record, clock.now())) return record;
    if (clock.now().getTime() > deadline)
      throw conflict(`A change of this ${connectorKey} license is in progress; try again shortly.`);
    await clock.sleep(TRANSFER_SETTLE_POLL_MS);
  }
}
