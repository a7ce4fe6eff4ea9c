import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import { SimRuntime } from "#local/sim/integrator/runtime.ts";
import { createSimServer } from "#local/sim/integrator/server.ts";
import { type Body, nextYear, type SimClient, simClient } from "#test/helpers/integrator-sim-client.ts";

// The `lateCommitRate` fault: a license create's answer is lost (connection reset) before the
// license exists, and the license is committed `lateCommitMs` later.
const VENDOR = "vendor-token-for-late-commit-tests";
const CONNECTOR = "late";
const DELAY_MS = 300;
let sim: IntegratorSimulator;
let client: SimClient;

const vendor = (method: string, path: string, body?: unknown) => client.api(VENDOR, method, path, body);
const setFaults = (faults: object) => client.faults(faults);
const licensesFor = async (email: string): Promise<Body[]> => {
  const response = await vendor("GET", `/connectors/${CONNECTOR}/licenses`);
  expect(response.status).toBe(200);
  return response.body.filter((license: Body) => license.user.email === email);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the request ended with: the answer's status, or the error fetch rejected with. */
const outcomeOf = (request: Promise<{ status: number }>) =>
  request.then(
    (response) => response.status,
    (error: unknown) => error,
  );

function expectConnectionReset(outcome: unknown) {
  expect(outcome).toBeInstanceOf(TypeError); // fetch failed: the socket was reset
  const cause = (outcome as TypeError).cause as { code?: string; message?: string };
  expect(`${cause.code ?? ""} ${cause.message ?? ""}`).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed/);
}

beforeAll(async () => {
  sim = await startIntegratorSimulator({ port: 0, vendorToken: VENDOR, quiet: true });
  client = simClient(sim);
});
beforeEach(async () => {
  expect((await client.control("POST", "/reset")).status).toBe(204);
  await client.control("POST", "/connectors", { _id: CONNECTOR, name: "Late" });
});
afterAll(() => sim.stop());

describe("lateCommitRate", () => {
  it("defaults to off, with a 2 s delay", async () => {
    expect((await client.control("GET", "/faults")).body).toMatchObject({
      lateCommitRate: 0,
      lateCommitMs: 2000,
    });
    expect(await setFaults({ lateCommitRate: 0.25, lateCommitMs: 0 })).toMatchObject({
      lateCommitRate: 0.25,
      lateCommitMs: 0,
    });
  });

  it("resets the connection of a create, then commits the license lateCommitMs later", async () => {
    const user = await client.user("late@example.com");
    const expires = nextYear();
    await setFaults({ lateCommitRate: 1, lateCommitMs: DELAY_MS });
    const sent = Date.now();
    const outcome = await outcomeOf(
      vendor("POST", `/connectors/${CONNECTOR}/licenses`, {
        email: user.email,
        expires,
        opts: { edition: "premium" },
        sandbox: true,
      }),
    );
    expectConnectionReset(outcome);

    // Not there yet: neither listed nor counted.
    expect(await licensesFor(user.email)).toEqual([]);
    const before = (await client.control("GET", "/stats")).body;
    expect(before.licenses).toBe(0);
    expect(before.byRoute["POST /v1/connectors/:connectorId/licenses"]).toEqual({
      requests: 1,
      rateLimited: 0,
    });

    await vi.waitFor(async () => expect(await licensesFor(user.email)).toHaveLength(1), {
      timeout: 1500,
      interval: 50,
    });
    const [license] = await licensesFor(user.email);
    expect(license).toMatchObject({
      user: { email: user.email },
      expires,
      opts: { edition: "premium" },
      sandbox: true,
    });
    // `created` is the commit time, not the request's.
    expect(Date.parse(license.created)).toBeGreaterThanOrEqual(sent + DELAY_MS - 5);
    expect(license.lastModified).toBe(license.created);
    expect((await vendor("GET", `/connectors/${CONNECTOR}/licenses/${license._id}`)).status).toBe(200);
    expect((await client.control("GET", "/stats")).body.licenses).toBe(1);
  });

  it("with lateCommitMs 0, still resets the connection before the license exists", async () => {
    const user = await client.user("late-zero@example.com");
    await setFaults({ lateCommitRate: 1, lateCommitMs: 0 });
    const outcome = await outcomeOf(
      vendor("POST", `/connectors/${CONNECTOR}/licenses`, { email: user.email, expires: nextYear() }),
    );
    expectConnectionReset(outcome);
    await vi.waitFor(async () => expect(await licensesFor(user.email)).toHaveLength(1), {
      timeout: 1000,
      interval: 20,
    });
  });

  it("rate 0 creates and answers as usual", async () => {
    const user = await client.user("on-time@example.com");
    await setFaults({ lateCommitRate: 0, lateCommitMs: DELAY_MS });
    const created = await vendor("POST", `/connectors/${CONNECTOR}/licenses`, {
      email: user.email,
      expires: nextYear(),
    });
    expect(created.status).toBe(201);
    expect(await licensesFor(user.email)).toEqual([created.body]);
  });

  it("leaves every other request alone, and a refused create is answered", async () => {
    const user = await client.user("others@example.com");
    const created = await vendor("POST", `/connectors/${CONNECTOR}/licenses`, {
      email: user.email,
      expires: nextYear(),
    });
    await setFaults({ lateCommitRate: 1, lateCommitMs: DELAY_MS });
    expect((await vendor("GET", "/tokenInfo")).status).toBe(200);
    expect((await vendor("GET", `/connectors/${CONNECTOR}/licenses`)).status).toBe(200);
    const expires = nextYear();
    const replaced = await vendor("PUT", `/connectors/${CONNECTOR}/licenses/${created.body._id}`, {
      expires,
      opts: { seats: 2 },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ expires, opts: { seats: 2 } });
    // A create that fails has nothing to commit: its error is answered.
    const refused = await vendor("POST", `/connectors/${CONNECTOR}/licenses`, {
      email: "nobody@example.com",
      expires: nextYear(),
    });
    expect(refused.status).toBe(422);
    expect(refused.body.errors[0].code).toBe("invalid_user");
    expect((await vendor("POST", `/connectors/${CONNECTOR}/licenses`, {})).status).toBe(422);
  });

  it("POST /_sim/reset cancels a pending commit", async () => {
    const user = await client.user("cancelled@example.com");
    await setFaults({ lateCommitRate: 1, lateCommitMs: DELAY_MS });
    expectConnectionReset(
      await outcomeOf(
        vendor("POST", `/connectors/${CONNECTOR}/licenses`, { email: user.email, expires: nextYear() }),
      ),
    );
    expect((await client.control("POST", "/reset")).status).toBe(204);
    // The same email gets an account again: a commit that survived the reset would show.
    await client.user(user.email);
    await sleep(DELAY_MS + 200);
    expect(await licensesFor(user.email)).toEqual([]);
    expect((await client.control("GET", "/stats")).body.licenses).toBe(0);
  });

  it("commits nothing for a connector deleted meanwhile", async () => {
    const user = await client.user("orphan@example.com");
    await setFaults({ lateCommitRate: 1, lateCommitMs: DELAY_MS });
    expectConnectionReset(
      await outcomeOf(
        vendor("POST", `/connectors/${CONNECTOR}/licenses`, { email: user.email, expires: nextYear() }),
      ),
    );
    expect((await vendor("DELETE", `/connectors/${CONNECTOR}`)).status).toBe(204);
    await sleep(DELAY_MS + 200);
    expect((await client.control("GET", "/stats")).body.licenses).toBe(0);
  });

  it.each([
    ["lateCommitRate", -0.1],
    ["lateCommitRate", 1.5],
    ["lateCommitRate", "1"],
    ["lateCommitMs", -1],
    ["lateCommitMs", 1.5],
    ["lateCommitMs", 600_001],
    ["lateCommitMs", "300"],
  ])("refuses %s = %j, naming the field", async (field, value) => {
    const response = await client.control("PUT", "/faults", { [field]: value });
    expect(response.status).toBe(422);
    expect(response.body.errors[0]).toMatchObject({ code: "invalid_field", field });
    expect((await client.control("GET", "/faults")).body.lateCommitRate).toBe(0);
  });

  it("accepts the bounds", async () => {
    expect(await setFaults({ lateCommitRate: 1, lateCommitMs: 600_000 })).toMatchObject({
      lateCommitRate: 1,
      lateCommitMs: 600_000,
    });
    await setFaults({});
  });
});

describe("closing the server", () => {
  it("cancels the pending commits, so no timer outlives it", async () => {
    const lifetime = new AbortController();
    const runtime = new SimRuntime(
      VENDOR,
      { capacity: 1000, refillPerSecond: 300 },
      undefined,
      lifetime.signal,
    );
    let origin = "";
    const server = createSimServer(runtime, { origin: () => origin, quiet: true });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const own = simClient({ origin, url: `${origin}/v1`, port: 0, stop: async () => {} });
    const user = await own.user("closing@example.com");
    await own.control("POST", "/connectors", { _id: CONNECTOR, name: "Late" });
    await own.control("PUT", "/faults", { lateCommitRate: 1, lateCommitMs: 60_000 });
    expectConnectionReset(
      await outcomeOf(
        own.api(VENDOR, "POST", `/connectors/${CONNECTOR}/licenses`, {
          email: user.email,
          expires: nextYear(),
        }),
      ),
    );
    expect(runtime.lateCommits.pending).toBe(1);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    expect(runtime.lateCommits.pending).toBe(0);
    expect(runtime.store.licenseCount()).toBe(0);
    lifetime.abort();
  });
});
