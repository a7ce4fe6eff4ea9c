import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import {
  nextYear,
  type SimClient,
  type SimResponse,
  simClient,
} from "#test/helpers/integrator-sim-client.ts";

// Installing an integration app (docs/architecture.md §3): who may install, what a connector without a stack
// does, and the fields an integration app keeps to itself.
const VENDOR = "vendor-token-for-install-tests";
let sim: IntegratorSimulator;
let client: SimClient;

const vendor = (method: string, path: string, body?: unknown) => client.api(VENDOR, method, path, body);
const license = (connectorId: string, email: string, expires = nextYear(), opts: object = {}) =>
  vendor("POST", `/connectors/${connectorId}/licenses`, { email, expires, opts });
const expectCode = (response: SimResponse, status: number, code: string) => {
  expect(response.status).toBe(status);
  expect(response.body.errors[0].code).toBe(code);
};

beforeAll(async () => {
  sim = await startIntegratorSimulator({ vendorToken: VENDOR, quiet: true });
  client = simClient(sim);
  await client.control("POST", "/connectors", {
    _id: "plain",
    name: "No stack",
    installerFunction: "installerFunction",
  });
});
afterAll(() => sim.stop());

describe("installing", () => {
  it("needs an unexpired, unused license for the caller's email on that connector", async () => {
    const user = await client.user("installer@example.com");
    const install = () => client.api(user.token, "POST", "/integrations/plain/install");
    expectCode(await install(), 422, "license_not_found");
    expectCode(await client.api(user.token, "POST", "/integrations/missing/install"), 404, "not_found");

    const expired = await license("plain", user.email, "2020-01-01T00:00:00.000Z");
    expect(expired.status).toBe(201);
    expectCode(await install(), 422, "license_expired");

    const live = await license("plain", user.email, nextYear(), { connectorEdition: "standard" });
    const installed = await install();
    expect(installed.status).toBe(201);
    expect((await vendor("GET", `/connectors/plain/licenses/${live.body._id}`)).body._integrationId).toBe(
      installed.body._id,
    );
    expect((await vendor("GET", `/connectors/plain/licenses/${expired.body._id}`)).body).not.toHaveProperty(
      "_integrationId",
    );
    expectCode(await install(), 422, "license_in_use");

    // Someone else's license is not the caller's.
    const stranger = await client.user("stranger@example.com");
    expectCode(
      await client.api(stranger.token, "POST", "/integrations/plain/install"),
      422,
      "license_not_found",
    );
    expectCode(await vendor("POST", "/integrations/plain/install"), 422, "license_not_found");
  });

  it("without a stack, only changes state: install, settings and uninstall", async () => {
    const user = await client.user("nostack@example.com");
    const issued = await license("plain", user.email);
    const installed = await client.api(user.token, "POST", "/integrations/plain/install");
    expect(installed.status).toBe(201);
    // No steps to run: the install is complete at once.
    expect(installed.body).toMatchObject({
      _connectorId: "plain",
      mode: "settings",
      install: [],
      settings: {},
    });
    const id = installed.body._id;

    const saved = await client.api(user.token, "PUT", `/integrations/${id}/settings/persistSettings`, {
      a: 1,
    });
    expect(saved.status).toBe(200);
    expect((await client.api(user.token, "GET", `/integrations/${id}`)).body.settings).toEqual({ a: 1 });

    expect((await client.api(user.token, "DELETE", `/integrations/${id}/install`)).status).toBe(204);
    expect((await client.api(user.token, "GET", `/integrations/${id}`)).status).toBe(404);
    expect((await vendor("GET", `/connectors/plain/licenses/${issued.body._id}`)).body).not.toHaveProperty(
      "_integrationId",
    );
  });

  it("keeps the integration app's fields to the app: people get field_locked_by_integration_app", async () => {
    const user = await client.user("locked@example.com");
    await license("plain", user.email);
    const installed = await client.api(user.token, "POST", "/integrations/plain/install");
    const id = installed.body._id;
    const path = `/integrations/${id}`;

    expectCode(
      await client.api(user.token, "PUT", path, { ...installed.body, mode: "install" }),
      422,
      "field_locked_by_integration_app",
    );
    expectCode(
      await client.api(user.token, "PUT", path, { settings: { x: 1 } }),
      422,
      "field_locked_by_integration_app",
    );
    const renamed = await client.api(user.token, "PUT", path, { ...installed.body, name: "My shop sync" });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "My shop sync", mode: "settings", _connectorId: "plain" });

    // An integration app is removed by uninstalling, not by a plain DELETE.
    expectCode(await client.api(user.token, "DELETE", path), 422, "field_locked_by_integration_app");
    expect((await client.api(user.token, "GET", path)).status).toBe(200);
    // Nobody else sees it.
    expectCode(await vendor("GET", path), 404, "not_found");
  });
});
