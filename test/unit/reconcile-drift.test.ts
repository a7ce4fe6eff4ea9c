import { describe, expect, it } from "vitest";
import type { License } from "#lib/integrator/schemas.ts";
import type { DesiredLicense } from "#lib/licensing/desired-licenses.ts";
import { classifyDrift, syncWithIntegrator } from "#lib/reconcile/drift.ts";
import { profileDrifted, subscriptionDrifted } from "#lib/reconcile/sources.ts";
import type { LicenseRecord } from "#lib/store/licenses.ts";
import { FIXED_NOW, makeCustomer, makeSubscription } from "#test/helpers/stripe-fixtures.ts";

const now = FIXED_NOW;
const at = (days: number) => new Date(now.getTime() + days * 86_400_000).toISOString();
const base = {
  customerId: "cus_1",
  connectorKey: "shopify-netsuite",
  connectorId: "65f1c0a2b7d94e3a1c8b7d20",
  subscriptionId: "sub_1",
};

const active = (fields: Partial<Extract<DesiredLicense, { kind: "active" }>> = {}): DesiredLicense => ({
  ...base,
  kind: "active",
  status: "active",
  email: "buyer@example.com",
  emailSource: "customer_email",
  expires: at(30),
  opts: { connectorEdition: "standard" },
  ...fields,
});
const ended = (kind: "expire" | "delete"): DesiredLicense =>
  kind === "expire"
    ? { ...base, kind, status: "canceled", expires: now.toISOString() }
    : { ...base, kind, status: "canceled" };

const record = (fields: Partial<LicenseRecord> = {}): LicenseRecord => ({
  ...base,
  licenseId: "lic_1",
  email: "buyer@example.com",
  expires: at(30),
  opts: { connectorEdition: "standard" },
  state: "active",
  rev: 3,
  updatedAt: now.toISOString(),
  ...fields,
});

const listed = (fields: Partial<License> = {}): License =>
  ({
    _id: "lic_1",
    _connectorId: base.connectorId,
    expires: at(30),
    opts: { connectorEdition: "standard" },
    user: { email: "buyer@example.com" },
    ...fields,
  }) as License;

describe("classifyDrift", () => {
  it.each<[string, DesiredLicense, LicenseRecord | undefined, string[]]>([
    ["agreeing license", active(), record(), []],
    ["no record at all", active(), undefined, ["missing"]],
    ["deleted in integrator.io", active(), record({ state: "deleted" }), ["missing"]],
    ["issued to another email", active({ email: "new@example.com" }), record(), ["missing"]],
    ["other edition", active(), record({ opts: { connectorEdition: "premium" } }), ["wrongEdition"]],
    [
      "add-ons missing",
      active({
        opts: {
          connectorEdition: "standard",
          addonLicenses: [{ type: "store", licenses: [{ addOnEdition: "standard" }] }],
        },
      }),
      record(),
      ["wrongEdition"],
    ],
    ["other expiry", active(), record({ expires: at(2) }), ["wrongExpiry"]],
    [
      "both",
      active(),
      record({ expires: at(2), opts: { connectorEdition: "premium" } }),
      ["wrongEdition", "wrongExpiry"],
    ],
    [
      "expiry equal to the second",
      active({ expires: "2026-12-15T12:00:00.000Z" }),
      record({ expires: "2026-12-15T12:00:00.999Z" }),
      [],
    ],
    [
      "waiting for an account",
      active(),
      record({ state: "pending_user", licenseId: undefined }),
      ["pendingRetried"],
    ],
    ["a create in flight", active(), record({ state: "creating", licenseId: undefined }), []],
    [
      "grace lapsed, license live",
      active({ status: "past_due", expires: at(-2) }),
      record({ expires: at(-2) }),
      ["shouldBeExpired"],
    ],
    [
      "grace lapsed, already expired",
      active({ status: "past_due", expires: at(-2) }),
      record({ expires: at(-2), state: "expired" }),
      [],
    ],
    ["grace lapsed, no license", active({ status: "past_due", expires: at(-2) }), undefined, []],
    ["canceled, license live", ended("expire"), record(), ["shouldBeExpired"]],
    ["canceled, license expired", ended("expire"), record({ state: "expired", expires: at(-1) }), []],
    ["canceled, license deleted", ended("expire"), record({ state: "deleted" }), []],
    [
      "canceled, policy delete, license there",
      ended("delete"),
      record({ state: "expired" }),
      ["shouldBeExpired"],
    ],
    ["canceled, policy delete, already deleted", ended("delete"), record({ state: "deleted" }), []],
    ["none", { ...base, kind: "none", status: "incomplete", reason: "incomplete" }, record(), []],
  ])("%s", (_name, desired, license, kinds) => {
    expect(classifyDrift(desired, license, now).map((d) => d.kind)).toEqual(kinds);
  });

  it("names the license and what it should be", () => {
    const [drift] = classifyDrift(active(), record({ opts: { connectorEdition: "premium" } }), now);
    expect(drift).toEqual({
      kind: "wrongEdition",
      licenseId: "lic_1",
      detail: "premium; should be standard",
    });
  });
});

describe("syncWithIntegrator", () => {
  it("keeps the very record when integrator.io agrees", () => {
    const mine = record();
    expect(syncWithIntegrator(mine, listed(), now)).toBe(mine);
  });

  it.each<[string, LicenseRecord, License | undefined, Partial<LicenseRecord>]>([
    ["gone", record(), undefined, { state: "deleted", licenseId: "lic_1" }],
    [
      "other expiry and edition",
      record(),
      listed({ expires: at(2), opts: { connectorEdition: "premium" } }),
      { expires: at(2), opts: { connectorEdition: "premium" }, state: "active" },
    ],
    [
      "revived after we expired it",
      record({ state: "expired", expires: at(-1) }),
      listed({ expires: at(10) }),
      { state: "active", expires: at(10) },
    ],
    [
      "no expiry in integrator.io",
      record(),
      listed({ expires: null as never }),
      { expires: "9999-12-31T23:59:59.000Z" },
    ],
  ])("takes integrator.io's values: %s", (_name, mine, actual, expected) => {
    expect(syncWithIntegrator(mine, actual, now)).toMatchObject(expected);
  });

  it("leaves records without an issued license alone", () => {
    const pending = record({ state: "pending_user", licenseId: undefined });
    expect(syncWithIntegrator(pending, undefined, now)).toBe(pending);
    const deleted = record({ state: "deleted" });
    expect(syncWithIntegrator(deleted, undefined, now)).toBe(deleted);
  });
});

describe("store drift against Stripe", () => {
  it("sees a change that licenses differently, not one that does not", () => {
    const stored = makeSubscription({ id: "sub_1", status: "active" });
    expect(subscriptionDrifted(stored, { ...stored, status: "canceled" })).toBe(true);
    expect(subscriptionDrifted(stored, { ...stored, metadata: { integrator_email: "x@example.com" } })).toBe(
      true,
    );
    expect(subscriptionDrifted(stored, { ...stored, description: "renamed" } as typeof stored)).toBe(false);
  });

  it("sees a changed or missing customer profile", () => {
    const customer = makeCustomer({ id: "cus_1", email: "a@example.com" });
    const profile = {
      customerId: "cus_1",
      email: "a@example.com",
      metadata: {},
      version: 5,
      updatedAt: now.toISOString(),
    };
    expect(profileDrifted(profile, customer)).toBe(false);
    expect(profileDrifted(undefined, customer)).toBe(true);
    expect(profileDrifted({ ...profile, email: "old@example.com" }, customer)).toBe(true);
    expect(profileDrifted({ ...profile, version: 0 }, customer)).toBe(true);
  });
});
