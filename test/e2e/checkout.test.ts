import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectorLicenses,
  createIntegratorUser,
  eventually,
  simControl,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";

/** Checkout through the local stack: validation against the catalog, then the buyer's whole path to a license. */

const CONNECTOR_ID = "65f1c0a2b7d94e3a1c8b7d20";
const SHOP = "http://localhost:3000";
let stack: TestStack;

const checkout = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
  const response = await fetch(`${stack.urls.api}/checkout/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as {
      id: string;
      url: string;
      error: { code: string; message: string; details?: { path: string }[] };
    },
  };
};
const order = (overrides: Record<string, unknown> = {}) => ({
  connector: "shopify-netsuite",
  edition: "standard",
  integratorEmail: "ops@buyer.example",
  successUrl: `${SHOP}/thanks?session={CHECKOUT_SESSION_ID}`,
  cancelUrl: `${SHOP}/pricing`,
  ...overrides,
});

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe("checkout validation", () => {
  it.each([
    ["connector", { connector: "magento-netsuite" }, '"magento-netsuite"'],
    ["edition", { edition: "gold" }, '"gold"'],
    ["interval", { interval: "week" }, '"week"'],
    ["add-on", { addons: [{ key: "warehouse", quantity: 1 }] }, '"warehouse"'],
  ])("refuses an unknown %s with a 400 that quotes it", async (_what, overrides, quoted) => {
    const { status, body } = await checkout(order(overrides));
    expect(status).toBe(400);
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.message).toContain(quoted);
  });

  it("names every refused field at once, each in the details", async () => {
    const { status, body } = await checkout(
      order({
        edition: "gold",
        addons: [{ key: "warehouse", quantity: 1 }],
        successUrl: "https://evil.example/thanks",
      }),
    );
    expect(status).toBe(400);
    expect(body.error.code).toBe("invalid_request");
    for (const quoted of ['"gold"', '"warehouse"', '"https://evil.example"'])
      expect(body.error.message).toContain(quoted);
    expect((body.error.details ?? []).map((d) => d.path).sort()).toEqual(
      ["body.addons.0.key", "body.edition", "body.successUrl"].sort(),
    );
  });

  it("refuses an add-on with no price on the edition's interval (one subscription, one billing cycle)", async () => {
    const { status, body } = await checkout(
      order({ interval: "year", addons: [{ key: "store", quantity: 1 }] }),
    );
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/"store".*"year"/);
  });

  it.each([
    ["successUrl", { successUrl: "https://evil.example/thanks" }, '"https://evil.example"'],
    ["cancelUrl", { cancelUrl: "http://localhost:3001/pricing" }, '"http://localhost:3001"'],
  ])("refuses a %s off the allow-listed origins", async (field, overrides, origin) => {
    const { status, body } = await checkout(order(overrides));
    expect(status).toBe(400);
    expect(body.error.message).toContain(field);
    expect(body.error.message).toContain(origin);
  });

  it("refuses malformed input with the field named", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [order({ integratorEmail: "not-an-email" }), "integratorEmail"],
      [order({ successUrl: "javascript:alert(1)" }), "successUrl"],
      [order({ addons: [{ key: "store", quantity: 0 }] }), "quantity"],
      [order({ coupon: "FREE" }), "coupon"],
      [{ connector: "shopify-netsuite" }, "edition"],
    ];
    for (const [body, field] of cases) {
      const answer = await checkout(body);
      expect(answer.status, field).toBe(400);
      expect(JSON.stringify(answer.body.error), field).toContain(field);
    }
  });

  it("answers browsers from allow-listed origins (CORS), errors included", async () => {
    const refused = await checkout(order({ edition: "gold" }), { origin: SHOP });
    expect(refused.headers.get("access-control-allow-origin")).toBe(SHOP);
    const preflight = await fetch(`${stack.urls.api}/checkout/sessions`, {
      method: "OPTIONS",
      headers: {
        origin: SHOP,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(SHOP);
  });
});

describe("checkout session", () => {
  it("creates a subscription-mode session with the catalog's prices, trial and the integrator.io email", async () => {
    const { status, body } = await checkout(
      order({ edition: "premium", interval: "year", integratorEmail: "Admin@Buyer.example" }),
    );
    expect(status).toBe(201);
    expect(body).toEqual({
      id: expect.stringMatching(/^cs_/),
      url: expect.stringMatching(/^http/),
      trial: true,
      trialDays: 30,
    });
    const session = await stack.stripe.checkout.sessions.retrieve(body.id);
    expect(session).toMatchObject({
      mode: "subscription",
      client_reference_id: "admin@buyer.example",
      metadata: {
        integrator_email: "admin@buyer.example",
        connector: "shopify-netsuite",
        edition: "premium",
      },
      success_url: `${SHOP}/thanks?session={CHECKOUT_SESSION_ID}`,
      cancel_url: `${SHOP}/pricing`,
      customer_email: null,
      amount_total: 199000,
    });
  });

  it("takes a buyer from checkout to a license for the email typed at checkout, not the one paid with", async () => {
    const typed = "it-admin@buyer.example";
    await createIntegratorUser(stack, typed);
    const { status, body } = await checkout(
      order({
        edition: "premium",
        interval: "month",
        integratorEmail: typed,
        addons: [{ key: "store", quantity: 2 }],
      }),
    );
    expect(status).toBe(201);

    // The buyer pays on Stripe's page with the company's billing email.
    const completed = await simControl<{ customer: string; subscription: string }>(
      new URL(stack.urls.stripe).origin,
      "POST",
      `/_sim/checkout/sessions/${body.id}/complete`,
      { email: "billing@buyer.example" },
    );
    const subscription = await stack.stripe.subscriptions.retrieve(completed.subscription);
    expect(subscription.status).toBe("trialing");
    expect(subscription.metadata).toMatchObject({ integrator_email: typed });
    expect(subscription.items.data.map((item) => [item.price.id, item.quantity])).toEqual([
      ["price_prem_month", 1],
      ["price_store_month", 2],
    ]);
    expect(subscription.trial_end).toBe((subscription.trial_start ?? 0) + 30 * 86_400);

    const license = await eventually(
      async () => (await connectorLicenses(stack, CONNECTOR_ID)).find((entry) => entry.user.email === typed),
      { what: `a license for ${typed}` },
    );
    expect(license.opts).toEqual({
      connectorEdition: "premium",
      addonLicenses: [
        { type: "store", licenses: [{ addOnEdition: "standard" }, { addOnEdition: "standard" }] },
      ],
    });
    expect(Date.parse(license.expires)).toBe((subscription.trial_end ?? 0) * 1000);
    const licenses = await connectorLicenses(stack, CONNECTOR_ID);
    expect(licenses.filter((entry) => entry.user.email === "billing@buyer.example")).toEqual([]);
  });
});
