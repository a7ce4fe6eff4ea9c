import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import { nextYear, type SimClient, simClient } from "#test/helpers/integrator-sim-client.ts";

// The control API (docs/architecture.md §7): users, seeded connectors, faults, stats and reset.
const VENDOR = "vendor-token-for-control-tests";
let sim: IntegratorSimulator;
let client: SimClient;

const vendor = (method: string, path: string, body?: unknown) => client.api(VENDOR, method, path, body);
const setFaults = (faults: object) => client.faults(faults);
const licensesOf = async (connectorId: string) =>
  (await vendor("GET", `/connectors/${connectorId}/licenses`)).body;

beforeAll(async () => {
  sim = await startIntegratorSimulator({ vendorToken: VENDOR, quiet: true });
  client = simClient(sim);
  expect(sim.url).toBe(`${sim.origin}/v1`);
  expect(sim.origin).toBe(`http://127.0.0.1:${sim.port}`);
  await client.control("POST", "/connectors", { _id: "faulty", name: "Faulty" });
});
afterAll(() => sim.stop());

describe("users", () => {
  it("creates an account with its own token (201), refuses a second one for the email (409)", async () => {
    const created = await client.control("POST", "/users", {
      email: "New.User@Example.com",
      name: "New User",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: "new.user@example.com" });
    expect(typeof created.body._id).toBe("string");
    expect(typeof created.body.token).toBe("string");
    expect((await client.api(created.body.token, "GET", "/tokenInfo")).body).toEqual({
      _userId: created.body._id,
    });

    const again = await client.control("POST", "/users", { email: "new.user@example.com" });
    expect(again.status).toBe(409);
    expect(again.body.errors[0]).toMatchObject({ code: "already_exists", field: "email" });
    expect((await client.control("POST", "/users", {})).body.errors[0]).toMatchObject({
      code: "missing_required_field",
      field: "email",
    });
    expect((await client.control("POST", "/users", { email: "not-an-email" })).status).toBe(422);
  });
});

describe("seeded connectors", () => {
  it("creates a connector with the given id (201), then merges fields into it (200)", async () => {
    const created = await client.control("POST", "/connectors", {
      _id: "seeded-1",
      name: "Seeded",
      published: true,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ _id: "seeded-1", name: "Seeded", published: true });
    const merged = await client.control("POST", "/connectors", {
      _id: "seeded-1",
      updateFunction: "updateFunction",
    });
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({
      _id: "seeded-1",
      name: "Seeded",
      published: true,
      updateFunction: "updateFunction",
    });
    expect((await vendor("GET", "/connectors/seeded-1")).body).toMatchObject({
      updateFunction: "updateFunction",
    });
    expect((await client.control("POST", "/connectors", { name: "no id" })).body.errors[0].field).toBe("_id");
    expect(
      (await client.control("POST", "/connectors", { _id: "x", _stackId: "missing" })).body.errors[0].code,
    ).toBe("invalid_ref");
  });

  it("answers unknown control routes 404", async () => {
    expect((await client.control("GET", "/nothing")).status).toBe(404);
  });
});

describe("faults", () => {
  it("errorRate: fails requests with the status given (default 500) without applying them", async () => {
    const user = await client.user("fault-error@example.com");
    expect(await setFaults({ errorRate: 1, status: 503 })).toEqual({
      errorRate: 1,
      status: 503,
      latencyMs: 0,
      dropResponseRate: 0,
      repeatStackCalls: false,
      lateCommitRate: 0,
      lateCommitMs: 2000,
    });
    const failed = await vendor("POST", "/connectors/faulty/licenses", {
      email: user.email,
      expires: nextYear(),
    });
    expect(failed.status).toBe(503);
    expect(typeof failed.body.errors[0].code).toBe("string");
    // The control API is never faulted.
    expect((await client.control("GET", "/stats")).status).toBe(200);

    await setFaults({ errorRate: 1 });
    expect((await vendor("GET", "/connectors/faulty")).status).toBe(500);

    await setFaults({});
    expect(
      (await licensesOf("faulty")).filter((l: { user: { email: string } }) => l.user.email === user.email),
    ).toEqual([]);
  });

  it("errorRate: a fraction of the requests fails", async () => {
    await setFaults({ errorRate: 0.5 });
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () => vendor("GET", "/tokenInfo").then((r) => r.status)),
    );
    await setFaults({});
    const failed = statuses.filter((s) => s === 500).length;
    expect(failed).toBeGreaterThan(50);
    expect(failed).toBeLessThan(150);
    expect(statuses.filter((s) => s !== 500 && s !== 200)).toEqual([]);
  });

  it("latencyMs: delays every answer", async () => {
    await setFaults({ latencyMs: 300 });
    const started = performance.now();
    const response = await vendor("GET", "/tokenInfo");
    const slow = performance.now() - started;
    await setFaults({});
    expect(response.status).toBe(200);
    expect(slow).toBeGreaterThanOrEqual(290);
    const quickStart = performance.now();
    await vendor("GET", "/tokenInfo");
    expect(performance.now() - quickStart).toBeLessThan(290);
  });

  it("dropResponseRate: applies the change but resets the connection", async () => {
    const user = await client.user("fault-drop@example.com");
    await setFaults({ dropResponseRate: 1 });
    const outcome = await vendor("POST", "/connectors/faulty/licenses", {
      email: user.email,
      expires: nextYear(),
    }).then(
      () => "answered",
      (error: unknown) => error,
    );
    await setFaults({});
    expect(outcome).toBeInstanceOf(TypeError); // fetch failed: the socket was reset
    const cause = (outcome as TypeError).cause as { code?: string; message?: string };
    expect(`${cause.code ?? ""} ${cause.message ?? ""}`).toMatch(
      /ECONNRESET|UND_ERR_SOCKET|other side closed/,
    );
    const created = (await licensesOf("faulty")).filter(
      (l: { user: { email: string } }) => l.user.email === user.email,
    );
    expect(created).toHaveLength(1);
  });

  it("rejects fault settings out of range", async () => {
    const response = await client.control("PUT", "/faults", { errorRate: 2 });
    expect(response.status).toBe(422);
    expect(response.body.errors[0].field).toBe("errorRate");
  });
});

describe("stats", () => {
  it("counts /v1 requests per METHOD and path template, and the licenses that exist", async () => {
    await client.control("POST", "/reset");
    const user = await client.user("counted@example.com");
    await vendor("GET", "/connectors/faulty/licenses");
    await vendor("GET", "/connectors/faulty/licenses?limit=5");
    await vendor("POST", "/connectors/faulty/licenses", {});
    await vendor("POST", "/connectors/faulty/licenses", { email: user.email, expires: nextYear() });
    await client.api(undefined, "GET", "/tokenInfo");
    await vendor("GET", "/nowhere");
    const stats = (await client.control("GET", "/stats")).body;
    expect(stats).toEqual({
      requests: 6,
      rateLimited: 0,
      licenses: 1,
      byRoute: {
        "GET /v1/connectors/:connectorId/licenses": { requests: 2, rateLimited: 0 },
        "POST /v1/connectors/:connectorId/licenses": { requests: 2, rateLimited: 0 },
        "GET /v1/tokenInfo": { requests: 1, rateLimited: 0 },
        "GET (unmatched)": { requests: 1, rateLimited: 0 },
      },
    });
  });
});

describe("reset", () => {
  it("clears users, licenses, integrations, faults and stats; keeps connectors, stacks, templates and the limit", async () => {
    const user = await client.user("reset-me@example.com");
    await client.control("POST", "/connectors", {
      _id: "kept",
      name: "Kept",
      installerFunction: "installerFunction",
    });
    const stack = await vendor("POST", "/stacks", {
      type: "server",
      server: { hostURI: "http://127.0.0.1:9", systemToken: "t" },
    });
    const template = await vendor("POST", "/templates", { name: "Kept template" });
    await vendor("POST", "/connectors/kept/licenses", { email: user.email, expires: nextYear() });
    const installed = await client.api(user.token, "POST", "/integrations/kept/install");
    expect(installed.status).toBe(201);
    await client.api(user.token, "PUT", "/state/k", { v: 1 });
    await client.control("PUT", "/rate-limit", { capacity: 3, refillPerSecond: 0.01 });
    await vendor("GET", "/tokenInfo");
    await vendor("GET", "/tokenInfo");
    await vendor("GET", "/tokenInfo");
    expect((await vendor("GET", "/tokenInfo")).status).toBe(429);
    await setFaults({ latencyMs: 5 });

    const reset = await client.control("POST", "/reset");
    expect(reset.status).toBe(204);

    expect((await client.control("GET", "/stats")).body).toEqual({
      requests: 0,
      rateLimited: 0,
      licenses: 0,
      byRoute: {},
    });
    expect((await client.control("GET", "/faults")).body).toEqual({
      errorRate: 0,
      status: 500,
      latencyMs: 0,
      dropResponseRate: 0,
      repeatStackCalls: false,
      lateCommitRate: 0,
      lateCommitMs: 2000,
    });
    expect((await client.control("GET", "/rate-limit")).body).toEqual({ capacity: 3, refillPerSecond: 0.01 });
    // The bucket is full again (3), and the user is gone (401).
    expect((await client.api(user.token, "GET", "/tokenInfo")).status).toBe(401);
    expect((await vendor("GET", "/connectors/kept")).body).toMatchObject({
      name: "Kept",
      installerFunction: "installerFunction",
    });
    expect((await vendor("GET", "/connectors/kept/licenses")).body).toEqual([]);
    expect((await vendor("GET", "/connectors/kept/installBase")).body).toEqual([]);
    expect((await vendor("GET", "/tokenInfo")).status).toBe(429);
    await client.control("PUT", "/rate-limit", { capacity: 1000, refillPerSecond: 300 });
    expect((await vendor("GET", `/stacks/${stack.body._id}`)).status).toBe(200);
    expect((await vendor("GET", `/templates/${template.body._id}`)).status).toBe(200);

    const again = await client.user("reset-me@example.com");
    expect(again._id).not.toBe(user._id);
    expect((await client.api(again.token, "GET", `/integrations/${installed.body._id}`)).status).toBe(404);
    expect((await client.api(again.token, "GET", "/state")).body).toEqual({ keys: [] });
  });
});
