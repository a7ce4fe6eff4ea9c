import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import { type SimClient, type SimResponse, simClient } from "#test/helpers/integrator-sim-client.ts";

// Conformance of templates, stacks, integrations, state, the plain resources and jobs (docs/architecture.md §3).
const VENDOR = "vendor-token-for-resource-tests";
let sim: IntegratorSimulator;
let client: SimClient;
let alice: { _id: string; email: string; token: string };
let bob: { _id: string; email: string; token: string };

const vendor = (method: string, path: string, body?: unknown) => client.api(VENDOR, method, path, body);

function expectError(response: SimResponse, status: number, code: string, field?: string) {
  expect(response.status).toBe(status);
  expect(response.body.errors[0].code).toBe(code);
  if (field !== undefined) expect(response.body.errors[0].field).toBe(field);
}

beforeAll(async () => {
  sim = await startIntegratorSimulator({ vendorToken: VENDOR, quiet: true });
  client = simClient(sim);
  alice = await client.user("alice@example.com");
  bob = await client.user("bob@example.com");
});
afterAll(() => sim.stop());

describe("templates", () => {
  it("creates (201), reads, replaces and deletes (204); published is read-only through the API", async () => {
    const created = await vendor("POST", "/templates", {
      name: "GitHub to Slack",
      applications: ["github", "slack"],
      published: true,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "GitHub to Slack",
      published: false,
      applications: ["github", "slack"],
    });
    expect(Number.isNaN(Date.parse(created.body.lastModified))).toBe(false);
    const path = `/templates/${created.body._id}`;

    const replaced = await vendor("PUT", path, {
      name: "Renamed",
      published: true,
      contactEmail: "t@example.com",
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ name: "Renamed", published: false, contactEmail: "t@example.com" });
    expect(replaced.body.applications).toBeUndefined();

    // The marketplace review (here the control API) publishes it; the API keeps it published.
    const published = await client.control("POST", "/templates", { _id: created.body._id, published: true });
    expect(published.status).toBe(200);
    expect((await vendor("PUT", path, { name: "Again" })).body.published).toBe(true);

    expect((await vendor("DELETE", path)).status).toBe(204);
    expectError(await vendor("GET", path), 404, "not_found");
  });

  it("lists templates as one flat array, without Link pagination", async () => {
    for (const name of ["T1", "T2", "T3"]) await vendor("POST", "/templates", { name });
    const listed = await vendor("GET", "/templates?limit=1");
    expect(listed.status).toBe(200);
    expect(listed.body.length).toBeGreaterThanOrEqual(3);
    expect(listed.headers.get("link")).toBeNull();
  });

  it("requires a name and the vendor's token", async () => {
    expectError(await vendor("POST", "/templates", {}), 422, "missing_required_field", "name");
    expectError(await client.api(alice.token, "GET", "/templates"), 403, "access_restricted");
  });
});

describe("stacks", () => {
  it("stores a server stack and never gives its system token back", async () => {
    const created = await vendor("POST", "/stacks", {
      name: "licensing",
      type: "server",
      server: { hostURI: "http://127.0.0.1:9/integrator", systemToken: "s3cret-system-token" },
    });
    expect(created.status).toBe(201);
    expect(created.body.server.hostURI).toBe("http://127.0.0.1:9/integrator");
    expect(JSON.stringify(created.body)).not.toContain("s3cret-system-token");
    const path = `/stacks/${created.body._id}`;
    expect(JSON.stringify((await vendor("GET", path)).body)).not.toContain("s3cret-system-token");
    expect(JSON.stringify((await vendor("GET", "/stacks")).body)).not.toContain("s3cret-system-token");

    // A PUT without the token keeps it; the stack stays usable by connectors.
    const moved = await vendor("PUT", path, { type: "server", server: { hostURI: "http://127.0.0.1:10" } });
    expect(moved.status).toBe(200);
    expect(moved.body.server.hostURI).toBe("http://127.0.0.1:10");

    const connector = await vendor("POST", "/connectors", { name: "uses stack", _stackId: created.body._id });
    expect(connector.status).toBe(201);
    expectError(await vendor("DELETE", path), 422, "invalid_ref");
    await vendor("DELETE", `/connectors/${connector.body._id}`);
    expect((await vendor("DELETE", path)).status).toBe(204);
    expectError(await vendor("GET", path), 404, "not_found");
  });

  it("validates type, hostURI and system token", async () => {
    expectError(
      await vendor("POST", "/stacks", { type: "lambda", server: { hostURI: "http://x" } }),
      422,
      "invalid_field",
      "type",
    );
    expectError(
      await vendor("POST", "/stacks", { type: "server", server: {} }),
      422,
      "missing_required_field",
      "server.hostURI",
    );
    expectError(
      await vendor("POST", "/stacks", { type: "server", server: { hostURI: "http://127.0.0.1:9" } }),
      422,
      "missing_required_field",
      "server.systemToken",
    );
  });
});

describe("integrations", () => {
  it("keeps each account's integrations to itself", async () => {
    const created = await client.api(alice.token, "POST", "/integrations", {
      name: "DIY",
      description: "mine",
    });
    expect(created.status).toBe(201);
    const path = `/integrations/${created.body._id}`;
    expect((await client.api(alice.token, "GET", path)).body).toMatchObject({
      name: "DIY",
      description: "mine",
    });
    expectError(await client.api(bob.token, "GET", path), 404, "not_found");
    expectError(await vendor("GET", path), 404, "not_found");
    const bobs = await client.api(bob.token, "GET", "/integrations");
    expect(bobs.body.map((i: { _id: string }) => i._id)).not.toContain(created.body._id);

    const replaced = await client.api(alice.token, "PUT", path, { name: "DIY 2" });
    expect(replaced.body).toMatchObject({ _id: created.body._id, name: "DIY 2" });
    expect(replaced.body.description).toBeUndefined();
    expect((await client.api(alice.token, "DELETE", path)).status).toBe(204);
    expectError(await client.api(alice.token, "GET", path), 404, "not_found");
  });

  it("does not let a plain POST fake an integration app", async () => {
    const response = await client.api(alice.token, "POST", "/integrations", {
      name: "x",
      _connectorId: "conn",
    });
    expectError(response, 422, "invalid_field", "_connectorId");
  });
});

describe("state", () => {
  it("stores any JSON per key, per account, lists keys and deletes", async () => {
    const put = await client.api(alice.token, "PUT", "/state/cursor", { since: "2026-01-01", page: 3 });
    expect(put.status).toBe(201);
    expect((await client.api(alice.token, "PUT", "/state/cursor", [1, 2, 3])).status).toBe(200);
    expect((await client.api(alice.token, "PUT", "/state/flag", true)).status).toBe(201);
    expect((await client.api(alice.token, "GET", "/state/cursor")).body).toEqual([1, 2, 3]);
    expect((await client.api(alice.token, "GET", "/state")).body).toEqual({ keys: ["cursor", "flag"] });

    // Bob's account has its own state.
    expectError(await client.api(bob.token, "GET", "/state/cursor"), 404, "not_found");
    expect((await client.api(bob.token, "GET", "/state")).body).toEqual({ keys: [] });

    expect((await client.api(alice.token, "DELETE", "/state/flag")).status).toBe(204);
    expectError(await client.api(alice.token, "GET", "/state/flag"), 404, "not_found");
    expectError(await client.api(alice.token, "DELETE", "/state/flag"), 404, "not_found");
    expect((await client.api(alice.token, "DELETE", "/state")).status).toBe(204);
    expect((await client.api(alice.token, "GET", "/state")).body).toEqual({ keys: [] });
  });
});

describe("plain resources", () => {
  for (const kind of ["iClients", "connections", "exports", "imports", "flows"]) {
    it(`${kind}: any JSON object plus _id and lastModified, CRUD per account`, async () => {
      const created = await client.api(alice.token, "POST", `/${kind}`, {
        name: `my ${kind}`,
        nested: { a: [1, 2] },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: `my ${kind}`, nested: { a: [1, 2] } });
      expect(typeof created.body._id).toBe("string");
      expect(Number.isNaN(Date.parse(created.body.lastModified))).toBe(false);
      const path = `/${kind}/${created.body._id}`;

      expect((await client.api(alice.token, "GET", path)).body).toEqual(created.body);
      const listed = await client.api(alice.token, "GET", `/${kind}`);
      expect(listed.body.map((r: { _id: string }) => r._id)).toContain(created.body._id);
      expectError(await client.api(bob.token, "GET", path), 404, "not_found");

      const replaced = await client.api(alice.token, "PUT", path, { name: "renamed", _id: "ignored" });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({ _id: created.body._id, name: "renamed" });
      expect(replaced.body.nested).toBeUndefined();

      expect((await client.api(alice.token, "DELETE", path)).status).toBe(204);
      expectError(await client.api(alice.token, "GET", path), 404, "not_found");
    });
  }

  it("pages lists with Link headers", async () => {
    for (let i = 0; i < 5; i += 1) await client.api(bob.token, "POST", "/flows", { name: `flow ${i}` });
    const first = await client.api(bob.token, "GET", "/flows?limit=2");
    expect(first.body).toHaveLength(2);
    expect(first.headers.get("link")).toMatch(/skip=2.*limit=2|limit=2.*skip=2/);
  });

  it("checks an _integrationId reference", async () => {
    expectError(
      await client.api(alice.token, "POST", "/connections", { name: "c", _integrationId: "missing" }),
      422,
      "invalid_ref",
      "_integrationId",
    );
  });
});

describe("jobs", () => {
  it("lists jobs of the caller's integrations filtered by _integrationId, type and status", async () => {
    const integration = await client.api(alice.token, "POST", "/integrations", { name: "with jobs" });
    const other = await client.api(alice.token, "POST", "/integrations", { name: "other" });
    const id = integration.body._id;
    const make = (body: object) => client.control("POST", "/jobs", body);
    const done = await make({ _integrationId: id, type: "flow", status: "completed", numSuccess: 10 });
    expect(done.status).toBe(201);
    await make({ _integrationId: id, type: "flow", status: "failed" });
    await make({ _integrationId: id, type: "import", status: "completed" });
    await make({ _integrationId: other.body._id, type: "flow", status: "completed" });

    const all = await client.api(alice.token, "GET", `/jobs?_integrationId=${id}`);
    expect(all.status).toBe(200);
    expect(all.body).toHaveLength(3);
    const flowsDone = await client.api(
      alice.token,
      "GET",
      `/jobs?_integrationId=${id}&type=flow&status=completed`,
    );
    expect(flowsDone.body.map((j: { _id: string }) => j._id)).toEqual([done.body._id]);

    expect((await client.api(alice.token, "GET", `/jobs/${done.body._id}`)).body).toMatchObject({
      numSuccess: 10,
    });
    expectError(await client.api(bob.token, "GET", `/jobs/${done.body._id}`), 404, "not_found");
    expect((await client.api(bob.token, "GET", "/jobs")).body).toEqual([]);
    expectError(await make({ type: "flow" }), 422, "missing_required_field", "status");
  });
});
