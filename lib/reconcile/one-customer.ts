import type { ProvisioningContext } from "#lib/engine/context.ts";
import type { DriftItem } from "#lib/store/reconcile-runs.ts";
import { countRepaired, reconcileCustomer } from "./customer.ts";
import { loadCustomerIntegratorState, loadStripeState, unreadableFinding } from "./sources.ts";

/**
 * Reconciles one customer now (`POST /admin/customers/{customerId}/reconcile`): the step a run
 * takes for each customer (`reconcileCustomer`), on this customer's side of Stripe (its
 * subscriptions, listed by customer) and of integrator.io (the licenses it owns, read by id)
 * instead of everything. A dry run only reports; a repair goes through the engine exactly as a
 * run's does, its license changes audited under `reconcile:<runId>`.
 */
export async function reconcileOneCustomer(
  customerId: string,
  options: { dryRun: boolean; runId: string },
  ctx: ProvisioningContext,
): Promise<{ items: DriftItem[]; checked: number; repaired: number }> {
  const [stripe, integrator] = await Promise.all([
    loadStripeState(ctx, { customerId }),
    loadCustomerIntegratorState(ctx, customerId),
  ]);
  const { items, checked } = await reconcileCustomer(customerId, {
    runId: options.runId,
    dryRun: options.dryRun,
    stripe,
    integrator,
    ctx,
  });
  // A subscription Stripe lists but this version cannot read is reported as a run reports it.
  const unreadable = stripe.unreadable.map((entry) => unreadableFinding(entry));
  return {
    items: [...unreadable, ...items],
    checked,
    repaired: options.dryRun ? 0 : countRepaired(items),
  };
}
