import { describe, expect, it } from "vitest";
import { mergeMatches, searchKeys } from "#lib/admin/customer-search.ts";
import { integratorDifference, withIntegratorCopies } from "#lib/admin/integrator-copies.ts";
import { bucketSnapshot } from "#lib/integrator/distributed-bucket.ts";
import { IntegratorError, IntegratorNetworkError } from "#lib/integrator/errors.ts";
import type { License } from "#lib/integrator/schemas.ts";
import { countRepaired } from "#lib/reconcile/customer.ts";
import type { LicenseRecord } from "#lib/store/licenses.ts";
import type { DriftItem } from "#lib/store/reconcile-runs.ts";

describe("customer search keys", () => {
  it("looks up text with an @ as a normalised email, an id as ids, anything else as nothing", () => {
    expect(searchKeys("  Buyer@Example.COM ")).toEqual({ kind: "email", email: "buyer@example.com" });
    expect(searchKeys("cus_Q1w2E3")).toEqual({ kind: "id", id: "cus_Q1w2E3" });
    expect(searchKeys("sub_1")).toEqual({ kind: "id", id: "sub_1" });
    expect(searchKeys("65f1c0a2b7d94e3a1c8b7d21")).toEqual({ kind: "id", id: "65f1c0a2b7d94e3a1c8b7d21" });
    for (const text of ["not an email@", "@", "two words", "cus_1#x", "a\u0000b", "x".repeat(129)])
      expect(searchKeys(text), text).toEqual({ kind: "none" });
  });
});

describe("merging the lookups into a page", () => {
  it("orders by customer id, names each by its first match, and has a next page only when more remain", () => {
    const found = {
      email: ["cus_b", "cus_d"],
      checkoutEmail: ["cus_a", "cus_b"],
      licenseEmail: ["cus_c", "cus_d", "cus_e"],
    };
    expect(mergeMatches(found, 10)).toEqual({
      page: [
        { customerId: "cus_a", matchedBy: "checkoutEmail" },
        { customerId: "cus_b", matchedBy: "email" },
        { customerId: "cus_c", matchedBy: "licenseEmail" },
        { customerId: "cus_d", matchedBy: "email" },
        { customerId: "cus_e", matchedBy: "licenseEmail" },
      ],
      next: undefined,
    });
    expect(mergeMatches(found, 2)).toEqual({
      page: [
        { customerId: "cus_a", matchedBy: "checkoutEmail" },
        { customerId: "cus_b", matchedBy: "email" },
      ],
      next: "cus_b",
    });
    expect(mergeMatches({ customerId: ["cus_x"], licenseId: ["cus_x"] }, 5).page).toEqual([
      { customerId: "cus_x", matchedBy: "customerId" },
    ]);
    expect(mergeMatches({}, 5)).toEqual({ page: [], next: undefined });
  });

  it("pages through every match exactly once whatever the page size", () => {
    // Three lookups over 40 customers; each answers its first `limit + 1` ids after the cursor.
    const ids = Array.from({ length: 40 }, (_, i) => `cus_${String(i).padStart(2, "0")}`);
    const lookups = {
      email: ids.filter((_, i) => i % 2 === 0),
      checkoutEmail: ids.filter((_, i) => i % 3 === 0),
      licenseEmail: ids.filter((_, i) => i % 5 === 0),
    };
    const everyMatch = [...new Set(Object.values(lookups).flat())].sort();
    for (const limit of [1, 2, 3, 7, 100]) {
      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const found = Object.fromEntries(
          Object.entries(lookups).map(([kind, list]) => [
            kind,
            list.filter((id) => after === undefined || id > after).slice(0, limit + 1),
          ]),
        );
        const { page, next } = mergeMatches(found, limit);
        expect(page.length).toBeLessThanOrEqual(limit);
        seen.push(...page.map((m) => m.customerId));
        if (!next) break;
        after = next;
      }
      expect(seen, `limit ${limit}`).toEqual(everyMatch);
    }
  });
});

const record = (fields: Partial<LicenseRecord> = {}): LicenseRecord => ({
  customerId: "cus_1",
  connectorKey: "shopify-netsuite",
  connectorId: "65f1c0a2b7d94e3a1c8b7d20",
  subscriptionId: "sub_1",
  licenseId: "lic_1",
  email: "buyer@example.com",
  expires: "2030-01-01T00:00:00.000Z",
  opts: { connectorEdition: "standard" },
  state: "active",
  rev: 1,
  updatedAt: "2029-01-01T00:00:00.000Z",
  ...fields,
});
const license = (fields: Partial<License> = {}): License =>
  ({
    _id: "lic_1",
    expires: "2030-01-01T00:00:00Z",
    opts: { connectorEdition: "standard" },
    user: { email: "Buyer@Example.com" },
    ...fields,
  }) as License;

describe("integrator.io's copy beside ours", () => {
  it("is left out when it agrees (email in any case, expiry to the second), shown when it differs", () => {
    expect(integratorDifference(record(), license())).toBeUndefined();
    expect(integratorDifference(record(), undefined)).toEqual({ missing: true });
    expect(integratorDifference(record(), license({ opts: { connectorEdition: "premium" } }))).toEqual({
      email: "Buyer@Example.com",
      expires: "2030-01-01T00:00:00Z",
      opts: { connectorEdition: "premium" },
    });
    expect(integratorDifference(record(), license({ expires: "2029-06-01T00:00:00Z" }))).toMatchObject({
      expires: "2029-06-01T00:00:00Z",
    });
    expect(
      integratorDifference(
        record(),
        license({ user: { email: "other@example.com" }, _integrationId: "int_1" }),
      ),
    ).toMatchObject({ email: "other@example.com", integrationId: "int_1" });
  });

  const client = (get: (connectorId: string, licenseId: string) => Promise<License>) =>
    ({ licenses: { get } }) as unknown as Parameters<typeof withIntegratorCopies>[1];

  it("reads only licenses integrator.io should hold, and says missing for a 404", async () => {
    const asked: string[] = [];
    const records = [
      record(),
      record({ connectorKey: "other", licenseId: "lic_gone" }),
      record({ connectorKey: "pending", licenseId: undefined, state: "pending_user" }),
      record({ connectorKey: "deleted", licenseId: "lic_deleted", state: "deleted" }),
    ];
    const { licenses, unavailable } = await withIntegratorCopies(
      records,
      client(async (_connector, id) => {
        asked.push(id);
        if (id === "lic_gone")
          throw new IntegratorError("not found", { status: 404, method: "GET", path: "/x", errors: [] });
        return license();
      }),
    );
    expect(unavailable).toBe(false);
    expect(asked.sort()).toEqual(["lic_1", "lic_gone"]);
    expect(licenses.map((l) => ("integrator" in l ? l.integrator : undefined))).toEqual([
      undefined,
      { missing: true },
      undefined,
      undefined,
    ]);
  });

  it("says unavailable, with our records as they are, when integrator.io fails or is slower than the budget", async () => {
    const failing = await withIntegratorCopies(
      [record()],
      client(async () => {
        throw new IntegratorNetworkError("connect ECONNREFUSED", {
          method: "GET",
          path: "/x",
          networkCode: "ECONNREFUSED",
        });
      }),
    );
    expect(failing).toEqual({ licenses: [record()], unavailable: true });
    const slow = await withIntegratorCopies(
      [record()],
      client(
        (_c, _id) =>
          new Promise<License>((_resolve, reject) => setTimeout(() => reject(new Error("late")), 1_000)),
      ),
      20,
    );
    expect(slow.unavailable).toBe(true);
  });
});

describe("the rate-limit bucket as the overview shows it", () => {
  const settings = { capacity: 1000, refillPerSecond: 300, share: 1 };
  const now = 1_700_000_000_000;
  const n = (value: number) => ({ N: String(value) });

  it("is full without an item, empty while paused, and refills at the enforced rate", () => {
    expect(bucketSnapshot(undefined, settings, now)).toEqual({
      tokens: 980,
      capacity: 980,
      refillPerSecond: 294,
      pausedUntil: undefined,
    });
    // `tat` is when the bucket is full again: 1 s ahead, it lacks one second's refill (294 tokens).
    expect(bucketSnapshot({ tat: n(now + 1000) }, settings, now).tokens).toBe(686);
    const burstMs = (980 / 294) * 1000;
    const paused = bucketSnapshot(
      { tat: n(now + 5000 + burstMs), pausedUntil: n(now + 5000) },
      settings,
      now,
    );
    expect(paused).toMatchObject({ tokens: 0, pausedUntil: now + 5000 });
    expect(bucketSnapshot({ tat: n(now - 1), pausedUntil: n(now - 10) }, settings, now)).toMatchObject({
      tokens: 980,
      pausedUntil: undefined,
    });
  });
});

describe("what a customer's repair carried out", () => {
  const item = (kind: DriftItem["kind"], fields: Partial<DriftItem> = {}): DriftItem => ({
    kind,
    customerId: "cus_1",
    connector: "shopify-netsuite",
    detail: "found",
    ...fields,
  });

  it("counts the kinds a repair carries out, not a pending license still waiting nor a create still settling", () => {
    expect(
      countRepaired([
        item("missing"),
        item("wrongEdition"),
        item("notInStripe"),
        item("foreign"),
        item("pendingRetried", { licenseId: "lic_1" }),
        item("pendingRetried"),
      ]),
    ).toBe(3);
    expect(
      countRepaired([
        item("missing", { detail: "x; a license create is still settling, the next run looks again" }),
      ]),
    ).toBe(0);
    expect(countRepaired([item("error")])).toBe(0);
  });
});
