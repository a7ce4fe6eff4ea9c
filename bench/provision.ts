/**
 * `npm run bench -- provision [--subscriptions N] [--capacity C] [--refill R] [--workers W]
 *   [--deliveries D] [--cpu-prof DIR]`
 *
 * N subscriptions (default 2000; the issue's figure is `--subscriptions 5000`) end to end through
 * the local stack — Stripe simulator → signed webhook → inbox → FIFO queue → worker → the shared
 * throttled client → a license in the integrator.io simulator — with the simulator's limit
 * lowered (default 100 / 50 per s, and our limiter told the same) so the limiter, not the machine,
 * is measured. W worker processes (default 4) take batches of 10; the Stripe simulator delivers
 * up to D webhooks at once (default 8, the simulator's own; on 2 busy CPUs 64 in flight was no
 * faster: webhook intake then takes the CPU the worker path needs).
 * floor = (N − capacity) / refill: one integrator.io call per new license; ratio = wall / floor.
 * Target: ratio ≤ 1.15 with 0 429s. Customers and their integrator.io accounts are made before
 * the clock starts. Writes bench/results/provision.json.
 *
 * Beside the ratio, counted over the clock's window and then until the run's last events are
 * processed (its deliveries flushed and the worker quiet for 3 s):
 * - `eventsProcessed`: queue records the worker processes handled successfully (each Stripe event
 *   once; a record retried after a failure counts once, when it succeeds).
 * - `dynamodbCallsPerEvent`: every DynamoDB call of the stack in that window — the in-process
 *   functions (`api`: here the Stripe webhook; the scheduled jobs' 15-minute timer does not fire),
 *   the worker processes (`worker`) and, out of either, those on the shared rate-limit item
 *   (`limiter`) — divided by `eventsProcessed`, in total and per caller and operation. Counted at
 *   the SDK clients' `send` (local/dynamodb-calls.ts): a retry inside the SDK is not counted
 *   again; the bench's own setup calls (table creation) fall outside the window.
 * - `workerCpuMsPerLicense`: user + system CPU of the worker processes (`process.cpuUsage()`),
 *   from each process's ready (module loading, which is tsx compiling TypeScript locally, is left
 *   out) to its last batch, divided by the licenses created. The other processes' CPU (this one:
 *   the webhook, both simulators, the SQS emulator; DynamoDB Local's JVM) is not in it.
 * - `loadAverage`: the machine's 1/5/15-minute load at the end (it is shared: read the ratio with it).
 * `--cpu-prof DIR` has each worker process write a V8 CPU profile there when it exits.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import Stripe from "stripe";
import type { DynamoDbCallCounts } from "#local/dynamodb-calls.ts";
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

/**
 * DynamoDB requests made between two snapshots of the stack's counts, per event processed: the
 * total, and per caller and operation.
 */
function callsPerEvent(before: DynamoDbCallCounts, after: DynamoDbCallCounts, events: number) {
  const byCaller: Record<string, Record<string, number>> = {};
  let total = 0;
  for (const [caller, ops] of Object.entries(after)) {
    for (const [operation, count] of Object.entries(ops)) {
      const made = count - (before[caller]?.[operation] ?? 0);
      if (made === 0) continue;
      total += made;
      const byOperation = byCaller[caller] ?? {};
      byOperation[operation] = round(made / Math.max(1, events), 3);
      byCaller[caller] = byOperation;
    }
  }
  return { total: round(total / Math.max(1, events), 3), byCaller };
}

/** Waits until `value()` has not changed for `quietMs` (or `timeoutMs` passed). */
async function drained(value: () => number, quietMs: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = value();
  let since = Date.now();
  while (Date.now() < deadline && Date.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 250));
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
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
      // Concurrent webhook deliveries of the Stripe simulator (its default: 8).
      deliveries: { type: "string", default: "8" },
      // A directory: each worker process writes a V8 CPU profile there when it exits.
      "cpu-prof": { type: "string" },
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
    {
      workerConcurrency: Number(values.workers),
      visibilityTimeoutSeconds: 60,
      pollWaitSeconds: 1,
      countDynamoDbCalls: true,
      ...(values["cpu-prof"]
        ? { workerNodeOptions: ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] }
        : {}),
    },
  );
  const usage = () => ({
    ...(stack.poller?.usage() ?? { records: 0, workerCpuMs: 0 }),
    dynamodb: stack.dynamoDbCalls() ?? {},
  });
  try {
    const integratorOrigin = new URL(stack.urls.integrator).origin;
    await control(integratorOrigin, "PUT", "/_sim/rate-limit", { capacity, refillPerSecond: refill });
    await control(stack.urls.stripe, "PUT", "/_sim/delivery", { maxInFlight: Number(values.deliveries) });
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
    const usageBefore = usage();
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
    // Events the worker finished in the window may still be in flight after the last license: let
    // them land (the events of these subscriptions, and nothing else, are in the queue).
    const flushed = (
      await fetch(`${stack.urls.stripe}/_sim/delivery/flush`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ timeoutMs: 60_000 }),
      })
    ).ok;
    await drained(() => usage().records, 3000, 60_000);
    const usageAfter = usage();
    const events = usageAfter.records - usageBefore.records;
    const calls = callsPerEvent(usageBefore.dynamodb, usageAfter.dynamodb, events);
    const workerCpuMsPerLicense = round(
      (usageAfter.workerCpuMs - usageBefore.workerCpuMs) / Math.max(1, done),
      3,
    );
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
      eventsProcessed: events,
      deliveriesDrained: flushed,
      dynamodbCallsPerEvent: calls,
      workerCpuMsPerLicense,
      loadAverage: loadavg().map((l) => round(l)),
      target: { ratio: 1.15, rateLimited: 0 },
    };
    printTable([
      {
        subscriptions: n,
        licensed: done,
        seconds: result.seconds,
        floorSeconds: result.floorSeconds,
        ratio: result.ratio,
        "429s": result.rateLimited,
        events,
        "ddb/event": calls.total,
        "cpuMs/license": workerCpuMsPerLicense,
      },
    ]);
    console.log("DynamoDB calls per event, by caller and operation:");
    printTable(
      Object.entries(calls.byCaller).flatMap(([caller, ops]) =>
        Object.entries(ops).map(([operation, perEvent]) => ({ caller, operation, perEvent })),
      ),
    );
    console.log(`load average (1, 5, 15 min): ${result.loadAverage.join(", ")}`);
    const met = done === n && result.ratio <= 1.15 && result.rateLimited === 0;
    console.log(`target ratio ≤ 1.15 with 0 429s: ${met ? "met" : "MISSED"}`);
    console.log(`wrote ${writeResult("provision", result)}`);
  } finally {
    await stack.stop();
  }
}
