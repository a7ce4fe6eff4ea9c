import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createIntegratorClient,
  INTEGRATOR_BASE_URLS,
  type IntegratorClientOptions,
  integratorBaseUrl,
} from "#lib/integrator/client.ts";
import {
  IntegratorError,
  IntegratorNetworkError,
  IntegratorResponseError,
  IntegratorTimeoutError,
  OutcomeUnknownError,
  RateLimitedError,
} from "#lib/integrator/errors.ts";
import type { RateLimitedEvent, RetryEvent } from "#lib/integrator/http.ts";
import type { Limiter } from "#lib/integrator/limiter.ts";
import { createTokenBucket } from "#lib/integrator/token-bucket.ts";
import { freePort } from "#local/net.ts";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";

const VENDOR_TOKEN = "client-test-vendor-token";
let sim: IntegratorSimulator;

interface SimStats {
  requests: number;
  rateLimited: number;
  byRoute: Record<string, { requests: number; rateLimited: number }>;
}

async function control<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(new URL(path, sim.origin), {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

const stats = () => control<SimStats>("GET", "/_sim/stats");
const routeRequests = async (route: string) => (await stats()).byRoute[route]?.requests ?? 0;
const user = (email: string) =>
  control<{ _id: string; email: string; token: string }>("POST", "/_sim/users", { email });
const inAYear = () => new Date(Date.now() + 365 * 86_400_000).toISOString();

interface Sent {
  method: string;
  url: string;
  at: number;
  headers: Headers;
}

/** A client on the simulator; `sent` records every request at the edge of the process. */
function testClient(overrides: Partial<IntegratorClientOptions> = {}) {
  const sent: Sent[] = [];
  const retries: RetryEvent[] = [];
  const rateLimited: RateLimitedEvent[] = [];
  const client = createIntegratorClient({
    baseUrl: sim.url,
    token: VENDOR_TOKEN,
    limiter: createTokenBucket({ capacity: 1000, refillPerSecond: 300 }),
    lane: "background",
    retry: { baseDelayMs: 10, maxDelayMs: 40, maxAttempts: 3 },
    hooks: {
      onRetry: (event) => void retries.push(event),
      onRateLimited: (event) => void rateLimited.push(event),
    },
    fetch: (input, init) => {
      sent.push({
        method: init?.method ?? "GET",
        url: String(input),
        at: Date.now(),
        headers: new Headers(init?.headers),
      });
      return fetch(input, init);
    },
    ...overrides,
  });
  return { client, sent, retries, rateLimited };
}

/** A connector (vendor API) and a user with a license of it. */
async function connectorWithLicense(email = "buyer@example.com") {
  const { client } = testClient();
  const connector = await client.connectors.create({ name: "Shop ↔ ERP", published: true });
  const account = await user(email);
  const license = await client.licenses.create(connector._id, {
    email,
    expires: inAYear(),
    opts: { connectorEdition: "standard" },
  });
  return { connector, account, license };
}

beforeAll(async () => {
  sim = await startIntegratorSimulator({ port: 0, vendorToken: VENDOR_TOKEN, quiet: true });
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(async () => {
  await control("POST", "/_sim/reset");
  await control("PUT", "/_sim/faults", {});
  await control("PUT", "/_sim/rate-limit", { capacity: 1000, refillPerSecond: 300 });
});

describe("resources", () => {
  it("tokenInfo names the token's user, and the regional base URLs are integrator.io's", async () => {
    const { client } = testClient();
    expect((await client.tokenInfo())._userId).toEqual(expect.any(String));
    expect(integratorBaseUrl("us")).toBe("https://api.integrator.io/v1");
    expect(integratorBaseUrl("eu")).toBe(INTEGRATOR_BASE_URLS.eu);
    expect(INTEGRATOR_BASE_URLS.eu).toBe("https://api.eu.integrator.io/v1");
  });

  it("connectors: create, get, update, list, installBase, pushUpdate, delete", async () => {
    const { client } = testClient();
    const created = await client.connectors.create({
      name: "Shop ↔ ERP",
      trialEnabled: true,
      custom: { kept: 1 },
    });
    expect(created).toMatchObject({ name: "Shop ↔ ERP", trialEnabled: true, custom: { kept: 1 } });
    expect((await client.connectors.get(created._id)).name).toBe("Shop ↔ ERP");
    const updated = await client.connectors.update(created._id, { name: "Shop ↔ ERP 2", version: "2.0.0" });
    expect(updated.name).toBe("Shop ↔ ERP 2");
    const listed: string[] = [];
    for await (const connector of client.connectors.list()) listed.push(connector._id);
    expect(listed).toContain(created._id);

    const email = "installer@example.com";
    const account = await user(email);
    await client.licenses.create(created._id, { email, expires: inAYear() });
    const integration = await client.forToken(account.token).integrations.install(created._id);
    const installBase = [];
    for await (const entry of client.connectors.installBase(created._id)) installBase.push(entry);
    expect(installBase).toEqual([expect.objectContaining({ _integrationId: integration._id })]);
    expect(await client.connectors.pushUpdate(created._id, [integration._id])).toEqual({
      _integrationIds: [integration._id],
    });
    expect((await client.forToken(account.token).integrations.get(integration._id)).version).toBe("2.0.0");

    await client.connectors.delete(created._id);
    const missing = await client.connectors.get(created._id).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(IntegratorError);
    expect(missing).toMatchObject({ status: 404, method: "GET", path: `/v1/connectors/${created._id}` });
  });

  it("licenses: create, get, update, list, delete; invalid_user is a 422 with its code", async () => {
    const { client } = testClient();
    const { connector, license } = await connectorWithLicense();
    expect(license).toMatchObject({
      user: { email: "buyer@example.com" },
      opts: { connectorEdition: "standard" },
    });
    expect((await client.licenses.get(connector._id, license._id))._id).toBe(license._id);
    const expires = inAYear();
    const updated = await client.licenses.update(connector._id, license._id, {
      expires,
      opts: {
        connectorEdition: "premium",
        addonLicenses: [{ type: "store", licenses: [{ addOnEdition: "standard" }] }],
      },
    });
    expect(updated.opts?.connectorEdition).toBe("premium");
    expect(Date.parse(updated.expires ?? "")).toBe(Date.parse(expires));

    const unknown = await client.licenses
      .create(connector._id, { email: "nobody@example.com", expires })
      .catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(IntegratorError);
    expect(unknown).toMatchObject({ status: 422, codes: ["invalid_user"] });
    expect((unknown as IntegratorError).hasCode("invalid_user")).toBe(true);

    await client.licenses.delete(connector._id, license._id);
    const remaining = [];
    for await (const item of client.licenses.list(connector._id)) remaining.push(item);
    expect(remaining).toEqual([]);
  });

  it("lists follow Link rel=next across pages", async () => {
    const { client } = testClient();
    const connector = await client.connectors.create({ name: "Many licenses" });
    const emails = Array.from({ length: 120 }, (_, i) => `user${i}@example.com`);
    for (const email of emails) await user(email);
    await Promise.all(
      emails.map((email) => client.licenses.create(connector._id, { email, expires: inAYear() })),
    );
    const before = await routeRequests("GET /v1/connectors/:connectorId/licenses");
    const seen: string[] = [];
    for await (const license of client.licenses.list(connector._id, { query: { limit: 50 } })) {
      seen.push(license.user?.email ?? "");
    }
    expect(seen.sort()).toEqual([...emails].sort());
    expect((await routeRequests("GET /v1/connectors/:connectorId/licenses")) - before).toBe(3);
  });

  it("templates: flat list, create, get, update, delete", async () => {
    const { client } = testClient();
    const template = await client.templates.create({ name: "Orders flow", applications: ["shopify"] });
    expect(template.published).toBe(false);
    const updated = await client.templates.update(template._id, {
      name: "Orders flow v2",
      applications: ["shopify"],
    });
    expect(updated.name).toBe("Orders flow v2");
    expect((await client.templates.get(template._id)).applications).toEqual(["shopify"]);
    expect((await client.templates.list()).map((t) => t._id)).toEqual([template._id]);
    await client.templates.delete(template._id);
    expect(await client.templates.list()).toEqual([]);
  });

  it("integrations: CRUD, install with a user's token, install steps, settings, uninstall", async () => {
    const { client } = testClient();
    const plain = await client.integrations.create({ name: "Hand-made" });
    expect((await client.integrations.update(plain._id, { name: "Renamed" })).name).toBe("Renamed");
    const all = [];
    for await (const integration of client.integrations.list()) all.push(integration._id);
    expect(all).toContain(plain._id);
    await client.integrations.delete(plain._id);

    const { connector, account } = await connectorWithLicense();
    const asUser = client.forToken(account.token);
    const installed = await asUser.integrations.install(connector._id);
    expect((await asUser.integrations.get(installed._id)).mode).toBe("settings");
    expect(installed).toMatchObject({ _connectorId: connector._id });
    // No stack, so no install steps: naming one is the caller's mistake (422, not retried).
    const step = await asUser.integrations
      .installStep(installed._id, "installConnection", {})
      .catch((e: unknown) => e);
    expect(step).toMatchObject({ status: 422, codes: ["invalid_field"] });
    expect(
      await asUser.integrations.settings(installed._id, "persistSettings", { storeName: "EU" }),
    ).toMatchObject({
      success: true,
    });
    expect((await asUser.integrations.get(installed._id)).settings).toMatchObject({ storeName: "EU" });
    await asUser.integrations.uninstall(installed._id);
    await expect(asUser.integrations.get(installed._id)).rejects.toMatchObject({ status: 404 });
  });

  it("stacks, state and the plain resources", async () => {
    const { client } = testClient();
    const stack = await client.stacks.create({
      name: "Vendor stack",
      type: "server",
      server: { hostURI: "http://127.0.0.1:1/integrator", systemToken: "s3cret" },
    });
    expect((await client.stacks.get(stack._id)).server?.hostURI).toBe("http://127.0.0.1:1/integrator");
    expect(
      (
        await client.stacks.update(stack._id, {
          name: "Renamed",
          type: "server",
          server: { hostURI: "http://127.0.0.1:2/x" },
        })
      ).name,
    ).toBe("Renamed");
    const stacks = [];
    for await (const item of client.stacks.list()) stacks.push(item._id);
    expect(stacks).toEqual([stack._id]);
    await client.stacks.delete(stack._id);

    await client.state.put("cursor/orders", { since: "2026-01-01", page: 3 });
    expect(await client.state.get("cursor/orders")).toEqual({ since: "2026-01-01", page: 3 });
    expect(await client.state.keys()).toEqual(["cursor/orders"]);
    await client.state.delete("cursor/orders");
    await expect(client.state.get("cursor/orders")).rejects.toMatchObject({ status: 404 });

    for (const api of [client.iClients, client.connections, client.exports, client.imports, client.flows]) {
      const created = await api.create({ name: "thing", nested: { a: [1, 2] } });
      expect(created).toMatchObject({
        name: "thing",
        nested: { a: [1, 2] },
        lastModified: expect.any(String),
      });
      expect((await api.update(created._id, { name: "other" })).name).toBe("other");
      expect((await api.get(created._id)).name).toBe("other");
      const ids = [];
      for await (const item of api.list()) ids.push(item._id);
      expect(ids).toEqual([created._id]);
      await api.delete(created._id);
      await expect(api.get(created._id)).rejects.toMatchObject({ status: 404 });
    }
  });

  it("jobs: list with filters, get", async () => {
    const { client } = testClient();
    const done = await control<{ _id: string }>("POST", "/_sim/jobs", {
      type: "flow",
      status: "completed",
      _flowId: "f1",
    });
    await control("POST", "/_sim/jobs", { type: "flow", status: "failed", _flowId: "f1" });
    const completed = [];
    for await (const job of client.jobs.list({ status: "completed", _flowId: "f1" })) completed.push(job);
    expect(completed.map((job) => job._id)).toEqual([done._id]);
    expect((await client.jobs.get(done._id)).status).toBe("completed");
  });

  it("sends the NetSuite proxy headers when asked, and forToken shares the limiter", async () => {
    let acquired = 0;
    const bucket = createTokenBucket({ capacity: 1000, refillPerSecond: 300 });
    const limiter: Limiter = {
      acquire: (lane, signal) => {
        acquired += 1;
        return bucket.acquire(lane, signal);
      },
      pauseUntil: (epochMs) => bucket.pauseUntil(epochMs),
    };
    const { client, sent } = testClient({ limiter });
    await client.tokenInfo({ netSuite: { scriptId: "customscript_celigo", deployId: "customdeploy_1" } });
    expect(sent[0]?.headers.get("Integrator-NetSuite-ScriptId")).toBe("customscript_celigo");
    expect(sent[0]?.headers.get("Integrator-NetSuite-DeployId")).toBe("customdeploy_1");
    expect(sent[0]?.headers.get("authorization")).toBe(`Bearer ${VENDOR_TOKEN}`);

    const account = await user("someone@example.com");
    const asUser = client.forToken(account.token);
    expect((await asUser.tokenInfo())._userId).toBe(account._id);
    expect(sent[1]?.headers.get("authorization")).toBe(`Bearer ${account.token}`);
    expect(sent[1]?.headers.get("Integrator-NetSuite-ScriptId")).toBeNull();
    expect(acquired).toBe(2);
  });
});

describe("retries and failures", () => {
  it("a 429 waits out Retry-After, pauses every caller of the limiter, then succeeds (POST included)", async () => {
    const { connector } = await connectorWithLicense();
    await user("second@example.com");
    // 2 tokens refilled at 2/s: the third call of a burst gets 429 with Retry-After: 1.
    await control("PUT", "/_sim/rate-limit", { capacity: 2, refillPerSecond: 2 });
    // Our limiter believes in a far bigger bucket (as when another tool shares the account).
    const shared = createTokenBucket({ capacity: 1000, refillPerSecond: 300 });
    const second = testClient({ limiter: shared });
    let limitedAt = 0;
    let late: Promise<unknown> | undefined;
    const first = testClient({
      limiter: shared,
      hooks: {
        onRateLimited: (event) => {
          first.rateLimited.push(event);
          limitedAt = Date.now();
          // Another caller of the same limiter starts the moment the 429 is seen.
          late = second.client.tokenInfo();
        },
      },
    });
    const results = await Promise.all([
      first.client.tokenInfo(),
      first.client.tokenInfo(),
      first.client.licenses.create(connector._id, { email: "second@example.com", expires: inAYear() }),
    ]);
    await late;
    expect(results[2]).toMatchObject({ user: { email: "second@example.com" } });
    expect(first.rateLimited).toHaveLength(1);
    expect(first.rateLimited[0]?.retryAfterMs).toBe(1000);
    // Nothing went out from either client between the 429 and Retry-After.
    const sentAfter = [...first.sent, ...second.sent].filter((request) => request.at >= limitedAt);
    expect(sentAfter.length).toBeGreaterThanOrEqual(2);
    for (const request of sentAfter) expect(request.at).toBeGreaterThanOrEqual(limitedAt + 1000 - 5);
    const simStats = await stats();
    expect(simStats.rateLimited).toBe(1);
    // One license from connectorWithLicense, then the new one: sent twice (429, then created once).
    expect(simStats.byRoute["POST /v1/connectors/:connectorId/licenses"]?.requests).toBeLessThanOrEqual(3);
    const licenses = [];
    for await (const license of first.client.licenses.list(connector._id)) licenses.push(license.user?.email);
    expect(licenses.sort()).toEqual(["buyer@example.com", "second@example.com"]);
  });

  it("gives up after maxRateLimitedRetries with RateLimitedError", async () => {
    await control("PUT", "/_sim/rate-limit", { capacity: 1, refillPerSecond: 1 });
    const { client } = testClient({ retry: { maxRateLimitedRetries: 0 } });
    await client.tokenInfo();
    const error = await client.tokenInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ status: 429, codes: ["rate_limited"], retryAfterMs: 1000 });
  });

  it("5xx on an idempotent call is retried, then surfaced once the attempts are spent", async () => {
    await control("PUT", "/_sim/faults", { errorRate: 1, status: 503 });
    const { client, retries } = testClient();
    const error = await client.tokenInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegratorError);
    expect(error).toMatchObject({
      status: 503,
      codes: ["service_unavailable"],
      method: "GET",
      path: "/v1/tokenInfo",
    });
    expect(retries.map((r) => r.reason)).toEqual(["server_error", "server_error"]);
    expect((await stats()).requests).toBe(3);
  });

  it("5xx is retried until it clears", async () => {
    await control("PUT", "/_sim/faults", { errorRate: 1, status: 500 });
    let cleared: Promise<unknown> | undefined;
    const sends: { path: string; waitedMs: number }[] = [];
    const { client, retries } = testClient({
      random: () => 0.99,
      retry: { baseDelayMs: 300, maxDelayMs: 300, maxAttempts: 3 },
      hooks: {
        // Every request sent, the retry included, with its wait for the limiter (IntegratorCalls, LimiterWaitMs).
        onSend: (event) => void sends.push(event),
        onRetry: (event) => {
          retries.push(event);
          cleared ??= control("PUT", "/_sim/faults", {});
        },
      },
    });
    expect((await client.tokenInfo())._userId).toEqual(expect.any(String));
    await cleared;
    expect(retries).toHaveLength(1);
    expect((await stats()).requests).toBe(2);
    expect(sends).toHaveLength(2);
    for (const send of sends) expect(send.waitedMs).toBeGreaterThanOrEqual(0);
  });

  it("4xx is never retried", async () => {
    const { client, retries } = testClient();
    const connector = await client.connectors.create({ name: "x" });
    await expect(client.licenses.get(connector._id, "no-such-license")).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      client.licenses.update(connector._id, "no-such-license", { expires: inAYear() }),
    ).rejects.toMatchObject({
      status: 404,
    });
    await expect(client.forToken("not-a-token").tokenInfo()).rejects.toMatchObject({
      status: 401,
      codes: ["unauthorized"],
    });
    expect(retries).toEqual([]);
    expect((await stats()).requests).toBe(4);
  });

  it("a POST whose response is lost throws OutcomeUnknownError and is never sent twice", async () => {
    const { client } = testClient();
    const connector = await client.connectors.create({ name: "x" });
    await user("lost@example.com");
    await control("PUT", "/_sim/faults", { dropResponseRate: 1 });
    const error = await client.licenses
      .create(connector._id, { email: "lost@example.com", expires: inAYear() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect((error as OutcomeUnknownError).cause).toBeInstanceOf(IntegratorNetworkError);
    expect(await routeRequests("POST /v1/connectors/:connectorId/licenses")).toBe(1);
    await control("PUT", "/_sim/faults", {});
    // The change was applied: the caller must look before creating again.
    const licenses = [];
    for await (const license of client.licenses.list(connector._id)) licenses.push(license);
    expect(licenses).toHaveLength(1);
  });

  it("a POST answered 5xx has an unknown outcome too; a GET whose response is lost is retried", async () => {
    const { client, retries } = testClient();
    const connector = await client.connectors.create({ name: "x" });
    await user("five@example.com");
    await control("PUT", "/_sim/faults", { errorRate: 1, status: 502 });
    const error = await client.licenses
      .create(connector._id, { email: "five@example.com", expires: inAYear() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({ status: 502 });
    expect(await routeRequests("POST /v1/connectors/:connectorId/licenses")).toBe(1);

    await control("PUT", "/_sim/faults", { dropResponseRate: 1 });
    const lost = await client.connectors.get(connector._id).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(IntegratorNetworkError);
    expect(retries.filter((r) => r.reason === "network")).toHaveLength(2);
    expect(await routeRequests("GET /v1/connectors/:connectorId")).toBe(3);
  });

  it("a refused connection is retried even for a POST", async () => {
    const port = await freePort();
    const { client, retries } = testClient({ baseUrl: `http://127.0.0.1:${port}/v1` });
    const error = await client.connectors.create({ name: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegratorNetworkError);
    expect(error).toMatchObject({ networkCode: "ECONNREFUSED", method: "POST", path: "/v1/connectors" });
    expect(retries.map((r) => r.reason)).toEqual(["network", "network"]);
  });

  it("per-attempt timeouts: GET retried then IntegratorTimeoutError, POST OutcomeUnknownError", async () => {
    const { client } = testClient({
      timeoutMs: 100,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const connector = await client.connectors.create({ name: "slow" });
    await control("PUT", "/_sim/faults", { latencyMs: 400 });
    const slowGet = await client.connectors.get(connector._id).catch((e: unknown) => e);
    expect(slowGet).toBeInstanceOf(IntegratorTimeoutError);
    expect(slowGet).toMatchObject({ timeoutMs: 100, method: "GET" });
    const slowPost = await client.connectors.create({ name: "slow too" }).catch((e: unknown) => e);
    expect(slowPost).toBeInstanceOf(OutcomeUnknownError);
    expect((slowPost as Error).cause).toBeInstanceOf(IntegratorTimeoutError);
    expect(await routeRequests("GET /v1/connectors/:connectorId")).toBe(2);
    expect(await routeRequests("POST /v1/connectors")).toBe(2); // the first create, and one slow one
  });

  it("a caller's AbortSignal ends the call, in flight or waiting for the limiter", async () => {
    await control("PUT", "/_sim/faults", { latencyMs: 1000 });
    const { client, retries } = testClient();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("caller gave up")), 50);
    await expect(client.tokenInfo({ signal: controller.signal })).rejects.toThrow("caller gave up");
    expect(retries).toEqual([]);

    const empty = createTokenBucket({ capacity: 1, refillPerSecond: 0.01, margin: 1 });
    await empty.acquire("background");
    const waiting = testClient({ limiter: empty });
    await expect(waiting.client.tokenInfo({ signal: AbortSignal.timeout(50) })).rejects.toMatchObject({
      name: "TimeoutError",
    });
    expect(waiting.sent).toEqual([]);
  });

  it("errors never carry a token", async () => {
    const secretToken = "tok_very_secret_value";
    const { client } = testClient({ token: secretToken });
    const error = await client.connectors.get("abc", {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, path: "/v1/connectors/abc" });
    const serialised = JSON.stringify(error) + String(error) + (error as Error).stack;
    expect(serialised).not.toContain(secretToken);
  });
});

describe("answers the simulator never gives", () => {
  it("refuses to follow a Link to another origin, and rejects bodies that break the schema", async () => {
    const hosts: string[] = [];
    const server = createServer((req, res) => {
      hosts.push(req.headers.host ?? "");
      res.setHeader("content-type", "application/json");
      if (req.url?.startsWith("/v1/connectors")) {
        res.setHeader("link", '<http://127.0.0.1:1/v1/connectors?skip=1>; rel="next"');
        res.end(JSON.stringify([{ _id: "c1", name: "first page" }]));
      } else {
        res.end(JSON.stringify({ notTheUserId: true }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { client } = testClient({ baseUrl: `http://127.0.0.1:${port}/v1` });
      const seen: string[] = [];
      const listing = (async () => {
        for await (const connector of client.connectors.list()) seen.push(connector._id);
      })();
      await expect(listing).rejects.toThrow(/another origin/);
      expect(seen).toEqual(["c1"]);
      const info = await client.tokenInfo().catch((e: unknown) => e);
      expect(info).toBeInstanceOf(IntegratorResponseError);
      expect(info).toMatchObject({ status: 200, path: "/v1/tokenInfo" });
      expect(hosts.every((host) => host === `127.0.0.1:${port}`)).toBe(true);
    } finally {
      server.close();
    }
  });
});
