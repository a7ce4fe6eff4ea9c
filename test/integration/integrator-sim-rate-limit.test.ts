import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import { type SimClient, simClient } from "#test/helpers/integrator-sim-client.ts";

// The per-account bucket of docs/architecture.md §3: capacity, continuous refill, 429 + Retry-After.
const VENDOR = "vendor-token-for-rate-limit-tests";
let sim: IntegratorSimulator;
let client: SimClient;

const vendorGet = () => client.api(VENDOR, "GET", "/tokenInfo");
const setLimit = async (capacity: number, refillPerSecond: number) => {
  const response = await client.control("PUT", "/rate-limit", { capacity, refillPerSecond });
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ capacity, refillPerSecond });
};

/** Sends `n` requests at once and counts the answers by status. */
async function burst(n: number, send: () => Promise<{ status: number }>) {
  const statuses = await Promise.all(Array.from({ length: n }, () => send().then((r) => r.status)));
  return { ok: statuses.filter((s) => s === 200).length, limited: statuses.filter((s) => s === 429).length };
}

beforeAll(async () => {
  sim = await startIntegratorSimulator({ vendorToken: VENDOR, quiet: true });
  client = simClient(sim);
});
afterAll(() => sim.stop());

describe("the per-account bucket", () => {
  it("starts full at the configured capacity (1000 by default), then refuses", async () => {
    expect((await client.control("GET", "/rate-limit")).body).toEqual({
      capacity: 1000,
      refillPerSecond: 300,
    });
    await setLimit(5, 0.01);
    expect(await burst(8, vendorGet)).toEqual({ ok: 5, limited: 3 });
    // A new setting fills the bucket again.
    await setLimit(5, 0.01);
    expect(await burst(6, vendorGet)).toEqual({ ok: 5, limited: 1 });
  });

  it("never admits more than capacity + refill × t while saturated, and refills continuously", async () => {
    const capacity = 20;
    const refill = 50;
    const start = performance.now();
    await setLimit(capacity, refill);
    const admittedAt: number[] = [];
    let limited = 0;
    const runFor = 1200;
    const worker = async () => {
      while (performance.now() - start < runFor) {
        const response = await vendorGet();
        if (response.status === 200) admittedAt.push((performance.now() - start) / 1000);
        else if (response.status === 429) limited += 1;
        else throw new Error(`unexpected ${response.status}`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    const elapsed = (performance.now() - start) / 1000;
    // By the time the k-th success was received, the server had admitted at least k.
    admittedAt.sort((a, b) => a - b);
    admittedAt.forEach((t, index) => {
      expect(index + 1).toBeLessThanOrEqual(capacity + refill * t + 1e-9);
    });
    expect(limited).toBeGreaterThan(0);
    // Saturated for ~1.2 s, the refill must have admitted well past the initial capacity.
    expect(admittedAt.length).toBeGreaterThanOrEqual(capacity + refill * (elapsed - 0.4));
    expect(admittedAt.length).toBeLessThanOrEqual(capacity + refill * elapsed);
  });

  it("answers 429 rate_limited with Retry-After in whole seconds, rounded up", async () => {
    await setLimit(1, 0.25);
    expect((await vendorGet()).status).toBe(200);
    const refused = await vendorGet();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("4");
    expect(refused.body.errors[0].code).toBe("rate_limited");
    expect(typeof refused.body.errors[0].message).toBe("string");

    // A fast refill still rounds up to a whole second (slow enough that no token comes back
    // between the burst and the next request on a loaded machine).
    await setLimit(2, 1.5);
    await burst(2, vendorGet);
    const fast = await vendorGet();
    expect(fast.status).toBe(429);
    expect(fast.headers.get("retry-after")).toBe("1");
  });

  it("admits again once Retry-After has passed", async () => {
    await setLimit(1, 2);
    expect((await vendorGet()).status).toBe(200);
    const refused = await vendorGet();
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get("retry-after"));
    expect(wait).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    expect((await vendorGet()).status).toBe(200);
  });

  it("keeps a separate bucket per account: the vendor and each user", async () => {
    const user = await client.user("limited@example.com");
    const other = await client.user("other@example.com");
    await setLimit(3, 0.01);
    expect(await burst(5, vendorGet)).toEqual({ ok: 3, limited: 2 });
    const userGet = () => client.api(user.token, "GET", "/tokenInfo");
    expect(await burst(4, userGet)).toEqual({ ok: 3, limited: 1 });
    expect((await client.api(other.token, "GET", "/tokenInfo")).status).toBe(200);
  });

  it("counts rate-limited requests in the stats, per route", async () => {
    await client.control("POST", "/reset");
    await setLimit(2, 0.01);
    await burst(5, vendorGet);
    await client.api(VENDOR, "GET", "/connectors");
    const stats = (await client.control("GET", "/stats")).body;
    expect(stats.requests).toBe(6);
    expect(stats.rateLimited).toBe(4);
    expect(stats.byRoute["GET /v1/tokenInfo"]).toEqual({ requests: 5, rateLimited: 3 });
    expect(stats.byRoute["GET /v1/connectors"]).toEqual({ requests: 1, rateLimited: 1 });
  });

  it("validates the control API's settings", async () => {
    const bad = await client.control("PUT", "/rate-limit", { capacity: 0 });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].field).toBe("capacity");
  });
});
