/**
 * `npm run bench -- provision [--subscriptions N] [--capacity C] [--refill R] [--workers W]`
 *
 * N subscriptions (default 2000) end to end through the local stack — Stripe simulator → signed
 * webhook → inbox → FIFO queue → worker → the shared throttled client → a license in the
 * integrator.io simulator — with the simulator's limit lowered (default 100 / 50 per s, and our
 * limiter told the same) so the limiter, not the machine, is measured.
 * floor = (N − capacity) / refill: one integrator.io call per new license; ratio = wall / floor.
 * Target: ratio ≤ 1.25. Customers and their integrator.io accounts are made before the clock
 * starts. Writes bench/results/provision.json.
 */
import { parseArgs } from "node:util";
import Stripe from "stripe";
import { startLocalStack } from "#local/stack.ts";
import { printTable, round, writeResult } from "./lib/stats.ts";

async function control(origin: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<Record<string, unknown>>;
}

/** Runs `task` over `items` with at most `width` in flight. */
async function pool<T>(items: T[], width: number, task: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      subscriptions: { type: "string", default: "2000" },
      capacity: { type: "string", default: "100" },
      refill: { type: "string", default: "50" },
      workers: { type: "string", default: "4" },
    },
  });
  const n = Number(values.subscriptions);
  const capacity = Number(values.capacity);
  const refill = Number(values.refill);
  // As `npm start` runs the stack: no metric lines on stdout (in-process handlers and workers alike).
  process.env.POWERTOOLS_METRICS_DISABLED = "true";
  const stack = await startLocalStack(
    {
      PORT: "0",
      INTEGRATOR_API_URL: "http://127.0.0.1:0/v1",
      STRIPE_API_URL: "http://127.0.0.1:0",
      INTEGRATOR_RATE_CAPACITY: String(capacity),
      INTEGRATOR_RATE_REFILL_PER_SECOND: String(refill),
      LOG_LEVEL: "ERROR",
      POWERTOOLS_METRICS_DISABLED: "true",
    },
    { workerConcurrency: Number(values.workers), visibilityTimeoutSeconds: 60, pollWaitSeconds: 1 },
  );
  try {
    const integratorOrigin = new URL(stack.urls.integrator).origin;
    await control(integratorOrigin, "PUT", "/_sim/rate-limit", { capacity, refillPerSecond: refill });
    const stripeUrl = new URL(stack.urls.stripe);
    const stripe = new Stripe("sk_test_local", {
      host: stripeUrl.hostname,
      port: Number(stripeUrl.port),
      protocol: "http",
      maxNetworkRetries: 3,
    });
    // Done means the licenses exist in integrator.io: counted by the simulator, not by our store.
    const countLicenses = async () =>
      ((await control(integratorOrigin, "GET", "/_sim/stats")) as { licenses: number }).licenses;

    console.log(`preparing ${n} buyers (integrator.io accounts and Stripe customers)…`);
    const run = Date.now().toString(36);
    const customers: string[] = [];
    await pool(
      Array.from({ length: n }, (_, i) => i),
      16,
      async (i) => {
        const email = `bench-${run}-${i}@example.com`;
        await control(integratorOrigin, "POST", "/_sim/users", { email });
        customers.push((await stripe.customers.create({ email })).id);
      },
    );
    // Let the customer events drain and the buckets fill before the clock starts.
    await control(stack.urls.stripe, "POST", "/_sim/delivery/flush", { timeoutMs: 120_000 });
    await new Promise((r) => setTimeout(r, 5000 + (capacity / refill) * 1000));
    await control(integratorOrigin, "PUT", "/_sim/rate-limit", { capacity, refillPerSecond: refill });
    const before = (await control(integratorOrigin, "GET", "/_sim/stats")) as {
      rateLimited: number;
      requests: number;
    };

    console.log(`subscribing ${n} customers…`);
    const started = Date.now();
    let created = 0;
    const subscribing = pool(customers, 16, async (customer) => {
      await stripe.subscriptions.create({ customer, items: [{ price: "price_std_month" }] });
      created++;
    });
    let lastLog = started;
    let done = 0;
    const deadline = started + Math.max(120_000, ((n - capacity) / refill) * 3000);
    while (done < n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      done = await countLicenses();
      if (Date.now() - lastLog >= 5000) {
        lastLog = Date.now();
        const at = ((lastLog - started) / 1000).toFixed(0);
        console.log(`  ${at} s: ${created} subscribed, ${done} licensed`);
      }
    }
    await subscribing;
    const seconds = (Date.now() - started) / 1000;
    const floorSeconds = Math.max(0, n - capacity) / refill;
    const stats = (await control(integratorOrigin, "GET", "/_sim/stats")) as {
      rateLimited: number;
      requests: number;
    };
    const result = {
      subscriptions: n,
      licensed: done,
      capacity,
      refillPerSecond: refill,
      seconds: round(seconds),
      floorSeconds: round(floorSeconds),
      ratio: round(seconds / floorSeconds, 3),
      integratorRequests: stats.requests - before.requests,
      rateLimited: stats.rateLimited - before.rateLimited,
      target: 1.25,
    };
    printTable([
      {
        subscriptions: n,
        licensed: done,
        seconds: result.seconds,
        floorSeconds: result.floorSeconds,
        ratio: result.ratio,
        "429s": result.rateLimited,
      },
    ]);
    console.log(`target ratio ≤ 1.25: ${done === n && result.ratio <= 1.25 ? "met" : "MISSED"}`);
    console.log(`wrote ${writeResult("provision", result)}`);
  } finally {
    await stack.stop();
  }
}
