import { describe, expect, it } from "vitest";
import { type DesiredLicense, desiredLicenses } from "#lib/licensing/desired-licenses.ts";
import { type LicenseOperation, planChanges, type StoredLicense } from "#lib/licensing/plan-changes.ts";
import type { StripeSubscription } from "#lib/stripe/schemas.ts";
import {
  daysAfter,
  FIXED_NOW,
  iso,
  makeSubscription,
  type SubscriptionInput,
} from "#test/helpers/stripe-fixtures.ts";
import { catalog, deleteOnEndCatalog, SHOPIFY } from "./test-catalog.ts";

const now = FIXED_NOW;
const CUSTOMER = "cus_1TESTcustomer0001";
const { connectorId } = SHOPIFY;

function desiredFor(
  input: SubscriptionInput,
  options: { email?: string; onEnd?: "delete" } = {},
): DesiredLicense {
  const subscription: StripeSubscription = makeSubscription({ customer: CUSTOMER, ...input });
  const who = { id: CUSTOMER, email: options.email ?? "buyer@example.com", metadata: {} };
  const [license] = desiredLicenses(
    [subscription],
    who,
    options.onEnd ? deleteOnEndCatalog : catalog,
    now,
  ).licenses;
  if (!license) throw new Error("no desired license");
  return license;
}

const active = desiredFor({
  status: "active",
  items: [{ price: "price_std_month" }, { price: "price_store_month", quantity: 2 }],
});
if (active.kind !== "active") throw new Error("expected an active desired license");
const ACTIVE_EXPIRES = "2026-12-08T12:00:00.000Z";
const ACTIVE_OPTS = {
  connectorEdition: "standard",
  addonLicenses: [{ type: "store", licenses: [{ addOnEdition: "standard" }, { addOnEdition: "standard" }] }],
};

/** The stored record that matches `active` exactly; override what a case changes. */
const stored = (overrides: Partial<StoredLicense> = {}): StoredLicense => ({
  customerId: CUSTOMER,
  ...SHOPIFY,
  licenseId: "lic_1",
  email: "buyer@example.com",
  expires: ACTIVE_EXPIRES,
  opts: structuredClone(ACTIVE_OPTS),
  state: "active",
  subscriptionId: active.subscriptionId,
  ...overrides,
});

const expireNow = desiredFor({ status: "canceled" });
const deleteNow = desiredFor({ status: "canceled" }, { onEnd: "delete" });
const none = desiredFor({ status: "incomplete" });

describe("planChanges", () => {
  it("starts from the desired license the table expects", () => {
    expect(active).toMatchObject({ expires: ACTIVE_EXPIRES, opts: ACTIVE_OPTS });
    expect(expireNow).toMatchObject({ kind: "expire", expires: now.toISOString() });
    expect(deleteNow.kind).toBe("delete");
    expect(none.kind).toBe("none");
  });

  it.each<{
    name: string;
    desired: DesiredLicense;
    current: StoredLicense | undefined;
    ops: LicenseOperation[];
  }>([
    // create
    {
      name: "no license yet → create",
      desired: active,
      current: undefined,
      ops: [
        { op: "create", connectorId, email: "buyer@example.com", expires: ACTIVE_EXPIRES, opts: ACTIVE_OPTS },
      ],
    },
    {
      name: "pending_user (integrator.io said invalid_user) → create again",
      desired: active,
      current: stored({ licenseId: undefined, state: "pending_user" }),
      ops: [
        { op: "create", connectorId, email: "buyer@example.com", expires: ACTIVE_EXPIRES, opts: ACTIVE_OPTS },
      ],
    },
    {
      name: "an unresolved creating record → create (the create path adopts first)",
      desired: active,
      current: stored({ licenseId: undefined, state: "creating" }),
      ops: [
        { op: "create", connectorId, email: "buyer@example.com", expires: ACTIVE_EXPIRES, opts: ACTIVE_OPTS },
      ],
    },
    {
      name: "a deleted license → create",
      desired: active,
      current: stored({ state: "deleted" }),
      ops: [
        { op: "create", connectorId, email: "buyer@example.com", expires: ACTIVE_EXPIRES, opts: ACTIVE_OPTS },
      ],
    },
    // no-op
    { name: "identical → nothing (replay)", desired: active, current: stored(), ops: [] },
    {
      name: "same values, other key order, no milliseconds, other email case → nothing",
      desired: active,
      current: stored({
        email: " Buyer@Example.com",
        expires: "2026-12-08T12:00:00Z",
        opts: {
          addonLicenses: [
            { licenses: [{ addOnEdition: "standard" }, { addOnEdition: "standard" }], type: "store" },
          ],
          connectorEdition: "standard",
        },
      }),
      ops: [],
    },
    {
      name: "expires differing below one second → nothing",
      desired: active,
      current: stored({ expires: "2026-12-08T12:00:00.999Z" }),
      ops: [],
    },
    // update
    {
      name: "renewal: only expires differs → update expires",
      desired: active,
      current: stored({ expires: "2026-11-08T12:00:00.000Z" }),
      ops: [{ op: "update", connectorId, licenseId: "lic_1", expires: ACTIVE_EXPIRES }],
    },
    {
      name: "edition change: only opts differ → update opts",
      desired: active,
      current: stored({ opts: { ...ACTIVE_OPTS, connectorEdition: "premium" } }),
      ops: [{ op: "update", connectorId, licenseId: "lic_1", opts: ACTIVE_OPTS }],
    },
    {
      name: "add-on count differs → update opts",
      desired: active,
      current: stored({ opts: { connectorEdition: "standard" } }),
      ops: [{ op: "update", connectorId, licenseId: "lic_1", opts: ACTIVE_OPTS }],
    },
    {
      name: "both differ → one update with both",
      desired: active,
      current: stored({ expires: "2026-11-08T12:00:00.000Z", opts: { connectorEdition: "premium" } }),
      ops: [{ op: "update", connectorId, licenseId: "lic_1", expires: ACTIVE_EXPIRES, opts: ACTIVE_OPTS }],
    },
    {
      name: "an expired license on the same email → update revives it",
      desired: active,
      current: stored({ state: "expired", expires: iso(daysAfter(now, -20)) }),
      ops: [{ op: "update", connectorId, licenseId: "lic_1", expires: ACTIVE_EXPIRES }],
    },
    // transfer
    {
      name: "email changed on a live license → transfer",
      desired: active,
      current: stored({ email: "old@example.com" }),
      ops: [
        {
          op: "transfer",
          connectorId,
          licenseId: "lic_1",
          fromEmail: "old@example.com",
          expireAt: now.toISOString(),
          email: "buyer@example.com",
          expires: ACTIVE_EXPIRES,
          opts: ACTIVE_OPTS,
        },
      ],
    },
    {
      name: "email changed, old license already expired → create only",
      desired: active,
      current: stored({ email: "old@example.com", state: "expired", expires: iso(daysAfter(now, -1)) }),
      ops: [
        { op: "create", connectorId, email: "buyer@example.com", expires: ACTIVE_EXPIRES, opts: ACTIVE_OPTS },
      ],
    },
    {
      name: "email changed while pending_user → create on the new email",
      desired: active,
      current: stored({ email: "old@example.com", licenseId: undefined, state: "pending_user" }),
      ops: [
        { op: "create", connectorId, email: "buyer@example.com", expires: ACTIVE_EXPIRES, opts: ACTIVE_OPTS },
      ],
    },
    // expire
    {
      name: "ended, license live → expire now",
      desired: expireNow,
      current: stored(),
      ops: [{ op: "expire", connectorId, licenseId: "lic_1", expires: now.toISOString() }],
    },
    {
      name: "ended, already expired → nothing",
      desired: expireNow,
      current: stored({ state: "expired" }),
      ops: [],
    },
    {
      name: "ended, expires already at now (to the second) → nothing",
      desired: expireNow,
      current: stored({ expires: "2026-11-15T12:00:00.400Z" }),
      ops: [],
    },
    {
      name: "ended, expires before now → nothing",
      desired: expireNow,
      current: stored({ expires: iso(daysAfter(now, -3)) }),
      ops: [],
    },
    { name: "ended, no license → nothing", desired: expireNow, current: undefined, ops: [] },
    {
      name: "ended, pending_user → nothing at integrator.io",
      desired: expireNow,
      current: stored({ licenseId: undefined, state: "pending_user" }),
      ops: [],
    },
    { name: "ended, deleted → nothing", desired: expireNow, current: stored({ state: "deleted" }), ops: [] },
    // delete
    {
      name: "ended with onEnd delete → delete",
      desired: deleteNow,
      current: stored(),
      ops: [{ op: "delete", connectorId, licenseId: "lic_1" }],
    },
    {
      name: "onEnd delete, license already expired → still delete",
      desired: deleteNow,
      current: stored({ state: "expired" }),
      ops: [{ op: "delete", connectorId, licenseId: "lic_1" }],
    },
    {
      name: "onEnd delete, already deleted → nothing",
      desired: deleteNow,
      current: stored({ state: "deleted" }),
      ops: [],
    },
    { name: "onEnd delete, no license → nothing", desired: deleteNow, current: undefined, ops: [] },
    // none
    { name: "none (incomplete) with no license → nothing", desired: none, current: undefined, ops: [] },
    { name: "none leaves an existing license alone", desired: none, current: stored(), ops: [] },
  ])("$name", ({ desired, current, ops }) => {
    expect(planChanges(desired, current, now)).toEqual(ops);
  });
});
