import { type Catalog, connectorByKey } from "#lib/licensing/catalog.ts";
import { type CappedAddon, type DesiredLicense, desiredLicenses } from "#lib/licensing/desired-licenses.ts";
import { type LicenseOperation, planChanges } from "#lib/licensing/plan-changes.ts";
import type { CustomerProfile } from "#lib/store/customers.ts";
import type { LicenseRecord } from "#lib/store/licenses.ts";
import type { StripeSubscription } from "#lib/stripe/schemas.ts";

/** What a plan is made from: the customer's profile, Stripe subscriptions and license records. */
export interface PlanInput {
  profile: CustomerProfile | undefined;
  subscriptions: StripeSubscription[];
  licenses: LicenseRecord[];
}

export interface PlanStep {
  desired: DesiredLicense;
  current: LicenseRecord | undefined;
  operations: LicenseOperation[];
}

export interface ConvergePlan {
  customerId: string;
  desired: DesiredLicense[];
  steps: PlanStep[];
  unknownPrices: { subscriptionId: string; priceId: string; lookupKey: string | null }[];
  cappedAddons: CappedAddon[];
}

/**
 * What the customer's licenses should be and the operations that get integrator.io there: a pure
 * function of what the plan is made from, the catalog and the time (reconcile's dry run shows it).
 */
export function planCustomer(
  customerId: string,
  input: PlanInput,
  catalog: Catalog,
  now: Date,
): ConvergePlan {
  const { profile, subscriptions, licenses } = input;
  const {
    licenses: desired,
    unknownPrices,
    cappedAddons,
  } = desiredLicenses(
    subscriptions,
    {
      id: customerId,
      email: profile?.email ?? null,
      metadata: profile?.metadata ?? {},
      checkoutEmail: profile?.checkoutEmail ?? null,
    },
    catalog,
    now,
  );
  // A connector no subscription mentions any more keeps no live license.
  for (const license of licenses) {
    if (desired.some((d) => d.connectorKey === license.connectorKey)) continue;
    const connector = connectorByKey(catalog, license.connectorKey);
    if (!connector || license.state === "expired" || license.state === "deleted") continue;
    desired.push({
      kind: catalog.policy.onEnd === "delete" ? "delete" : "expire",
      status: "canceled",
      customerId,
      connectorKey: license.connectorKey,
      connectorId: license.connectorId,
      subscriptionId: license.subscriptionId ?? "",
      expires: now.toISOString(),
    } as DesiredLicense);
  }
  const steps = desired.map((d) => {
    const current = licenses.find((s) => s.connectorKey === d.connectorKey);
    return { desired: d, current, operations: planChanges(d, current, now) };
  });
  return { customerId, desired, steps, unknownPrices, cappedAddons };
}
