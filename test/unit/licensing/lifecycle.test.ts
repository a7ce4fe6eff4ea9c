import { describe, expect, it } from "vitest";
import type { Catalog } from "#lib/licensing/catalog.ts";
import { type DesiredLicense, desiredLicenses } from "#lib/licensing/desired-licenses.ts";
import type { LicenseCustomer } from "#lib/licensing/email.ts";
import { type LicenseOperation, planChanges, type StoredLicense } from "#lib/licensing/plan-changes.ts";
import {
  daysAfter,
  FIXED_NOW,
  iso,
  makeSubscription,
  monthsAfter,
  type SubscriptionInput,
} from "#test/helpers/stripe-fixtures.ts";
import { catalog, deleteOnEndCatalog, SHOPIFY } from "./test-catalog.ts";

/**
 * Subscription lifecycles as Stripe moves them, step by step: each step's subscription snapshots
 * give the desired license, `planChanges` the integrator.io calls against what the previous
 * steps left in the store, and replaying the same step afterwards plans nothing.
 */

const CUSTOMER = "cus_1TESTcustomer0001";
const { connectorId } = SHOPIFY;
const t0 = daysAfter(FIXED_NOW, 0); // 2026-11-15T12:00:00Z
const day = (days: number) => daysAfter(t0, days);
const P0 = day(-10); // the first period starts 2026-11-05T12:00Z …
const P1 = monthsAfter(P0, 1); // … and ends 2026-12-05T12:00Z
const P2 = monthsAfter(P0, 2); // 2027-01-05T12:00Z

interface Step {
  /** What happened, for the failure message. */
  what: string;
  /** When the event is processed (Unix seconds). */
  at: number;
  /** The customer's subscriptions as Stripe holds them then. */
  subscriptions: SubscriptionInput[];
  ops: LicenseOperation[];
  customer?: Partial<LicenseCustomer>;
  /** integrator.io answers `invalid_user` to this step's create. */
  invalidUser?: boolean;
}

let nextLicense = 0;

/** What the worker would store after integrator.io accepted `ops` (a stand-in for the real store). */
function apply(
  current: StoredLicense | undefined,
  desired: DesiredLicense,
  ops: LicenseOperation[],
  invalidUser: boolean,
): StoredLicense | undefined {
  let record = current;
  for (const op of ops) {
    switch (op.op) {
      case "create":
      case "transfer": {
        nextLicense += 1;
        record = {
          customerId: desired.customerId,
          connectorKey: desired.connectorKey,
          connectorId: op.connectorId,
          licenseId: invalidUser ? undefined : `lic_${nextLicense}`,
          email: op.email,
          expires: op.expires,
          opts: op.opts,
          state: invalidUser ? "pending_user" : "active",
          subscriptionId: desired.subscriptionId,
        };
        break;
      }
      case "update":
        if (!record) throw new Error("update without a record");
        record = {
          ...record,
          ...(op.expires ? { expires: op.expires } : {}),
          ...(op.opts ? { opts: op.opts } : {}),
          state: "active",
          subscriptionId: desired.subscriptionId,
        };
        break;
      case "expire":
        if (!record) throw new Error("expire without a record");
        record = { ...record, expires: op.expires, state: "expired" };
        break;
      case "delete":
        if (!record) throw new Error("delete without a record");
        record = { ...record, state: "deleted" };
        break;
    }
  }
  return record;
}

function play(steps: Step[], options: { catalog?: Catalog } = {}): StoredLicense | undefined {
  let current: StoredLicense | undefined;
  nextLicense = 0;
  for (const step of steps) {
    const now = new Date(step.at * 1000);
    const subscriptions = step.subscriptions.map((input) =>
      makeSubscription({ customer: CUSTOMER, ...input }),
    );
    const customer = { id: CUSTOMER, email: "buyer@example.com", metadata: {}, ...step.customer };
    const [desired] = desiredLicenses(subscriptions, customer, options.catalog ?? catalog, now).licenses;
    if (!desired) throw new Error(`${step.what}: no desired license`);
    const ops = planChanges(desired, current, now);
    expect(ops, step.what).toEqual(step.ops);
    current = apply(current, desired, ops, step.invalidUser ?? false);
    if (!step.invalidUser) expect(planChanges(desired, current, now), `${step.what} (replayed)`).toEqual([]);
  }
  return current;
}

const create = (expires: number, opts: object, email = "buyer@example.com"): LicenseOperation => ({
  op: "create",
  connectorId,
  email,
  expires: iso(expires),
  opts: opts as { connectorEdition: string },
});
const STD = { connectorEdition: "standard" };
const PREM = { connectorEdition: "premium" };
const stores = (n: number) => ({
  connectorEdition: "standard",
  addonLicenses: [
    { type: "store", licenses: Array.from({ length: n }, () => ({ addOnEdition: "standard" })) },
  ],
});

describe("lifecycles", () => {
  it("trial → active", () => {
    const trialEnd = day(25);
    const sub = { id: "sub_trial", trial_start: day(-5), trial_end: trialEnd };
    play([
      {
        what: "trial starts",
        at: t0,
        subscriptions: [{ ...sub, status: "trialing" }],
        ops: [create(trialEnd, STD)],
      },
      {
        what: "trial converts",
        at: trialEnd,
        subscriptions: [
          {
            ...sub,
            status: "active",
            current_period_start: trialEnd,
            current_period_end: monthsAfter(trialEnd, 1),
          },
        ],
        ops: [
          {
            op: "update",
            connectorId,
            licenseId: "lic_1",
            expires: iso(monthsAfter(trialEnd, 1) + 3 * 86_400),
          },
        ],
      },
    ]);
    expect(iso(trialEnd)).toBe("2026-12-10T12:00:00.000Z");
  });

  it("active → past_due → recovered", () => {
    const sub = { id: "sub_pd" };
    const renewed = { current_period_start: P1, current_period_end: P2 };
    const last = play([
      {
        what: "subscribed",
        at: t0,
        subscriptions: [{ ...sub, status: "active" }],
        ops: [create(P1 + 3 * 86_400, STD)],
      },
      {
        what: "renewal payment fails",
        at: P1 + 3600,
        subscriptions: [{ ...sub, status: "past_due", ...renewed }],
        ops: [{ op: "update", connectorId, licenseId: expect.any(String), expires: iso(P2 + 14 * 86_400) }],
      },
      {
        what: "retry succeeds",
        at: P1 + 3 * 86_400,
        subscriptions: [{ ...sub, status: "active", ...renewed }],
        ops: [{ op: "update", connectorId, licenseId: expect.any(String), expires: iso(P2 + 3 * 86_400) }],
      },
    ]);
    expect(last).toMatchObject({ state: "active", expires: "2027-01-08T12:00:00.000Z" });
  });

  it("past_due → canceled (retries exhausted)", () => {
    const sub = { id: "sub_pdc", current_period_start: P1, current_period_end: P2 };
    const end = P1 + 20 * 86_400;
    const last = play([
      {
        what: "past due",
        at: P1 + 3600,
        subscriptions: [{ ...sub, status: "past_due" }],
        ops: [create(P2 + 14 * 86_400, STD)],
      },
      {
        what: "Stripe cancels",
        at: end,
        subscriptions: [{ ...sub, status: "canceled", canceled_at: end, ended_at: end }],
        ops: [{ op: "expire", connectorId, licenseId: expect.any(String), expires: iso(end) }],
      },
    ]);
    expect(last?.state).toBe("expired");
  });

  it("active → unpaid expires the license", () => {
    const sub = { id: "sub_unpaid", current_period_start: P1, current_period_end: P2 };
    play([
      {
        what: "active",
        at: P1,
        subscriptions: [{ ...sub, status: "active" }],
        ops: [create(P2 + 3 * 86_400, STD)],
      },
      {
        what: "marked unpaid",
        at: P1 + 15 * 86_400,
        subscriptions: [{ ...sub, status: "unpaid" }],
        ops: [{ op: "expire", connectorId, licenseId: expect.any(String), expires: iso(P1 + 15 * 86_400) }],
      },
    ]);
  });

  it("trial ends without payment method → paused → resumed revives the same license", () => {
    const trialEnd = day(25);
    const sub = { id: "sub_pause", trial_start: day(-5), trial_end: trialEnd };
    const resumedAt = trialEnd + 2 * 86_400;
    const last = play([
      {
        what: "trialing",
        at: t0,
        subscriptions: [{ ...sub, status: "trialing" }],
        ops: [create(trialEnd, STD)],
      },
      {
        what: "paused at trial end",
        at: trialEnd,
        subscriptions: [
          { ...sub, status: "paused", current_period_start: trialEnd, current_period_end: trialEnd },
        ],
        // The license already lapsed at trial_end: nothing to call.
        ops: [],
      },
      {
        what: "resumed",
        at: resumedAt,
        subscriptions: [
          {
            ...sub,
            status: "active",
            current_period_start: resumedAt,
            current_period_end: monthsAfter(resumedAt, 1),
          },
        ],
        ops: [
          {
            op: "update",
            connectorId,
            licenseId: "lic_1",
            expires: iso(monthsAfter(resumedAt, 1) + 3 * 86_400),
          },
        ],
      },
    ]);
    expect(last).toMatchObject({ licenseId: "lic_1", state: "active" });
  });

  it("cancel_at_period_end on, off, and the period ends", () => {
    const sub = { id: "sub_cpe" };
    play([
      {
        what: "active",
        at: t0,
        subscriptions: [{ ...sub, status: "active" }],
        ops: [create(P1 + 3 * 86_400, STD)],
      },
      {
        what: "cancel at period end",
        at: day(1),
        subscriptions: [{ ...sub, status: "active", cancel_at_period_end: true, cancel_at: P1 }],
        ops: [{ op: "update", connectorId, licenseId: expect.any(String), expires: iso(P1) }],
      },
      {
        what: "changed their mind",
        at: day(2),
        subscriptions: [{ ...sub, status: "active", cancel_at_period_end: false, cancel_at: null }],
        ops: [{ op: "update", connectorId, licenseId: expect.any(String), expires: iso(P1 + 3 * 86_400) }],
      },
      {
        what: "cancel at period end again",
        at: day(3),
        subscriptions: [{ ...sub, status: "active", cancel_at_period_end: true }],
        ops: [{ op: "update", connectorId, licenseId: expect.any(String), expires: iso(P1) }],
      },
      {
        what: "the period ends",
        at: P1,
        subscriptions: [
          { ...sub, status: "canceled", cancel_at_period_end: true, canceled_at: day(3), ended_at: P1 },
        ],
        // expires already equals now: nothing to call.
        ops: [],
      },
    ]);
  });

  it("cancel_at in the middle of the period", () => {
    const cancelAt = day(5);
    play([
      {
        what: "active",
        at: t0,
        subscriptions: [{ id: "sub_ca", status: "active" }],
        ops: [create(P1 + 3 * 86_400, STD)],
      },
      {
        what: "cancel_at scheduled",
        at: day(1),
        subscriptions: [{ id: "sub_ca", status: "active", cancel_at: cancelAt }],
        ops: [{ op: "update", connectorId, licenseId: expect.any(String), expires: iso(cancelAt) }],
      },
      {
        what: "canceled at cancel_at",
        at: cancelAt + 5,
        subscriptions: [
          {
            id: "sub_ca",
            status: "canceled",
            cancel_at: cancelAt,
            canceled_at: cancelAt,
            ended_at: cancelAt,
          },
        ],
        ops: [],
      },
    ]);
  });

  it("incomplete → active creates once paid", () => {
    const sub = { id: "sub_inc", created: day(-1 / 24), current_period_start: day(-1 / 24) };
    play([
      { what: "first payment pending", at: t0, subscriptions: [{ ...sub, status: "incomplete" }], ops: [] },
      {
        what: "paid",
        at: day(1 / 24),
        subscriptions: [{ ...sub, status: "active" }],
        ops: [create(monthsAfter(day(-1 / 24), 1) + 3 * 86_400, STD)],
      },
    ]);
  });

  it("incomplete → incomplete_expired never creates anything", () => {
    const sub = { id: "sub_ie", created: day(-1) };
    const last = play([
      { what: "first payment pending", at: t0, subscriptions: [{ ...sub, status: "incomplete" }], ops: [] },
      {
        what: "23 hours later",
        at: day(1),
        subscriptions: [{ ...sub, status: "incomplete_expired" }],
        ops: [],
      },
    ]);
    expect(last).toBeUndefined();
  });

  it("upgrade mid-period changes only the edition", () => {
    play([
      {
        what: "standard",
        at: t0,
        subscriptions: [{ id: "sub_up", items: [{ price: "price_std_month" }] }],
        ops: [create(P1 + 3 * 86_400, STD)],
      },
      {
        what: "upgrade to premium",
        at: day(1),
        subscriptions: [{ id: "sub_up", items: [{ price: "price_prem_month" }] }],
        ops: [{ op: "update", connectorId, licenseId: expect.any(String), opts: PREM }],
      },
    ]);
  });

  it("downgrade at renewal changes edition and expires in one update", () => {
    play([
      {
        what: "premium",
        at: t0,
        subscriptions: [{ id: "sub_down", items: [{ price: "price_prem_month" }] }],
        ops: [create(P1 + 3 * 86_400, PREM)],
      },
      {
        what: "renews as standard",
        at: P1,
        subscriptions: [
          {
            id: "sub_down",
            items: [{ price: "price_std_month" }],
            current_period_start: P1,
            current_period_end: P2,
          },
        ],
        ops: [
          {
            op: "update",
            connectorId,
            licenseId: expect.any(String),
            expires: iso(P2 + 3 * 86_400),
            opts: STD,
          },
        ],
      },
    ]);
  });

  it("yearly price by lookup key", () => {
    play([
      {
        what: "buys yearly",
        at: t0,
        subscriptions: [{ id: "sub_year", items: [{ price: "prem_yearly" }] }],
        ops: [create(monthsAfter(P0, 12) + 3 * 86_400, PREM)],
      },
    ]);
    expect(iso(monthsAfter(P0, 12) + 3 * 86_400)).toBe("2027-11-08T12:00:00.000Z");
  });

  it("add-on quantity change", () => {
    const items = (n: number) => [{ price: "price_std_month" }, { price: "price_store_month", quantity: n }];
    play([
      {
        what: "one store",
        at: t0,
        subscriptions: [{ id: "sub_add", items: items(1) }],
        ops: [create(P1 + 3 * 86_400, stores(1))],
      },
      {
        what: "three stores",
        at: day(1),
        subscriptions: [{ id: "sub_add", items: items(3) }],
        ops: [{ op: "update", connectorId, licenseId: expect.any(String), opts: stores(3) }],
      },
      {
        what: "store add-on removed",
        at: day(2),
        subscriptions: [{ id: "sub_add", items: [{ price: "price_std_month" }] }],
        ops: [{ op: "update", connectorId, licenseId: expect.any(String), opts: STD }],
      },
    ]);
  });

  it("two subscriptions for one connector: the active one takes over from the trial", () => {
    const trial = {
      id: "sub_a_trial",
      status: "trialing" as const,
      items: [{ price: "price_prem_month" }],
      trial_start: day(-5),
      trial_end: day(25),
    };
    const paid = { id: "sub_b_paid", status: "active" as const, items: [{ price: "price_std_month" }] };
    const last = play([
      { what: "premium trial", at: t0, subscriptions: [trial], ops: [create(day(25), PREM)] },
      {
        what: "also buys standard",
        at: day(1),
        subscriptions: [
          trial,
          { ...paid, current_period_start: day(1), current_period_end: monthsAfter(day(1), 1) },
        ],
        ops: [
          {
            op: "update",
            connectorId,
            licenseId: expect.any(String),
            expires: iso(monthsAfter(day(1), 1) + 3 * 86_400),
            opts: STD,
          },
        ],
      },
    ]);
    expect(last).toMatchObject({ licenseId: "lic_1", subscriptionId: "sub_b_paid", opts: STD });
  });

  it("staff sets another integrator.io email: transfer, then replays do nothing", () => {
    const last = play([
      {
        what: "licensed to the billing email",
        at: t0,
        subscriptions: [{ id: "sub_tr" }],
        ops: [create(P1 + 3 * 86_400, STD)],
      },
      {
        what: "metadata.integrator_email set on the customer",
        at: day(1),
        subscriptions: [{ id: "sub_tr" }],
        customer: { metadata: { integrator_email: "Ops@Buyer.example" } },
        ops: [
          {
            op: "transfer",
            connectorId,
            licenseId: expect.any(String),
            fromEmail: "buyer@example.com",
            expireAt: iso(day(1)),
            email: "ops@buyer.example",
            expires: iso(P1 + 3 * 86_400),
            opts: STD,
          },
        ],
      },
    ]);
    expect(last).toMatchObject({ email: "ops@buyer.example", state: "active" });
  });

  it("invalid_user leaves the license pending_user, and the next event creates it again", () => {
    const last = play([
      {
        what: "no integrator.io account yet",
        at: t0,
        subscriptions: [{ id: "sub_pu" }],
        ops: [create(P1 + 3 * 86_400, STD)],
        invalidUser: true,
      },
      {
        what: "retried by the reconciler",
        at: day(1),
        subscriptions: [{ id: "sub_pu" }],
        ops: [create(P1 + 3 * 86_400, STD)],
      },
    ]);
    expect(last?.state).toBe("active");
  });

  it("onEnd delete deletes the license when the subscription ends", () => {
    const last = play(
      [
        { what: "active", at: t0, subscriptions: [{ id: "sub_del" }], ops: [create(P1 + 3 * 86_400, STD)] },
        {
          what: "canceled",
          at: day(2),
          subscriptions: [{ id: "sub_del", status: "canceled", canceled_at: day(2), ended_at: day(2) }],
          ops: [{ op: "delete", connectorId, licenseId: expect.any(String) }],
        },
      ],
      { catalog: deleteOnEndCatalog },
    );
    expect(last?.state).toBe("deleted");
  });
});
