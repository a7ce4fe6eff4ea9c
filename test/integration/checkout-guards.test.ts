import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDocumentClient } from "#lib/aws.ts";
import { checkoutSessionStatus } from "#lib/marketplace/checkout.ts";
import { ListingStore } from "#lib/marketplace/listing-store.ts";
import { PRICE_REFRESH_INTERVAL_MS } from "#lib/marketplace/listings.ts";
import { TrialClaims } from "#lib/marketplace/trial-claims.ts";
import { Table } from "#lib/store/dynamo.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { type SimHarness, seedPrice, startSimHarness } from "#test/helpers/stripe-sim.ts";

// The checkout's two guards against DynamoDB Local and the Stripe simulator (official SDK), on a
// fake clock: one listings refresh per interval for a missing price, one trial per email and connector.

const tableName = "checkout-guards-test";
let dynamo: DynamoDbLocal;
let sim: SimHarness;
let stripe: Stripe;
let table: Table;
let now = Date.parse("2026-11-15T12:00:00Z");
let sequence = 0;
const freshEmail = () => `buyer-${process.pid}-${sequence++}@example.com`;

beforeAll(async () => {
  [dynamo, sim] = await Promise.all([startDynamoDbLocal({ port: 0 }), startSimHarness()]);
  await createTable(dynamo.endpoint, tableName);
  table = new Table(
    createDocumentClient({ dynamodbEndpoint: dynamo.endpoint, awsRegion: "us-east-1" }),
    tableName,
    () => now,
  );
  stripe = sim.stripe;
  await seedPrice(sim, { price: "price_guard_month" });
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), sim?.stop()]);
});

const sessionReads = async () => {
  const { body } = await sim.control("GET", "/_sim/stats");
  return (body.byRoute as Record<string, number>)["GET /v1/checkout/sessions/:id"] ?? 0;
};
const openSession = () =>
  stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: "price_guard_month", quantity: 1 }],
    success_url: "https://shop.example.com/thanks",
    subscription_data: { trial_period_days: 30 },
  });

describe("ListingStore.claimPriceRefresh", () => {
  it("lets one of any number of callers refresh per interval, and one again after it", async () => {
    const store = new ListingStore(table);
    const first = await Promise.all(
      Array.from({ length: 10 }, () => store.claimPriceRefresh(PRICE_REFRESH_INTERVAL_MS)),
    );
    expect(first.filter(Boolean)).toHaveLength(1);
    now += PRICE_REFRESH_INTERVAL_MS - 1;
    expect(await store.claimPriceRefresh(PRICE_REFRESH_INTERVAL_MS)).toBe(false);
    now += 1;
    const later = await Promise.all(
      Array.from({ length: 10 }, () => store.claimPriceRefresh(PRICE_REFRESH_INTERVAL_MS)),
    );
    expect(later.filter(Boolean)).toHaveLength(1);
  });
});

describe("TrialClaims", () => {
  const trials = () => new TrialClaims(table, checkoutSessionStatus(stripe));
  // Sessions expire 24 hours after the simulator's real time: each test starts the fake clock there.
  beforeEach(() => {
    now = Date.now();
  });

  it("grants one of concurrent claims of an email and connector; another connector is another trial", async () => {
    const email = freshEmail();
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => trials().claim("shopify-netsuite", email)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await trials().claim("amazon-netsuite", email)).toBeDefined();
  });

  it("holds a trial while its session can be paid, and spends it for good once paid", async () => {
    const email = freshEmail();
    const claim = await trials().claim("shopify-netsuite", email);
    if (!claim) throw new Error("no claim");
    const session = await openSession();
    await trials().attach(claim, session.id, session.expires_at * 1000);
    expect(await trials().claim("shopify-netsuite", email)).toBeUndefined();

    await sim.control("POST", `/_sim/checkout/sessions/${session.id}/complete`, { email });
    now = session.expires_at * 1000 + 1;
    const reads = await sessionReads();
    expect(await trials().claim("shopify-netsuite", email)).toBeUndefined();
    expect(await trials().claim("shopify-netsuite", email)).toBeUndefined();
    // Stripe is asked once; the answer ("complete") is kept.
    expect((await sessionReads()) - reads).toBe(1);
  });

  it("gives the trial back once its session expired unpaid: one of concurrent checkouts takes it", async () => {
    const email = freshEmail();
    const claim = await trials().claim("shopify-netsuite", email);
    if (!claim) throw new Error("no claim");
    const session = await openSession();
    await trials().attach(claim, session.id, session.expires_at * 1000);
    await stripe.checkout.sessions.expire(session.id);
    expect(await trials().claim("shopify-netsuite", email)).toBeUndefined();

    now = session.expires_at * 1000 + 1;
    const retaken = await Promise.all(
      Array.from({ length: 5 }, () => trials().claim("shopify-netsuite", email)),
    );
    expect(retaken.filter(Boolean)).toHaveLength(1);
    expect(await trials().claim("shopify-netsuite", email)).toBeUndefined();
  });

  it("keeps a still-open session's trial held even past its expiry time", async () => {
    const email = freshEmail();
    const claim = await trials().claim("shopify-netsuite", email);
    if (!claim) throw new Error("no claim");
    const session = await openSession();
    await trials().attach(claim, session.id, session.expires_at * 1000);
    now = session.expires_at * 1000 + 1;
    expect(await trials().claim("shopify-netsuite", email)).toBeUndefined();
  });

  it("gives a released trial back at once, and one never recorded on a session after 24 hours", async () => {
    const released = freshEmail();
    const claim = await trials().claim("shopify-netsuite", released);
    if (!claim) throw new Error("no claim");
    await trials().release(claim);
    expect(await trials().claim("shopify-netsuite", released)).toBeDefined();

    const crashed = freshEmail();
    expect(await trials().claim("shopify-netsuite", crashed)).toBeDefined();
    now += 24 * 3_600_000;
    expect(await trials().claim("shopify-netsuite", crashed)).toBeUndefined();
    now += 5 * 60_000 + 1;
    const reads = await sessionReads();
    expect(await trials().claim("shopify-netsuite", crashed)).toBeDefined();
    expect(await sessionReads()).toBe(reads);
  });
});
