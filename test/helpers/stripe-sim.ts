/**
 * Test harness for the Stripe simulator: a simulator on a free port, the official SDK pointed at
 * it, and a tiny webhook endpoint that verifies every delivery with `stripe.webhooks.constructEvent`.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import type { DeliveryAttempt } from "#local/sim/stripe/delivery.ts";
import { type StripeSimulator, startStripeSimulator } from "#local/sim/stripe/index.ts";

export interface Delivery {
  /** The body exactly as received. */
  raw: string;
  headers: IncomingHttpHeaders;
  /** The verified event, or undefined when verification failed (see `error`). */
  event: Stripe.Event | undefined;
  error: string | undefined;
  receivedAt: number;
}

export interface WebhookReceiver {
  url: string;
  deliveries: Delivery[];
  /** Verified events, in arrival order. */
  events(): Stripe.Event[];
  /** Sets the status code answered for each delivery (default 200). */
  respondWith(status: (delivery: Delivery, index: number) => number): void;
  stop(): Promise<void>;
}

/** A webhook endpoint on a free loopback port that verifies signatures with `secret`. */
export async function startWebhookReceiver(stripe: Stripe, secret: string): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  let respond: (delivery: Delivery, index: number) => number = () => 200;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const header = request.headers["stripe-signature"];
      let event: Stripe.Event | undefined;
      let error: string | undefined;
      try {
        event = stripe.webhooks.constructEvent(raw, typeof header === "string" ? header : "", secret);
      } catch (failure) {
        error = failure instanceof Error ? failure.message : String(failure);
      }
      const delivery: Delivery = { raw, headers: request.headers, event, error, receivedAt: Date.now() };
      deliveries.push(delivery);
      response.writeHead(respond(delivery, deliveries.length - 1), { "content-type": "application/json" });
      response.end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    deliveries,
    events: () => deliveries.flatMap((delivery) => (delivery.event === undefined ? [] : [delivery.event])),
    respondWith(status) {
      respond = status;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface SimHarness {
  sim: StripeSimulator;
  stripe: Stripe;
  receiver: WebhookReceiver;
  secret: string;
  /** Calls the control API; answers status and parsed JSON. */
  control(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** `GET /_sim/deliveries`: every delivery attempt, oldest first. */
  deliveryLog(): Promise<DeliveryAttempt[]>;
  /** Waits until every pending delivery is done. */
  flush(): Promise<void>;
  /** Verified events about one customer (its own and its subscriptions', invoices', sessions'), in arrival order. */
  eventsFor(customerId: string): Stripe.Event[];
  stop(): Promise<void>;
}

export function stripeFor(port: number, key = "sk_test_local"): Stripe {
  return new Stripe(key, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0 });
}

/** Starts a simulator that delivers to a fresh receiver, signed with `secret`. */
export async function startSimHarness(secret = "whsec_test_harness"): Promise<SimHarness> {
  const verifier = new Stripe("sk_test_verifier");
  const receiver = await startWebhookReceiver(verifier, secret);
  const sim = await startStripeSimulator({ quiet: true, webhookEndpoints: [{ url: receiver.url, secret }] });
  const stripe = stripeFor(sim.port);
  const control: SimHarness["control"] = async (method, path, body) => {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return {
    sim,
    stripe,
    receiver,
    secret,
    control,
    async deliveryLog() {
      const { body } = await control("GET", "/_sim/deliveries");
      return body.data as DeliveryAttempt[];
    },
    async flush() {
      const { status, body } = await control("POST", "/_sim/delivery/flush", { timeoutMs: 20_000 });
      if (status !== 200) throw new Error(`flush failed: ${status} ${JSON.stringify(body)}`);
    },
    eventsFor(customerId) {
      return receiver.events().filter((event) => {
        const object = event.data.object as unknown as { id?: string; object?: string; customer?: unknown };
        return object.object === "customer" ? object.id === customerId : object.customer === customerId;
      });
    },
    async stop() {
      await sim.stop();
      await receiver.stop();
    },
  };
}

/** Seeds a product and a monthly price with fixed ids through the control API. */
export async function seedPrice(
  harness: SimHarness,
  {
    product = "prod_test",
    price,
    unitAmount = 1000,
    interval = "month",
    lookupKey,
  }: {
    product?: string;
    price: string;
    unitAmount?: number;
    interval?: "day" | "week" | "month" | "year";
    lookupKey?: string;
  },
): Promise<void> {
  const created = await harness.control("POST", "/_sim/products", {
    id: product,
    name: `Product ${product}`,
  });
  if (created.status !== 200) throw new Error(JSON.stringify(created.body));
  const priced = await harness.control("POST", "/_sim/prices", {
    id: price,
    product,
    unit_amount: unitAmount,
    currency: "usd",
    recurring: { interval },
    ...(lookupKey === undefined ? {} : { lookup_key: lookupKey }),
  });
  if (priced.status !== 200) throw new Error(JSON.stringify(priced.body));
}
