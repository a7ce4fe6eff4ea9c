import { connectorByKey } from "#lib/licensing/catalog.ts";
import { type CappedAddon, type DesiredLicense, desiredLicenses } from "#lib/licensing/desired-licenses.ts";
import { type LicenseOperation, planChanges } from "#lib/licensing/plan-changes.ts";
import type { CustomerProfile } from "#lib/store/customers.ts";
import type { LicenseRecord } from "#lib/store/licenses.ts";
import type { StripeSubscription } from "#lib/stripe/schemas.ts";
import type { ProvisioningContext } from "./context.ts";
import { CREATE_IN_FLIGHT_MS, executeOperation, resolveCreateIntent } from "./license-operations.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ConvergePlan {
  customerId: string;
  desired: DesiredLicense[];
  steps: { desired: DesiredLicense; current: LicenseRecord | undefined; operations: LicenseOperation[] }[];
  unknownPrices: { subscriptionId: string; priceId: string; lookupKey: string | null }[];
  cappedAddons: CappedAddon[];
}

/**
 * What reconcile knows better than the store (Stripe's current objects, integrator.io's licenses),
 * used in place of the stored records so a dry run can plan on it without writing anything.
 */
export interface PlanView {
  profile?: CustomerProfile | undefined;
  subscriptions?: StripeSubscription[];
  licenses?: LicenseRecord[];
}

/**
 * What the customer's licenses should be, from the stored Stripe state, and the operations that
 * get integrator.io there. Pure reading: nothing changes (reconcile's dry run shows this). A
 * `view` replaces the stored profile, subscriptions or licenses it gives.
 */
export async function planCustomer(
  customerId: string,
  ctx: ProvisioningContext,
  view: PlanView = {},
): Promise<ConvergePlan> {
  const now = ctx.now();
  const [profile, snapshots, stored] = await Promise.all([
    "profile" in view ? view.profile : ctx.customers.profile(customerId),
    view.subscriptions ??
      ctx.customers.subscriptions(customerId).then((records) => records.map((s) => s.snapshot)),
    view.licenses ?? ctx.licenses.forCustomer(customerId),
  ]);
  const {
    licenses: desired,
    unknownPrices,
    cappedAddons,
  } = desiredLicenses(
    snapshots,
    {
      id: customerId,
      email: profile?.email ?? null,
      metadata: profile?.metadata ?? {},
      checkoutEmail: profile?.checkoutEmail ?? null,
    },
    ctx.catalog,
    now,
  );
  // A connector no subscription mentions any more keeps no live license.
  for (const license of stored) {
    if (desired.some((d) => d.connectorKey === license.connectorKey)) continue;
    const connector = connectorByKey(ctx.catalog, license.connectorKey);
    if (!connector || license.state === "expired" || license.state === "deleted") continue;
    desired.push({
      kind: ctx.catalog.policy.onEnd === "delete" ? "delete" : "expire",
      status: "canceled",
      customerId,
      connectorKey: license.connectorKey,
      connectorId: license.connectorId,
      subscriptionId: license.subscriptionId ?? "",
      expires: now.toISOString(),
    } as DesiredLicense);
  }
  const steps = desired.map((d) => {
    const current = stored.find((s) => s.connectorKey === d.connectorKey);
    return { desired: d, current, operations: planChanges(d, current, now) };
  });
  return { customerId, desired, steps, unknownPrices, cappedAddons };
}

/**
 * Brings integrator.io to the customer's desired licenses through the shared client; the worker,
 * reconcile and the admin API all converge this way. Returns the plan it carried out. A `view`
 * of the Stripe state the caller just applied saves reading it again; pass no `licenses` unless
 * they were read just now (integrator.io is changed before the record's conditional write).
 */
export async function convergeCustomer(
  customerId: string,
  ctx: ProvisioningContext,
  cause: string,
  view: PlanView = {},
): Promise<ConvergePlan> {
  const plan = await planCustomer(customerId, ctx, view);
  for (const unknown of plan.unknownPrices) {
    ctx.metrics.count("UnknownPrices");
    await ctx.events.publish("price.unknown", { customerId, cause, ...unknown }, ctx.logger);
    ctx.logger.warn("unknown price", { customerId, ...unknown });
  }
  for (const capped of plan.cappedAddons) {
    ctx.metrics.count("QuantitiesCapped");
    await ctx.events.publish("quantity.capped", { customerId, cause, ...capped }, ctx.logger);
    ctx.logger.warn("add-on quantity capped", { customerId, ...capped });
  }
  for (const step of plan.steps) {
    let current = step.current;
    const target = {
      customerId,
      connectorKey: step.desired.connectorKey,
      connectorId: step.desired.connectorId,
      subscriptionId: step.desired.subscriptionId || undefined,
      cause,
    };
    let operations = step.operations;
    // A create left in flight (a crash, a lost answer) is resolved before anything else is
    // planned — once it is old enough that it cannot still be landing from another caller.
    if (current?.state === "creating") {
      const age = ctx.now().getTime() - Date.parse(current.intentAt ?? "");
      if (age < CREATE_IN_FLIGHT_MS) await sleep(CREATE_IN_FLIGHT_MS - Math.max(0, age));
      const latest = await ctx.licenses.get(customerId, step.desired.connectorKey);
      current = latest?.state === "creating" ? await resolveCreateIntent(latest, target, ctx) : latest;
      operations = planChanges(step.desired, current, ctx.now());
    }
    // A license that never reached integrator.io (no account yet) just stops waiting.
    if (current?.state === "pending_user" && step.desired.kind !== "active" && step.desired.kind !== "none") {
      current = await ctx.licenses.save(
        { ...current, state: "expired", expires: ctx.now().toISOString() },
        current.rev,
      );
      operations = [];
    }
    for (const operation of operations) {
      current = await executeOperation(operation, current, target, ctx);
    }
  }
  return plan;
}
