import { Logger } from "@aws-lambda-powertools/logger";
import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDocumentClient } from "#lib/aws.ts";
import { parseCatalog } from "#lib/licensing/catalog.ts";
import {
  CHECKOUT_SESSION_LIFETIME_SECONDS,
  type CheckoutDeps,
  checkoutSessionStatus,
  createCheckoutSession,
} from "#lib/marketplace/checkout.ts";
import { CheckoutRequestError } from "#lib/marketplace/errors.ts";
import { ListingStore } from "#lib/marketplace/listing-store.ts";
import { Listings, PRICE_REFRESH_INTERVAL_MS } from "#lib/marketplace/listings.ts";
import type { CheckoutRequest } from "#lib/marketplace/schemas.ts";
import { CLAIM_MARGIN_MS, type TrialClaim, TrialClaims } from "#lib/marketplace/trial-claims.ts";
import { Table } from "#lib/store/dynamo.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { type SimHarness, seedPrice, startSimHarness } from "#test/helpers/stripe-sim.ts";

// The checkout's guards against DynamoDB Local and the Stripe simulator (official SDK), on a fake
// clock: one listings refresh per interval for a missing price, one trial per email and connector;
// and checkout itself with them: a trial held no longer than its session, a refresh waited on briefly.

const tableName = "checkout-guards-test";
/** Checkout's own table: its listings and price-refresh claim start empty. */
const checkoutTableName = "checkout-guards-checkout";
let dynamo: DynamoDbLocal;
let sim: SimHarness;
let stripe: Stripe;
/** The simulator's client as the functions hold theirs (`createStripe`): built on first use. */
const sdk = async () => stripe;
let table: Table;
let now = Date.parse("2026-11-15T12:00:00Z");
let sequence = 0;
const freshEmail = () => `buyer-${process.pid}-${sequence++}@example.com`;

beforeAll(async () => {
  [dynamo, sim] = await Promise.all([startDynamoDbLocal({ port: 0 }), startSimHarness()]);
  await Promise.all([
    createTable(dynamo.endpoint, tableName),
    createTable(dynamo.endpoint, checkoutTableName),
  ]);
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
/** A session as checkout creates it: it can be paid for CHECKOUT_SESSION_LIFETIME_SECONDS. */
const openSession = () =>
  stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: "price_guard_month", quantity: 1 }],
    success_url: "https://shop.example.com/thanks",
    subscription_data: { trial_period_days: 30 },
    expires_at: Math.floor(Date.now() / 1000) + CHECKOUT_SESSION_LIFETIME_SECONDS,
  });
/** The `expires_at` (ms) checkout decides for its session before claiming the trial, on the test's clock. */
const expiry = () => now + CHECKOUT_SESSION_LIFETIME_SECONDS * 1000;
/** The first instant a claim attached to `session` no longer holds without asking Stripe. */
const pastHold = (session: Stripe.Checkout.Session) => session.expires_at * 1000 + CLAIM_MARGIN_MS;

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
  const trials = () => new TrialClaims(table, checkoutSessionStatus(sdk));
  // Sessions expire after the simulator's real time: each test starts the fake clock there.
  beforeEach(() => {
    now = Date.now();
  });

  it("grants one of concurrent claims of an email and connector; another connector is another trial", async () => {
    const email = freshEmail();
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => trials().claim("shopify-netsuite", email, expiry())),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await trials().claim("amazon-netsuite", email, expiry())).toBeDefined();
  });

  it("holds a trial while its session can be paid, and spends it for good once paid", async () => {
    const email = freshEmail();
    const claim = await trials().claim("shopify-netsuite", email, expiry());
    if (!claim) throw new Error("no claim");
    const session = await openSession();
    await trials().attach(claim, session.id, session.expires_at * 1000);
    expect(await trials().claim("shopify-netsuite", email, expiry())).toBeUndefined();

    await sim.control("POST", `/_sim/checkout/sessions/${session.id}/complete`, { email });
    now = pastHold(session);
    const reads = await sessionReads();
    expect(await trials().claim("shopify-netsuite", email, expiry())).toBeUndefined();
    expect(await trials().claim("shopify-netsuite", email, expiry())).toBeUndefined();
    // Stripe is asked once; the answer ("complete") is kept.
    expect((await sessionReads()) - reads).toBe(1);
  });

  it("gives the trial back once its session expired unpaid: one of concurrent checkouts takes it", async () => {
    const email = freshEmail();
    const claim = await trials().claim("shopify-netsuite", email, expiry());
    if (!claim) throw new Error("no claim");
    const session = await openSession();
    await trials().attach(claim, session.id, session.expires_at * 1000);
    await stripe.checkout.sessions.expire(session.id);
    expect(await trials().claim("shopify-netsuite", email, expiry())).toBeUndefined();
    now = pastHold(session) - 1;
    expect(await trials().claim("shopify-netsuite", email, expiry())).toBeUndefined();

    now = pastHold(session);
    const retaken = await Promise.all(
      Array.from({ length: 5 }, () => trials().claim("shopify-netsuite", email, expiry())),
    );
    expect(retaken.filter(Boolean)).toHaveLength(1);
    expect(await trials().claim("shopify-netsuite", email, expiry())).toBeUndefined();
  });

  it("keeps a still-open session's trial held even past its expiry time", async () => {
    const email = freshEmail();
    const claim = await trials().claim("shopify-netsuite", email, expiry());
    if (!claim) throw new Error("no claim");
    const session = await openSession();
    await trials().attach(claim, session.id, session.expires_at * 1000);
    now = pastHold(session);
    expect(await trials().claim("shopify-netsuite", email, expiry())).toBeUndefined();
  });

  it("gives a released trial back at once, and one never recorded on a session once that session's expiry and the margin have passed", async () => {
    const released = freshEmail();
    const claim = await trials().claim("shopify-netsuite", released, expiry());
    if (!claim) throw new Error("no claim");
    await trials().release(claim);
    expect(await trials().claim("shopify-netsuite", released, expiry())).toBeDefined();

    // A crash between creating the session (expiring at `expiresAt`) and recording it on the claim.
    const crashed = freshEmail();
    const expiresAt = expiry();
    expect(await trials().claim("shopify-netsuite", crashed, expiresAt)).toBeDefined();
    now = expiresAt + CLAIM_MARGIN_MS - 1;
    expect(await trials().claim("shopify-netsuite", crashed, expiry())).toBeUndefined();
    now += 1;
    const reads = await sessionReads();
    expect(await trials().claim("shopify-netsuite", crashed, expiry())).toBeDefined();
    expect(await sessionReads()).toBe(reads);
  });
});

describe("createCheckoutSession", () => {
  const SHOP = "https://shop.example.com";
  const catalog = parseCatalog({
    connectors: [
      {
        key: "guard-connector",
        connectorId: "0123456789abcdef01234567",
        name: "Guard connector",
        trialDays: 30,
        editions: [
          { key: "standard", prices: ["price_guard_month"] },
          // Not in Stripe at the first sync: a checkout of it finds its price missing from the listings.
          { key: "premium", prices: ["price_guard_premium"] },
        ],
        addons: [],
      },
    ],
    policy: { renewalBufferDays: 3, pastDueGraceDays: 14, onEnd: "expire" },
  });
  const logger = new Logger({ logLevel: "SILENT" });
  /** integrator.io for the listings: answers after `integratorDelayMs`. */
  let integratorDelayMs = 0;
  const integrator = {
    connectors: {
      get: async (id: string) => {
        await new Promise((resolve) => setTimeout(resolve, integratorDelayMs));
        return { _id: id, name: "Guard connector" };
      },
    },
    templates: { list: async () => [] },
  } as unknown as ConstructorParameters<typeof Listings>[0]["sources"]["integrator"];
  let checkoutTable: Table;
  let listings: Listings;
  const deps = (overrides: Partial<CheckoutDeps> = {}): CheckoutDeps => ({
    catalog,
    listings,
    trials: new TrialClaims(checkoutTable, checkoutSessionStatus(sdk)),
    stripe: sdk,
    checkoutAllowedOrigins: [SHOP],
    logger,
    ...overrides,
  });
  const request = (email: string, edition = "standard"): CheckoutRequest => ({
    connector: "guard-connector",
    edition,
    integratorEmail: email,
    successUrl: `${SHOP}/thanks`,
    cancelUrl: `${SHOP}/pricing`,
  });

  beforeAll(async () => {
    checkoutTable = new Table(
      createDocumentClient({ dynamodbEndpoint: dynamo.endpoint, awsRegion: "us-east-1" }),
      checkoutTableName,
      () => now,
    );
    listings = new Listings({
      store: new ListingStore(checkoutTable),
      sources: { catalog, stripe: sdk, integrator },
      logger,
      now: () => now,
      refreshWaitMs: 300,
    });
  });
  beforeEach(() => {
    now = Date.now();
    integratorDelayMs = 0;
  });

  it("creates a session Stripe expires after 31 minutes, and holds its trial until then and the margin, no longer", async () => {
    const email = freshEmail();
    const before = Math.floor(Date.now() / 1000);
    const first = await createCheckoutSession(deps(), request(email));
    const after = Math.floor(Date.now() / 1000);
    expect(first).toMatchObject({ trial: true, trialDays: 30 });
    const session = await stripe.checkout.sessions.retrieve(first.id);
    expect(session.expires_at).toBeGreaterThanOrEqual(before + CHECKOUT_SESSION_LIFETIME_SECONDS);
    expect(session.expires_at).toBeLessThanOrEqual(after + CHECKOUT_SESSION_LIFETIME_SECONDS);
    expect(CHECKOUT_SESSION_LIFETIME_SECONDS).toBe(31 * 60);

    // Anyone naming that email meanwhile gets no trial...
    expect(await createCheckoutSession(deps(), request(email))).toMatchObject({
      trial: false,
      noTrialReason: "already_used",
    });
    now = pastHold(session) - 1;
    expect((await createCheckoutSession(deps(), request(email))).trial).toBe(false);
    // ...until the session expired unpaid (Stripe does so at its expires_at; here, 31 minutes on,
    // through the API) and the margin passed: then the next checkout of the email gets it.
    await stripe.checkout.sessions.expire(session.id);
    now = pastHold(session);
    expect(await createCheckoutSession(deps(), request(email))).toMatchObject({ trial: true });
  });

  it("gives the trial back when its session cannot be recorded on the claim, and answers that error", async () => {
    class UnrecordableClaims extends TrialClaims {
      override async attach(_claim: TrialClaim, _sessionId: string, _expiresAtMs: number): Promise<void> {
        throw new Error("ProvisionedThroughputExceededException: the claim could not be updated");
      }
    }
    const email = freshEmail();
    const failing = deps({ trials: new UnrecordableClaims(checkoutTable, checkoutSessionStatus(sdk)) });
    await expect(createCheckoutSession(failing, request(email))).rejects.toThrow(
      "ProvisionedThroughputExceededException",
    );
    // The session's URL was never handed out: the next checkout of the email gets the trial at once.
    expect(await createCheckoutSession(deps(), request(email))).toMatchObject({ trial: true });
  });

  it("answers a price missing from the listings with a 400 at once when the refresh outlasts its wait; the refresh finishes behind it", async () => {
    await createCheckoutSession(deps(), request(freshEmail())); // the listings are filled
    await seedPrice(sim, { price: "price_guard_premium" });
    integratorDelayMs = 3_000;
    const started = Date.now();
    const refused = await createCheckoutSession(deps(), request(freshEmail(), "premium")).catch(
      (error: unknown) => error,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(refused).toBeInstanceOf(CheckoutRequestError);
    expect((refused as CheckoutRequestError).problems).toEqual([
      {
        path: "body.edition",
        message: 'Edition "premium" of connector "guard-connector" has no price on sale.',
      },
    ]);

    // The refresh was not abandoned: it finishes behind the answer, and the listings have the price.
    const editions = async () =>
      (await listings.connector("guard-connector"))?.editions.map((edition) => edition.key);
    expect(await editions()).toEqual(["standard"]);
    const deadline = Date.now() + 10_000;
    while ((await editions())?.length !== 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await editions()).toEqual(["standard", "premium"]);
    integratorDelayMs = 0;
    expect(await createCheckoutSession(deps(), request(freshEmail(), "premium"))).toMatchObject({
      trial: true,
    });
  }, 20_000);
});
