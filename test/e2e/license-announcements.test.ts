import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordedDomainEvents } from "#lib/events/domain-events.ts";
import type { ProvisioningContext } from "#lib/provisioning/context.ts";
import { convergeCustomer, type PlanView } from "#lib/provisioning/converge.ts";
import { createProvisioningContext } from "#lib/provisioning/wiring.ts";
import { resolveSecrets } from "#lib/secrets.ts";
import { LicenseConflictError } from "#lib/store/licenses.ts";
import { createIntegratorUser, startTestStack, type TestStack } from "#test/helpers/local-stack.ts";
import { CONNECTOR, licensesOf, storeOf, uniqueEmail } from "#test/helpers/provisioning.ts";
import { makeSubscription } from "#test/helpers/stripe-fixtures.ts";

// A license change is told to the vendor's systems (domain event + audit entry) at least once:
// the announcement goes out before the record is written, so a record write that fails after
// integrator.io changed (a crash, a lost race) can repeat it, never lose it.
let stack: TestStack;
let ctx: ProvisioningContext;
let events: RecordedDomainEvents;

beforeAll(async () => {
  stack = await startTestStack();
  const logger = new Logger({ serviceName: "announcements-test", logLevel: "ERROR" });
  const { table } = storeOf(stack);
  ctx = await createProvisioningContext(
    { config: stack.config, secrets: await resolveSecrets(stack.config) },
    logger,
    "announcements-test",
    table,
  );
  events = new RecordedDomainEvents(table);
});
afterAll(() => stack?.stop());

/** The Stripe state of a customer with one subscription to `price`, its periods counted from `now`. */
const viewFor = (customerId: string, email: string, price: string, now = new Date()): PlanView => {
  return {
    profile: { customerId, email, metadata: {}, version: 1, updatedAt: now.toISOString() },
    subscriptions: [makeSubscription({ customer: customerId, now, items: [{ price }] })],
  };
};

describe("license announcements", () => {
  it("a change integrator.io made is announced even when its record then loses a race", async () => {
    const email = uniqueEmail("announce");
    await createIntegratorUser(stack, email);
    const customerId = `cus_announce_${Date.now().toString(36)}`;

    await convergeCustomer(customerId, ctx, "test:create", viewFor(customerId, email, "price_std_month"));
    const [created] = await ctx.licenses.forCustomer(customerId);
    expect(created).toMatchObject({ state: "active", rev: 2 });

    // Another writer (reconcile, the admin API) saves the record meanwhile: this converge plans
    // on the older record, so its write fails after integrator.io was changed.
    await ctx.licenses.save({ ...(created as NonNullable<typeof created>) }, created?.rev);
    const stale = { ...viewFor(customerId, email, "price_prem_month"), licenses: [created as never] };
    await expect(convergeCustomer(customerId, ctx, "test:upgrade", stale)).rejects.toBeInstanceOf(
      LicenseConflictError,
    );

    const [license] = await licensesOf(stack, email);
    expect(license?.opts).toMatchObject({ connectorEdition: "premium" });
    const told = (await events.list()).filter((e) => e.detail.customerId === customerId);
    expect(told.map((e) => e.type)).toEqual(["license.provisioned", "license.updated"]);
    expect(told[1]?.detail).toMatchObject({
      licenseId: license?._id,
      edition: "premium",
      connector: CONNECTOR.key,
    });
    const audit = await ctx.audit.forCustomer(customerId);
    expect(audit.map((entry) => entry.action).sort()).toEqual(["license.provisioned", "license.updated"]);
  });
});

describe("license ownership", () => {
  it("a license integrator.io issued is ours before it is announced, and an update does not record it again", async () => {
    const email = uniqueEmail("owned");
    await createIntegratorUser(stack, email);
    const customerId = `cus_owned_${Date.now().toString(36)}`;
    // The announcement fails (EventBridge down): the license integrator.io just issued is ours all
    // the same, so another customer's lost create cannot take it for its own meanwhile.
    const unannounced = {
      ...ctx,
      events: {
        publish: async () => {
          throw new Error("EventBridge is unavailable");
        },
      },
    };
    // One subscription throughout: a period end a second later would be an update of its own.
    const subscribedAt = new Date();
    await expect(
      convergeCustomer(
        customerId,
        unannounced,
        "test:create",
        viewFor(customerId, email, "price_std_month", subscribedAt),
      ),
    ).rejects.toThrow("EventBridge is unavailable");
    const [issued] = await licensesOf(stack, email);
    const owned = await ctx.licenses.owner(issued?._id ?? "");
    expect(owned).toMatchObject({ customerId, connectorKey: CONNECTOR.key, email });

    // The retry adopts that license (no second one), records and announces it; an upgrade then
    // changes the license, not its ownership.
    await convergeCustomer(
      customerId,
      ctx,
      "test:retry",
      viewFor(customerId, email, "price_std_month", subscribedAt),
    );
    expect(await licensesOf(stack, email)).toHaveLength(1);
    const recorded = await ctx.licenses.owner(issued?._id ?? "");
    await convergeCustomer(
      customerId,
      ctx,
      "test:upgrade",
      viewFor(customerId, email, "price_prem_month", subscribedAt),
    );
    const [license] = await ctx.licenses.forCustomer(customerId);
    expect(license).toMatchObject({ licenseId: issued?._id, state: "active" });
    expect(license?.opts).toMatchObject({ connectorEdition: "premium" });
    expect(await ctx.licenses.owner(issued?._id ?? "")).toEqual(recorded);
    const told = (await events.list()).filter((e) => e.detail.customerId === customerId);
    expect(told.map((e) => e.type)).toEqual(["license.provisioned", "license.updated"]);
  }, 60_000);
});
