import type { ProvisioningContext } from "#lib/engine/context.ts";
import { HttpError, notFound } from "#lib/http/errors.ts";
import { reconcileOneCustomer } from "#lib/reconcile/one-customer.ts";
import { REPAIR_LEASE } from "#lib/reconcile/run.ts";
import type { Lease, Leases } from "#lib/store/leases.ts";
import type { DriftItem } from "#lib/store/reconcile-runs.ts";
import { UnrecognisedStripeObject } from "#lib/stripe/unrecognised.ts";
import type { CustomerReconcileResult } from "./schemas.ts";

/**
 * Reconciles one customer now, synchronously (`POST /admin/customers/{customerId}/reconcile`,
 * docs/architecture.md §6): a dry run reports the findings; a repair carries them out through the
 * engine, as a run's repair does (lib/reconcile/one-customer.ts). 404 for a customer neither the
 * store nor Stripe knows.
 *
 * A repair is refused (409) while a repairing run holds the repair lease: the run repairs this
 * customer too. It does not take the lease itself — the lease keeps whole runs apart, and a
 * customer's repair writes through the engine's conditional writes, safe beside a run that starts
 * meanwhile as the worker is — so a customer repaired by hand never makes a scheduled run skip.
 */
export async function reconcileCustomerNow(
  customerId: string,
  dryRun: boolean,
  ctx: ProvisioningContext,
  leases: Leases,
  requestId: string,
): Promise<CustomerReconcileResult> {
  if (!(await ctx.customers.known(customerId)) && !(await knownToStripe(customerId, ctx))) {
    throw notFound(`No customer ${customerId} in the store or in Stripe.`);
  }
  if (!dryRun) {
    const lease = await leases.holder(REPAIR_LEASE);
    if (lease) throw runRepairing(lease);
  }
  const runId = `admin-${requestId}`;
  const { items, repaired } = await reconcileOneCustomer(customerId, { dryRun, runId }, ctx);
  if (!dryRun) {
    await ctx.audit.record({
      customerId,
      action: "admin.reconcile",
      cause: `admin:${requestId}`,
      detail: { findings: items.length, repaired, kinds: [...new Set(items.map((item) => item.kind))] },
    });
  }
  return { customerId, dryRun, findings: items.map(finding), repaired };
}

async function knownToStripe(customerId: string, ctx: ProvisioningContext): Promise<boolean> {
  try {
    return (await ctx.stripe.customer(customerId)) !== undefined;
  } catch (error) {
    // A customer Stripe answers with but this version cannot read is still a customer.
    if (error instanceof UnrecognisedStripeObject) return true;
    throw error;
  }
}

/** A finding as the customer's reconcile answers it: the run's item without the customer. */
export function finding(item: DriftItem): CustomerReconcileResult["findings"][number] {
  return {
    kind: item.kind,
    ...(item.connector ? { connectorKey: item.connector } : {}),
    ...(item.licenseId ? { licenseId: item.licenseId } : {}),
    ...(item.subscriptionId ? { subscriptionId: item.subscriptionId } : {}),
    ...(item.eventId ? { eventId: item.eventId } : {}),
    detail: item.detail,
  };
}

/** 409 for a customer's repair while a run repairs: which run, and until when at most. */
function runRepairing(lease: Lease): HttpError {
  return new HttpError(
    409,
    "conflict",
    `Run ${lease.holder} is repairing every customer (its lease lapses at ${lease.expiresAt} at the latest); wait for it, or make a dry run.`,
    { details: [{ runId: lease.holder, leaseExpiresAt: lease.expiresAt }] },
  );
}
