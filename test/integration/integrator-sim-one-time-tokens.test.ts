import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import { type Body, nextYear, type SimClient, simClient } from "#test/helpers/integrator-sim-client.ts";
import { startTestStack, type TestStack } from "#test/helpers/integrator-sim-stack.ts";

// One-time tokens (docs/architecture.md §3): issued per stack invocation, scoped to the connector's resources
// and the integration acted on, revoked when the stack answers or after their lifetime, and
// charged to the vendor's bucket.
const VENDOR = "vendor-token-for-one-time-token-tests";
let sim: IntegratorSimulator;
let client: SimClient;
let stack: TestStack;
let stackId: string;

const vendor = (method: string, path: string, body?: unknown) => client.api(VENDOR, method, path, body);

/** A connector on the test stack, a user with a license for it; answers the user. */
async function licensedUser(connectorId: string, email: string) {
  await client.control("POST", "/connectors", {
    _id: connectorId,
    name: connectorId,
    _stackId: stackId,
    installerFunction: "install",
  });
  const user = await client.user(email);
  const license = await vendor("POST", `/connectors/${connectorId}/licenses`, {
    email,
    expires: nextYear(),
    opts: {},
  });
  expect(license.status).toBe(201);
  return { ...user, licenseId: license.body._id as string };
}

beforeAll(async () => {
  sim = await startIntegratorSimulator({ vendorToken: VENDOR, quiet: true });
  client = simClient(sim);
  stack = await startTestStack();
  stackId = (
    await vendor("POST", "/stacks", {
      type: "server",
      server: { hostURI: stack.hostURI, systemToken: "sys" },
    })
  ).body._id;
  await client.control("POST", "/connectors", { _id: "someone-else", name: "Another connector" });
});
afterAll(async () => {
  await sim.stop();
  await stack.stop();
});

describe("one-time tokens", () => {
  it("reach the connector's licenses and the integration's resources, nothing else (403), and die with the call (401)", async () => {
    const user = await licensedUser("scoped", "scoped@example.com");
    const otherIntegration = await client.api(user.token, "POST", "/integrations", { name: "unrelated" });
    const outcomes: Record<string, Body> = {};
    let token = "";
    stack.behave(async (call) => {
      token = call.body.options.bearerToken;
      const id = call.body.options._integrationId;
      const as = (method: string, path: string, body?: unknown) => client.api(token, method, path, body);
      outcomes.tokenInfo = await as("GET", "/tokenInfo");
      outcomes.connector = await as("GET", "/connectors/scoped");
      outcomes.licenses = await as("GET", "/connectors/scoped/licenses");
      outcomes.integration = await as("GET", `/integrations/${id}`);
      outcomes.connection = await as("POST", "/connections", { name: "shop" });
      outcomes.state = await as("PUT", "/state/progress", { step: 1 });
      outcomes.integrationState = await as("GET", `/integrations/${id}/state/progress`);
      outcomes.jobs = await as("GET", `/jobs?_integrationId=${id}`);
      // Out of scope:
      outcomes.otherLicenses = await as("GET", "/connectors/someone-else/licenses");
      outcomes.connectors = await as("GET", "/connectors");
      outcomes.templates = await as("GET", "/templates");
      outcomes.otherIntegration = await as("GET", `/integrations/${otherIntegration.body._id}`);
      outcomes.otherJobs = await as("GET", `/jobs?_integrationId=${otherIntegration.body._id}`);
      outcomes.foreignConnection = await as("POST", "/connections", {
        _integrationId: otherIntegration.body._id,
      });
      outcomes.install = await as("POST", "/integrations/scoped/install");
      outcomes.uninstall = await as("DELETE", `/integrations/${id}/install`);
      return { status: 200, body: {} };
    });
    const installed = await client.api(user.token, "POST", "/integrations/scoped/install");
    expect(installed.status).toBe(201);
    const id = installed.body._id;

    expect(outcomes.tokenInfo.body).toEqual({ _userId: user._id });
    expect(outcomes.connector.status).toBe(200);
    expect(outcomes.licenses.status).toBe(200);
    expect(outcomes.licenses.body.map((l: { _id: string }) => l._id)).toContain(user.licenseId);
    expect(outcomes.integration.status).toBe(200);
    expect(outcomes.connection.status).toBe(201);
    expect(outcomes.connection.body._integrationId).toBe(id);
    expect(outcomes.state.status).toBe(201);
    expect(outcomes.integrationState.body).toEqual({ step: 1 });
    expect(outcomes.jobs.status).toBe(200);
    for (const name of [
      "otherLicenses",
      "connectors",
      "templates",
      "otherIntegration",
      "otherJobs",
      "foreignConnection",
      "install",
      "uninstall",
    ]) {
      expect({ name, status: outcomes[name].status, code: outcomes[name].body.errors[0].code }).toEqual({
        name,
        status: 403,
        code: "access_restricted",
      });
    }

    // What the stack made lives in the user's account, under the integration.
    const connections = (await client.api(user.token, "GET", "/connections")).body;
    expect(connections).toEqual([expect.objectContaining({ name: "shop", _integrationId: id })]);
    expect((await client.api(user.token, "GET", `/integrations/${id}/state`)).body).toEqual({
      keys: ["progress"],
    });

    // Revoked as soon as the stack answered.
    const after = await client.api(token, "GET", "/tokenInfo");
    expect(after.status).toBe(401);
    expect(after.body.errors[0].code).toBe("unauthorized");
  });

  it("expire after their lifetime even while the stack is still working", async () => {
    // A simulator whose tokens live 300 ms instead of integrator.io's 15 minutes.
    const ttlMs = 300;
    const shortLived = await startIntegratorSimulator({
      vendorToken: VENDOR,
      quiet: true,
      oneTimeTokenTtlMs: ttlMs,
    });
    try {
      const short = simClient(shortLived);
      const stackResource = await short.api(VENDOR, "POST", "/stacks", {
        type: "server",
        server: { hostURI: stack.hostURI, systemToken: "sys" },
      });
      await short.control("POST", "/connectors", {
        _id: "slow",
        _stackId: stackResource.body._id,
        installerFunction: "install",
      });
      const user = await short.user("slow@example.com");
      await short.api(VENDOR, "POST", "/connectors/slow/licenses", {
        email: user.email,
        expires: nextYear(),
      });
      const seen: number[] = [];
      stack.behave(async (call) => {
        const token = call.body.options.bearerToken;
        seen.push((await short.api(token, "GET", "/tokenInfo")).status);
        await new Promise((resolve) => setTimeout(resolve, ttlMs + 100));
        seen.push((await short.api(token, "GET", "/tokenInfo")).status);
        return { status: 200, body: {} };
      });
      expect((await short.api(user.token, "POST", "/integrations/slow/install")).status).toBe(201);
      expect(seen).toEqual([200, 401]);
    } finally {
      await shortLived.stop();
    }
  });

  it("count against the vendor's bucket, not the user's", async () => {
    const user = await licensedUser("metered", "metered@example.com");
    const seen: Body = {};
    stack.behave(async (call) => {
      const token = call.body.options.bearerToken;
      let vendorStatus = 200;
      let vendorAdmitted = 0;
      while (vendorStatus === 200) {
        vendorStatus = (await vendor("GET", "/tokenInfo")).status;
        if (vendorStatus === 200) vendorAdmitted += 1;
      }
      seen.vendorAdmitted = vendorAdmitted;
      seen.oneTime = await client.api(token, "GET", "/tokenInfo");
      seen.user = await client.api(user.token, "GET", "/tokenInfo");
      return { status: 200, body: {} };
    });
    await client.control("PUT", "/rate-limit", { capacity: 4, refillPerSecond: 0.01 });
    try {
      expect((await client.api(user.token, "POST", "/integrations/metered/install")).status).toBe(201);
    } finally {
      await client.control("PUT", "/rate-limit", { capacity: 1000, refillPerSecond: 300 });
    }
    expect(seen.vendorAdmitted).toBe(4);
    expect(seen.oneTime.status).toBe(429);
    expect(seen.oneTime.body.errors[0].code).toBe("rate_limited");
    expect(seen.user.status).toBe(200);
  });
});
