/**
 * `npm run demo`: one customer's whole lifecycle through the Stripe simulator, printing the
 * integrator.io license after each step. Uses the stack of a running `npm start` (its default
 * ports), or starts one of its own on free ports.
 */
import Stripe from "stripe";
import { LOCAL_DEFAULTS, loadConfig } from "#lib/config.ts";
import { loadDotEnv } from "./dotenv.ts";
import { startLocalStack } from "./stack.ts";

loadDotEnv();
const config = loadConfig();
let apiUrl = `http://127.0.0.1:${config.port}`;
let integratorUrl = config.integratorApiUrl;
let stripeUrl = config.stripeApiUrl;
let stop = async () => undefined as unknown;

const running = await fetch(`${apiUrl}/health`).then(
  (r) => r.ok,
  () => false,
);
if (running) {
  console.log(`Using the local stack at ${apiUrl}`);
} else {
  console.log("No local stack on PORT; starting one on free ports…");
  const stack = await startLocalStack({
    PORT: "0",
    INTEGRATOR_API_URL: "http://127.0.0.1:0/v1",
    STRIPE_API_URL: "http://127.0.0.1:0",
    LOG_LEVEL: "WARN",
  });
  ({ api: apiUrl, integrator: integratorUrl, stripe: stripeUrl } = stack.urls);
  stop = stack.stop;
}
const vendorToken = config.secrets.INTEGRATOR_TOKEN ?? LOCAL_DEFAULTS.INTEGRATOR_TOKEN;
const catalogConnector = JSON.parse(
  await (await import("node:fs/promises")).readFile(config.catalogPath, "utf8"),
).connectors[0] as { key: string; connectorId: string; name: string; trialDays?: number };
/** The catalog's trial, as `POST /checkout/sessions` gives it; 14 days when the catalog sets none, so the demo still shows one. */
const trialDays = catalogConnector.trialDays ?? 14;
const stripeAddress = new URL(stripeUrl);
const stripe = new Stripe(config.secrets.STRIPE_SECRET_KEY ?? LOCAL_DEFAULTS.STRIPE_SECRET_KEY, {
  host: stripeAddress.hostname,
  port: Number(stripeAddress.port),
  protocol: "http",
});
const control = async (origin: string, path: string, body: unknown) => {
  const response = await fetch(`${origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
};
const email = `demo-${Date.now().toString(36)}@example.com`;

async function license(): Promise<
  { _id: string; expires: string; opts: Record<string, unknown> } | undefined
> {
  const response = await fetch(`${integratorUrl}/connectors/${catalogConnector.connectorId}/licenses`, {
    headers: { authorization: `Bearer ${vendorToken}` },
  });
  const all = (await response.json()) as {
    _id: string;
    expires: string;
    opts: Record<string, unknown>;
    user: { email: string };
  }[];
  return all.find((l) => l.user.email === email);
}

/** Waits for the license to settle after a step, then prints it. */
async function show(step: string, done: (l: Awaited<ReturnType<typeof license>>) => boolean) {
  const deadline = Date.now() + 30_000;
  let current = await license();
  while (!done(current) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    current = await license();
  }
  const subscriptionState = subscriptionId
    ? (await stripe.subscriptions.retrieve(subscriptionId)).status
    : "-";
  console.log(`\n▶ ${step}\n  Stripe subscription: ${subscriptionState}`);
  console.log(
    current
      ? `  license ${current._id}: expires ${current.expires}, opts ${JSON.stringify(current.opts)}`
      : "  no license",
  );
  if (!done(current)) console.log("  (not settled within 30 s)");
  return current;
}

let subscriptionId = "";
const integratorOrigin = new URL(integratorUrl).origin;
try {
  console.log(`Buyer ${email} buys ${catalogConnector.name} (standard edition, ${trialDays}-day trial).`);
  await control(integratorOrigin, "/_sim/users", { email });
  const clock = await stripe.testHelpers.testClocks.create({
    frozen_time: Math.floor(Date.now() / 1000),
    name: "demo",
  });
  const customer = await stripe.customers.create({ email, test_clock: clock.id });
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: "price_std_month", quantity: 1 }],
    subscription_data: { trial_period_days: trialDays, metadata: { integrator_email: email } },
    metadata: { integrator_email: email },
    success_url: "http://localhost:3000/thanks",
    cancel_url: "http://localhost:3000/cancel",
  });
  await control(stripeUrl, `/_sim/checkout/sessions/${session.id}/complete`, {});
  subscriptionId = String((await stripe.checkout.sessions.retrieve(session.id)).subscription);
  let shown = await show("Checkout completed: trial license", (l) => l !== undefined);

  const advance = async (to: number) => {
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: to });
  };
  const periodEnd = async () =>
    (await stripe.subscriptions.retrieve(subscriptionId)).items.data[0]?.current_period_end ?? 0;
  const trialEnd = (await stripe.subscriptions.retrieve(subscriptionId)).trial_end ?? 0;
  await advance(trialEnd + 60);
  shown = await show(
    "Trial ended, first payment: active",
    (l) => l !== undefined && l.expires !== shown?.expires,
  );

  await advance((await periodEnd()) + 60);
  shown = await show("A month later: renewed", (l) => l !== undefined && l.expires !== shown?.expires);

  await control(stripeUrl, `/_sim/customers/${customer.id}/payment`, { fails: true });
  await advance((await periodEnd()) + 60);
  shown = await show(
    "Renewal payment failed: past_due, access kept through the grace period",
    (l) => l !== undefined && l.expires !== shown?.expires,
  );

  await control(stripeUrl, `/_sim/customers/${customer.id}/payment`, { fails: false });
  await control(stripeUrl, `/_sim/subscriptions/${subscriptionId}/pay`, {});
  shown = await show("Customer paid: active again", (l) => l !== undefined && l.expires !== shown?.expires);

  const itemId = (await stripe.subscriptions.retrieve(subscriptionId)).items.data[0]?.id ?? "";
  await stripe.subscriptions.update(subscriptionId, {
    items: [
      { id: itemId, price: "price_prem_month" },
      { price: "price_store_month", quantity: 2 },
    ],
  });
  shown = await show(
    "Upgraded to premium with two store add-ons",
    (l) => l?.opts.connectorEdition === "premium" && Array.isArray(l.opts.addonLicenses),
  );

  await stripe.subscriptions.cancel(subscriptionId);
  await show("Canceled: license expired", (l) => l !== undefined && Date.parse(l.expires) <= Date.now());
} finally {
  await stop();
}
