import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CustomerRecords, LicenseRecords } from "#lib/engine/ports.ts";
import type { SubscriptionRecord } from "#lib/store/customers.ts";
import { type CreateIntent, LicenseConflictError, type LicenseRecord } from "#lib/store/licenses.ts";
import { makeSubscription } from "#test/helpers/stripe-fixtures.ts";

/**
 * The contract of the engine's two store ports (lib/engine/ports.ts), as the DynamoDB adapters
 * keep it: run against every adapter, so the in-memory ones the engine tests use behave as the
 * real ones. Every test works on fresh ids, so adapters may share one table across tests.
 */

export interface StoreFixture {
  customers: CustomerRecords;
  licenses: LicenseRecords;
  /** Stores a subscription record as one written before revisions were kept. */
  storeLegacySubscription(record: Omit<SubscriptionRecord, "updatedAt" | "rev">): Promise<void>;
  close?: () => Promise<void>;
}

/** Builds the stores under test on `clock`, the time they stamp records with and expire intents by. */
export type StoreFactory = (clock: () => Date) => Promise<StoreFixture>;

const T0 = "2026-03-01T12:00:00.000Z";
const DAY_MS = 24 * 3600 * 1000;

const run = randomUUID().slice(0, 8);
let sequence = 0;
const fresh = (label: string) => `${label}_${run}_${++sequence}`;

const subscription = (
  customerId: string,
  subscriptionId: string,
  changes: Partial<SubscriptionRecord> = {},
): Omit<SubscriptionRecord, "updatedAt" | "rev"> => ({
  customerId,
  subscriptionId,
  status: "active",
  version: 100,
  source: "evt_1",
  snapshot: makeSubscription({ id: subscriptionId, customer: customerId }),
  ...changes,
});

const profile = (customerId: string, version: number, email: string) => ({
  customerId,
  email,
  metadata: { plan: String(version) },
  version,
});

const license = (
  customerId: string,
  connectorKey = "connector-a",
  changes: Partial<LicenseRecord> = {},
): Omit<LicenseRecord, "rev" | "updatedAt"> => ({
  customerId,
  connectorKey,
  connectorId: `conn_${connectorKey}`,
  email: "buyer@example.com",
  expires: "2030-01-01T00:00:00.000Z",
  opts: { seats: 1 },
  state: "pending_user",
  ...changes,
});

/** Marks every object inside `value`, as a caller that kept a reference and changed it would. */
function scribble(value: unknown): void {
  if (value === null || typeof value !== "object") return;
  for (const inner of Object.values(value)) scribble(inner);
  if (!Array.isArray(value)) (value as Record<string, unknown>).scribbled = true;
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`${name} stores keep the store contract`, () => {
    let now: Date;
    let fixture: StoreFixture;
    let customers: CustomerRecords;
    let licenses: LicenseRecords;
    const advance = (ms: number) => {
      now = new Date(now.getTime() + ms);
      return now.toISOString();
    };

    beforeEach(async () => {
      now = new Date(T0);
      fixture = await factory(() => now);
      ({ customers, licenses } = fixture);
    });
    afterEach(() => fixture.close?.());

    describe("subscriptions", () => {
      it("creates a subscription at rev 1, stamped by the store's clock, and refuses to create it again", async () => {
        const customerId = fresh("cus");
        const record = subscription(customerId, "sub_a");
        const saved = await customers.saveSubscription(record, undefined);
        expect(saved).toEqual({ ...record, rev: 1, updatedAt: T0 });
        expect(await customers.subscription(customerId, "sub_a")).toEqual(saved);

        advance(1000);
        expect(
          await customers.saveSubscription({ ...record, status: "past_due" }, undefined),
        ).toBeUndefined();
        expect(await customers.subscription(customerId, "sub_a")).toEqual(saved);
      });

      it("writes over the rev it read, one more each time, and refuses a stale, a later or a missing one", async () => {
        const customerId = fresh("cus");
        const record = subscription(customerId, "sub_a");
        await customers.saveSubscription(record, undefined);
        const t1 = advance(1000);
        const second = await customers.saveSubscription(
          { ...record, status: "past_due", version: 101, source: "evt_2" },
          1,
        );
        expect(second).toEqual({
          ...record,
          status: "past_due",
          version: 101,
          source: "evt_2",
          rev: 2,
          updatedAt: t1,
        });
        const third = await customers.saveSubscription({ ...record, status: "active", version: 102 }, 2);
        expect(third).toMatchObject({ status: "active", version: 102, rev: 3 });

        for (const stale of [1, 2, 4, 0]) {
          expect(await customers.saveSubscription({ ...record, status: "canceled" }, stale)).toBeUndefined();
        }
        expect(await customers.subscription(customerId, "sub_a")).toEqual(third);

        for (const expectedRev of [1, 0]) {
          expect(
            await customers.saveSubscription(subscription(customerId, "sub_new"), expectedRev),
          ).toBeUndefined();
        }
        expect(await customers.subscription(customerId, "sub_new")).toBeUndefined();
      });

      it("reads a record written before revisions at rev 0, and writes over it once at rev 0", async () => {
        const customerId = fresh("cus");
        const record = subscription(customerId, "sub_legacy");
        await fixture.storeLegacySubscription(record);
        expect(await customers.subscription(customerId, "sub_legacy")).toMatchObject({ ...record, rev: 0 });
        expect((await customers.subscriptions(customerId)).map((s) => s.rev)).toEqual([0]);
        expect((await customers.state(customerId)).subscriptions.map((s) => s.rev)).toEqual([0]);

        expect(await customers.saveSubscription(record, undefined)).toBeUndefined();
        expect(await customers.saveSubscription(record, 1)).toBeUndefined();
        const upgraded = await customers.saveSubscription({ ...record, status: "past_due" }, 0);
        expect(upgraded).toEqual({ ...record, status: "past_due", rev: 1, updatedAt: T0 });
        expect(await customers.saveSubscription({ ...record, status: "canceled" }, 0)).toBeUndefined();
        expect(await customers.subscription(customerId, "sub_legacy")).toEqual(upgraded);
      });

      it("lets exactly one of two writers racing on one rev land", async () => {
        const customerId = fresh("cus");
        const record = subscription(customerId, "sub_a");
        const creates = await Promise.all([
          customers.saveSubscription({ ...record, source: "evt_x" }, undefined),
          customers.saveSubscription({ ...record, source: "evt_y" }, undefined),
        ]);
        expect(creates.filter(Boolean)).toHaveLength(1);
        const updates = await Promise.all([
          customers.saveSubscription({ ...record, status: "past_due" }, 1),
          customers.saveSubscription({ ...record, status: "canceled" }, 1),
        ]);
        const landed = updates.filter(Boolean);
        expect(landed).toEqual([expect.objectContaining({ rev: 2 })]);
        expect(await customers.subscription(customerId, "sub_a")).toEqual(landed[0]);
      });

      it("lists a customer's subscriptions in subscription id order, and none of another's", async () => {
        const customerId = fresh("cus");
        const other = fresh("cus");
        for (const id of ["sub_b", "sub_c", "sub_a"]) {
          await customers.saveSubscription(subscription(customerId, id), undefined);
        }
        await customers.saveSubscription(subscription(other, "sub_d"), undefined);

        const listed = await customers.subscriptions(customerId);
        expect(listed.map((s) => s.subscriptionId)).toEqual(["sub_a", "sub_b", "sub_c"]);
        expect(listed[0]).toEqual(await customers.subscription(customerId, "sub_a"));
        expect(await customers.subscription(customerId, "sub_d")).toBeUndefined();
        expect(await customers.subscription(other, "sub_a")).toBeUndefined();
        expect(await customers.subscriptions(fresh("cus"))).toEqual([]);
      });
    });

    describe("profiles", () => {
      it("saves a profile unless a newer version is stored: an older one is refused, the same or a newer one replaces it", async () => {
        const customerId = fresh("cus");
        expect(await customers.profile(customerId)).toBeUndefined();
        const saved = await customers.saveProfile(profile(customerId, 20, "new@example.com"));
        expect(saved).toEqual({ ...profile(customerId, 20, "new@example.com"), updatedAt: T0 });
        expect(await customers.profile(customerId)).toEqual(saved);

        const t1 = advance(1000);
        expect(await customers.saveProfile(profile(customerId, 19, "old@example.com"))).toBeUndefined();
        expect(await customers.profile(customerId)).toEqual(saved);
        const same = await customers.saveProfile(profile(customerId, 20, "same-second@example.com"));
        expect(same).toEqual({ ...profile(customerId, 20, "same-second@example.com"), updatedAt: t1 });
        const newer = await customers.saveProfile(profile(customerId, 21, "newer@example.com"));
        expect(newer).toEqual({ ...profile(customerId, 21, "newer@example.com"), updatedAt: t1 });
        expect(await customers.profile(customerId)).toEqual(newer);
      });

      it("keeps the checkout email, stores a missing email as null and drops the flags a new profile lacks", async () => {
        const customerId = fresh("cus");
        await customers.saveCheckoutEmail(customerId, "typed@example.com");
        const flagged = await customers.saveProfile({
          ...profile(customerId, 30, "stripe@example.com"),
          deleted: true,
          source: "stripe",
        });
        expect(flagged).toEqual({
          ...profile(customerId, 30, "stripe@example.com"),
          deleted: true,
          source: "stripe",
          checkoutEmail: "typed@example.com",
          updatedAt: T0,
        });

        const plain = await customers.saveProfile({ customerId, metadata: {}, version: 31 });
        expect(plain).toEqual({
          customerId,
          email: null,
          metadata: {},
          version: 31,
          checkoutEmail: "typed@example.com",
          updatedAt: T0,
        });
        const stored = await customers.profile(customerId);
        expect(stored).toEqual(plain);
        expect(stored).not.toHaveProperty("deleted");
        expect(stored).not.toHaveProperty("source");
      });

      it("never loses a checkout email to a profile written at the same time", async () => {
        const customerId = fresh("cus");
        await customers.saveCheckoutEmail(customerId, "typed@example.com");
        await Promise.all([
          customers.saveProfile(profile(customerId, 31, "racing@example.com")),
          customers.saveCheckoutEmail(customerId, "typed-again@example.com"),
        ]);
        expect(await customers.profile(customerId)).toMatchObject({
          email: "racing@example.com",
          checkoutEmail: "typed-again@example.com",
        });
      });

      it("records a checkout email on a bare profile a later profile fills, and changes only it on a stored one", async () => {
        const customerId = fresh("cus");
        const bare = await customers.saveCheckoutEmail(customerId, "typed@example.com");
        expect(bare).toEqual({
          customerId,
          checkoutEmail: "typed@example.com",
          metadata: {},
          version: 0,
          updatedAt: T0,
        });
        expect(await customers.profile(customerId)).toEqual(bare);

        const filled = await customers.saveProfile(profile(customerId, 0, "stripe@example.com"));
        expect(filled).toEqual({
          ...profile(customerId, 0, "stripe@example.com"),
          checkoutEmail: "typed@example.com",
          updatedAt: T0,
        });
        const t1 = advance(1000);
        const retyped = await customers.saveCheckoutEmail(customerId, "retyped@example.com");
        expect(retyped).toEqual({ ...filled, checkoutEmail: "retyped@example.com", updatedAt: t1 });
        expect(await customers.profile(customerId)).toEqual(retyped);
      });
    });

    describe("state", () => {
      it("reads the profile, subscriptions and licenses of one customer, and nothing of another", async () => {
        const customerId = fresh("cus");
        const other = fresh("cus");
        for (const id of [customerId, other]) {
          await customers.saveProfile(profile(id, 10, `${id}@example.com`));
          await customers.saveSubscription(subscription(id, `sub_${id}`), undefined);
          await licenses.save(license(id, "connector-b"), undefined);
        }
        await customers.saveSubscription(subscription(customerId, "sub_0"), undefined);
        await licenses.save(license(customerId, "connector-a"), undefined);

        const state = await customers.state(customerId);
        expect(state).toEqual({
          profile: await customers.profile(customerId),
          subscriptions: await customers.subscriptions(customerId),
          licenses: await licenses.forCustomer(customerId),
        });
        expect(state.profile?.email).toBe(`${customerId}@example.com`);
        expect(state.subscriptions.map((s) => s.subscriptionId)).toEqual(["sub_0", `sub_${customerId}`]);
        expect(state.licenses.map((l) => [l.customerId, l.connectorKey])).toEqual([
          [customerId, "connector-a"],
          [customerId, "connector-b"],
        ]);
        expect(await customers.state(fresh("cus"))).toEqual({
          profile: undefined,
          subscriptions: [],
          licenses: [],
        });
      });
    });

    describe("licenses", () => {
      it("creates a license at rev 1, stamped by the store's clock, and throws LicenseConflictError creating it again", async () => {
        const customerId = fresh("cus");
        const record = license(customerId);
        const saved = await licenses.save(record, undefined);
        expect(saved).toEqual({ ...record, rev: 1, updatedAt: T0 });
        expect(await licenses.get(customerId, "connector-a")).toEqual(saved);
        expect(await licenses.get(customerId, "connector-b")).toBeUndefined();

        advance(1000);
        await expect(licenses.save({ ...record, state: "active" }, undefined)).rejects.toBeInstanceOf(
          LicenseConflictError,
        );
        expect(await licenses.get(customerId, "connector-a")).toEqual(saved);
      });

      it("writes the whole record over the rev it read, and throws LicenseConflictError on a stale, later or missing one", async () => {
        const customerId = fresh("cus");
        const record = license(customerId);
        await licenses.save({ ...record, state: "creating", intentAt: T0 }, undefined);
        const t1 = advance(1000);
        const licenseId = fresh("lic");
        const active = await licenses.save({ ...record, licenseId, state: "active" }, 1, { owned: true });
        expect(active).toEqual({ ...record, licenseId, state: "active", rev: 2, updatedAt: t1 });
        const stored = await licenses.get(customerId, "connector-a");
        expect(stored).toEqual(active);
        expect(stored).not.toHaveProperty("intentAt");

        for (const stale of [1, 3, 0]) {
          await expect(
            licenses.save({ ...record, state: "deleted" }, stale, { owned: true }),
          ).rejects.toBeInstanceOf(LicenseConflictError);
        }
        expect(await licenses.get(customerId, "connector-a")).toEqual(active);
        expect(await licenses.save({ ...record, state: "expired" }, 2)).toMatchObject({
          state: "expired",
          rev: 3,
        });

        await expect(licenses.save(license(customerId, "connector-new"), 1)).rejects.toBeInstanceOf(
          LicenseConflictError,
        );
        expect(await licenses.get(customerId, "connector-new")).toBeUndefined();
      });

      it("lets exactly one of two writers racing on one rev land; the other gets LicenseConflictError", async () => {
        const customerId = fresh("cus");
        const record = license(customerId);
        await licenses.save(record, undefined);
        const results = await Promise.allSettled([
          licenses.save({ ...record, state: "expired" }, 1),
          licenses.save({ ...record, state: "deleted" }, 1),
        ]);
        const landed = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
        const lost = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
        expect(landed).toEqual([expect.objectContaining({ rev: 2 })]);
        expect(lost).toEqual([expect.any(LicenseConflictError)]);
        expect(await licenses.get(customerId, "connector-a")).toEqual(landed[0]);
      });

      it("lists a customer's licenses in connector key order, and none of another's", async () => {
        const customerId = fresh("cus");
        const other = fresh("cus");
        for (const key of ["connector-b", "connector-c", "connector-a"]) {
          await licenses.save(license(customerId, key), undefined);
        }
        await licenses.save(license(other, "connector-d"), undefined);

        const listed = await licenses.forCustomer(customerId);
        expect(listed.map((l) => l.connectorKey)).toEqual(["connector-a", "connector-b", "connector-c"]);
        expect(listed[0]).toEqual(await licenses.get(customerId, "connector-a"));
        expect(await licenses.get(other, "connector-a")).toBeUndefined();
        expect(await licenses.forCustomer(fresh("cus"))).toEqual([]);
      });

      it("leaves out the attributes set to undefined, nested ones too", async () => {
        const customerId = fresh("cus");
        await licenses.save(
          license(customerId, "connector-a", {
            licenseId: undefined,
            subscriptionId: undefined,
            opts: { seats: 2, addon: undefined },
          }),
          undefined,
        );
        const stored = await licenses.get(customerId, "connector-a");
        expect(stored).not.toHaveProperty("licenseId");
        expect(stored).not.toHaveProperty("subscriptionId");
        expect(stored?.opts).toStrictEqual({ seats: 2 });
      });
    });

    describe("ownership", () => {
      it("owns a license id once, stamped by the latest call", async () => {
        const licenseId = fresh("lic");
        const owned = {
          licenseId,
          customerId: fresh("cus"),
          connectorKey: "connector-a",
          connectorId: "conn_a",
          email: "b@example.com",
        };
        expect(await licenses.owner(licenseId)).toBeUndefined();
        await licenses.own(owned);
        expect(await licenses.owner(licenseId)).toEqual({ ...owned, ownedAt: T0 });
        const t1 = advance(1000);
        await licenses.own(owned);
        expect(await licenses.owner(licenseId)).toEqual({ ...owned, ownedAt: t1 });
      });

      it("never takes over a license another customer or connector owns", async () => {
        const licenseId = fresh("lic");
        const owned = {
          licenseId,
          customerId: fresh("cus"),
          connectorKey: "connector-a",
          connectorId: "conn_a",
          email: "b@example.com",
        };
        await licenses.own(owned);
        await expect(licenses.own({ ...owned, customerId: fresh("cus") })).rejects.toBeInstanceOf(
          LicenseConflictError,
        );
        await expect(licenses.own({ ...owned, connectorKey: "connector-b" })).rejects.toBeInstanceOf(
          LicenseConflictError,
        );
        expect(await licenses.owner(licenseId)).toEqual({ ...owned, ownedAt: T0 });
      });

      it("owns the license id of a saved record unless told it is owned, even when the write loses its race", async () => {
        const customerId = fresh("cus");
        const ownedBySave = fresh("lic");
        const record = license(customerId, "connector-a", { licenseId: ownedBySave, state: "active" });
        await licenses.save(record, undefined);
        expect(await licenses.owner(ownedBySave)).toEqual({
          licenseId: ownedBySave,
          customerId,
          connectorKey: "connector-a",
          connectorId: "conn_connector-a",
          email: "buyer@example.com",
          ownedAt: T0,
        });

        const ownedElsewhere = fresh("lic");
        await licenses.save(license(customerId, "connector-b", { licenseId: ownedElsewhere }), undefined, {
          owned: true,
        });
        expect(await licenses.owner(ownedElsewhere)).toBeUndefined();

        const lostRace = fresh("lic");
        await expect(licenses.save({ ...record, licenseId: lostRace }, undefined)).rejects.toBeInstanceOf(
          LicenseConflictError,
        );
        expect(await licenses.owner(lostRace)).toMatchObject({ licenseId: lostRace, customerId });
      });
    });

    describe("create intents", () => {
      it("keeps each intent once and lists a connector's by email, then oldest first", async () => {
        const connectorId = fresh("conn");
        const email = `${fresh("buyer")}@example.com`;
        const intent = (customerId: string, intentAt: string, changes: Partial<CreateIntent> = {}) => ({
          customerId,
          connectorKey: "connector-a",
          connectorId,
          email,
          intentAt,
          ...changes,
        });
        const late = intent(fresh("cus"), "2026-03-01T12:00:05.000Z");
        const early = intent(fresh("cus"), "2026-03-01T11:59:00.000Z");
        const lateOtherKey = intent(late.customerId, late.intentAt, { connectorKey: "connector-b" });
        for (const recorded of [late, early, late, lateOtherKey, early])
          await licenses.recordIntent(recorded);
        await licenses.recordIntent(intent(late.customerId, T0, { connectorId: fresh("conn") }));
        await licenses.recordIntent(intent(late.customerId, T0, { email: `${fresh("other")}@example.com` }));

        const open = await licenses.openIntents(connectorId);
        expect(open.filter((i) => i.email === email)).toEqual([early, late, lateOtherKey]);
        expect(open).toHaveLength(4);
        expect(await licenses.openIntents(fresh("conn"))).toEqual([]);
      });

      it("forgets an intent whose outcome is known, once or twice", async () => {
        const connectorId = fresh("conn");
        const intent = (intentAt: string) => ({
          customerId: fresh("cus"),
          connectorKey: "connector-a",
          connectorId,
          email: "b@example.com",
          intentAt,
        });
        const known = intent(T0);
        const unknown = intent("2026-03-01T12:00:01.000Z");
        await licenses.recordIntent(known);
        await licenses.recordIntent(unknown);
        await licenses.forgetIntent(known);
        await licenses.forgetIntent(known);
        expect(await licenses.openIntents(connectorId)).toEqual([unknown]);
      });

      it("forgets an intent 30 days after it", async () => {
        const connectorId = fresh("conn");
        const intent = {
          customerId: fresh("cus"),
          connectorKey: "connector-a",
          connectorId,
          email: "b@example.com",
          intentAt: T0,
        };
        await licenses.recordIntent(intent);
        advance(30 * DAY_MS - 1000);
        expect(await licenses.openIntents(connectorId)).toEqual([intent]);
        advance(1000);
        expect(await licenses.openIntents(connectorId)).toEqual([]);
      });
    });

    it("hands out copies: changing what it was given or what it returned changes nothing stored", async () => {
      const customerId = fresh("cus");
      const licenseId = fresh("lic");
      const connectorId = fresh("conn");
      const given = {
        subscription: subscription(customerId, "sub_a"),
        profile: profile(customerId, 10, "buyer@example.com"),
        license: license(customerId, "connector-a", { licenseId, connectorId }),
        intent: {
          customerId,
          connectorKey: "connector-a",
          connectorId,
          email: "buyer@example.com",
          intentAt: T0,
        },
      };
      const returned = [
        await customers.saveSubscription(given.subscription, undefined),
        await customers.saveCheckoutEmail(customerId, "typed@example.com"),
        await customers.saveProfile(given.profile),
        await licenses.save(given.license, undefined),
        await licenses.recordIntent(given.intent),
      ];
      const read = async () => ({
        state: await customers.state(customerId),
        subscription: await customers.subscription(customerId, "sub_a"),
        subscriptions: await customers.subscriptions(customerId),
        profile: await customers.profile(customerId),
        license: await licenses.get(customerId, "connector-a"),
        licenses: await licenses.forCustomer(customerId),
        owner: await licenses.owner(licenseId),
        intents: await licenses.openIntents(connectorId),
      });
      const before = structuredClone(await read());

      scribble(given);
      scribble(returned);
      scribble(await read());
      expect(await read()).toEqual(before);
    });
  });
}
