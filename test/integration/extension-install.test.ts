import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExtensionError } from "#lib/extension/errors.ts";
import { defineConnector } from "#lib/extension/types.ts";
import { STACK_DIALECTS } from "#local/sim/integrator/stack-caller.ts";
import {
  apiCall,
  control,
  type ExtensionHarness,
  issueLicense,
  newUser,
  SHOPIFY,
  SYSTEM_TOKEN,
  startExtensionHarness,
  TEST_APP,
  VENDOR_TOKEN,
} from "#test/helpers/extension-harness.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";

type Integration = {
  _id: string;
  mode: string;
  version?: string;
  updateInProgress?: boolean;
  settings?: Record<string, unknown>;
  install: Record<string, unknown>[];
};
type Errors = { errors: { code: string; message: string }[] };

/** A second connector whose second step fails until told otherwise (a step the customer retries). */
let stepTwoFails = true;
const flaky = defineConnector({
  key: TEST_APP.key,
  installSteps: [
    {
      name: "One",
      installerFunction: "installOne",
      uninstallerFunction: "uninstallOne",
      install: async () => ({ made: "one" }),
    },
    {
      name: "Two",
      installerFunction: "installTwo",
      install: async () => {
        if (stepTwoFails) throw new ExtensionError("not_ready", "The other system is not ready.");
        return { made: "two" };
      },
    },
  ],
});

// Every case runs once per dialect integrator.io calls a stack in (typed: the documented options,
// no license; flat: with the license), as Celigo's own framework suite does.
describe.each(STACK_DIALECTS)("the %s dialect", (dialect) => {
  let harness: ExtensionHarness;
  beforeAll(async () => {
    harness = await startExtensionHarness([flaky], { dialect });
  });
  afterAll(async () => {
    await harness?.stop();
  });

  /** How many times the stack listed a connector's licenses from integrator.io. */
  const licenseListings = async () =>
    (await control<{ byRoute: Record<string, { requests: number }> }>(harness.sim, "GET", "/_sim/stats"))
      .byRoute["GET /v1/connectors/:connectorId/licenses"]?.requests ?? 0;

  const install = (token: string, connectorId: string = SHOPIFY.id) =>
    apiCall<Integration & Errors>(harness.sim, token, "POST", `/integrations/${connectorId}/install`, {});
  const eventsOf = async (type: string, integrationId: string) =>
    (await harness.events.list()).filter(
      (event) => event.type === type && event.detail.integrationId === integrationId,
    );

  async function callStack(body: unknown) {
    const event = httpEvent("POST /integrator/function", {
      headers: { authorization: `Bearer ${SYSTEM_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const result = (await harness.handler(event, lambdaContext)) as { statusCode: number; body: string };
    return { status: result.statusCode, body: JSON.parse(result.body) as Errors };
  }

  describe("installerFunction", () => {
    it("installs on a license of ours: steps completed through the one-time token, install recorded, event published", async () => {
      const user = await newUser(harness, "installs");
      const license = await issueLicense(harness, user.email);
      const answer = await install(user.token);
      expect(answer.status).toBe(201);
      const integrationId = answer.body._id;
      expect(answer.body.mode).toBe("settings");
      expect(answer.body.install.map((step) => [step.installerFunction, step.completed])).toEqual([
        ["installShopifyConnection", true],
        ["installNetSuiteConnection", true],
        ["installOrderFlows", true],
      ]);
      const [shopify, netsuite, flows] = answer.body.install;
      // What the steps made exists in the customer's account, tagged with the integration.
      const connections = await apiCall<{ _id: string; _integrationId: string }[]>(
        harness.sim,
        user.token,
        "GET",
        "/connections",
      );
      expect(connections.body.map((c) => c._id).sort()).toEqual(
        [shopify?._connectionId, netsuite?._connectionId].sort(),
      );
      expect(connections.body.every((c) => c._integrationId === integrationId)).toBe(true);
      const flow = await apiCall<{ _connectionIds: string[] }>(
        harness.sim,
        user.token,
        "GET",
        `/flows/${((flows?._flowIds ?? []) as string[])[0]}`,
      );
      expect(flow.body._connectionIds).toEqual([shopify?._connectionId, netsuite?._connectionId]);

      expect(await harness.installs.get(integrationId)).toMatchObject({
        integrationId,
        connectorId: SHOPIFY.id,
        connectorKey: SHOPIFY.key,
        licenseId: license.licenseId,
        customerId: license.customerId,
        email: user.email,
        edition: "standard",
        version: "1.0.0",
        state: "installed",
        installedAt: expect.any(String),
      });
      expect(await eventsOf("install.completed", integrationId)).toHaveLength(1);
    });

    it("installs on a license only integrator.io knows (a comped one), checked with the vendor token", async () => {
      const user = await newUser(harness, "comped");
      const license = await issueLicense(harness, user.email, { inStore: false, edition: "premium" });
      const answer = await install(user.token);
      expect(answer.status).toBe(201);
      const record = await harness.installs.get(answer.body._id);
      expect(record).toMatchObject({
        licenseId: license.licenseId,
        email: user.email,
        edition: "premium",
        state: "installed",
      });
      expect(record?.customerId).toBeUndefined();
    });

    it("refuses a license our store holds as expired (422 license_expired); integrator.io removes the integration", async () => {
      const user = await newUser(harness, "expired");
      await issueLicense(harness, user.email, { state: "expired" });
      const answer = await install(user.token);
      expect(answer.status).toBe(422);
      expect(answer.body.errors[0]?.code).toBe("license_expired");
      const left = await apiCall<Integration[]>(harness.sim, user.token, "GET", "/integrations");
      expect(left.body).toEqual([]);
    });

    it("refuses a license that belongs to another connector (422 license_connector_mismatch)", async () => {
      const user = await newUser(harness, "mismatch");
      const license = await issueLicense(harness, user.email, { inStore: false });
      await harness.licenses.own({
        licenseId: license.licenseId,
        customerId: "cus_x",
        connectorKey: TEST_APP.key,
        connectorId: TEST_APP.id,
        email: user.email,
      });
      const answer = await install(user.token);
      expect(answer.status).toBe(422);
      expect(answer.body.errors[0]?.code).toBe("license_connector_mismatch");
    });

    it("refuses an unknown license id, and an integration no license is bound to (license_not_found)", async () => {
      const options = { bearerToken: "t", _integrationId: "0123456789abcdef0123dead", opts: {} };
      const unknown = await callStack({
        _connectorId: SHOPIFY.id,
        function: "installerFunction",
        options: { ...options, license: { _id: "0123456789abcdef01234567" } },
      });
      expect(unknown.status).toBe(422);
      expect(unknown.body.errors[0]?.code).toBe("license_not_found");
      for (const type of [undefined, "installer"]) {
        const unbound = await callStack({
          _connectorId: SHOPIFY.id,
          ...(type ? { type } : {}),
          function: "installerFunction",
          options: { ...options, _connectorId: SHOPIFY.id },
        });
        expect(unbound.status).toBe(422);
        expect(unbound.body.errors[0]).toEqual({
          code: "license_not_found",
          message: `No license of connector ${SHOPIFY.key} is bound to integration ${options._integrationId}.`,
        });
      }
    });

    it("finds the license from the integration alone: the one integrator.io bound, recorded on our license", async () => {
      const user = await newUser(harness, "bound");
      const ours = await issueLicense(harness, user.email);
      const listingsBefore = await licenseListings();
      const answer = await install(user.token);
      expect(answer.status).toBe(201);
      const integrationId = answer.body._id;
      expect((await harness.installs.get(integrationId))?.licenseId).toBe(ours.licenseId);
      if (dialect === "typed") {
        // No license in the options: one listing of the connector's licenses found it, and the
        // binding is kept on our license's record for the next call.
        expect(await licenseListings()).toBe(listingsBefore + 1);
        expect((await harness.licenses.owner(ours.licenseId))?.integrationId).toBe(integrationId);
      } else {
        expect(await licenseListings()).toBe(listingsBefore);
      }
      // Later calls about the integration find it through the install record, without a listing.
      const listingsAfter = await licenseListings();
      const pushed = await apiCall(harness.sim, VENDOR_TOKEN, "PUT", `/connectors/${SHOPIFY.id}/update`, {
        _integrationIds: [integrationId],
      });
      expect(pushed.status).toBe(200);
      const edition = await apiCall(
        harness.sim,
        user.token,
        "PUT",
        `/integrations/${integrationId}/settings/changeEdition`,
        {},
      );
      expect(edition.status).toBe(200);
      expect(await licenseListings()).toBe(listingsAfter);
    });

    it("an integration reconcile saw bound to our license is found in the store, without a listing", async () => {
      const user = await newUser(harness, "recorded");
      const ours = await issueLicense(harness, user.email, { edition: "premium" });
      const integrationId = "0123456789abcdef0123beee";
      expect(await harness.licenses.bindIntegration(ours.licenseId, integrationId)).toBe(true);
      const before = await licenseListings();
      const changed = await callStack({
        _connectorId: SHOPIFY.id,
        type: "setting",
        function: "changeEdition",
        options: { bearerToken: "t", _integrationId: integrationId, opts: { connectorEdition: "premium" } },
      });
      expect(changed).toEqual({ status: 200, body: { success: true, edition: "premium" } });
      expect(await licenseListings()).toBe(before);
      // A license id we do not own is never recorded.
      expect(await harness.licenses.bindIntegration("0123456789abcdef0123f00d", integrationId)).toBe(false);
    });

    it("answers a rejected one-time token with 422 (never 5xx)", async () => {
      const user = await newUser(harness, "badtoken");
      const license = await issueLicense(harness, user.email);
      const answer = await callStack({
        _connectorId: SHOPIFY.id,
        function: "installerFunction",
        options: {
          bearerToken: "revoked-token",
          _integrationId: "0123456789abcdef01234567",
          license: { _id: license.licenseId },
        },
      });
      expect(answer.status).toBe(422);
      expect(answer.body.errors[0]?.code).toBe("unauthorized");
      expect(answer.body.errors[0]?.message).not.toContain("revoked-token");
    });

    it("leaves a failing step for the wizard; the step's retry completes the install once", async () => {
      stepTwoFails = true;
      const user = await newUser(harness, "wizard");
      await issueLicense(harness, user.email, { connectorId: TEST_APP.id });
      const answer = await install(user.token, TEST_APP.id);
      expect(answer.status).toBe(201);
      const integrationId = answer.body._id;
      expect(answer.body.mode).toBe("install");
      expect(answer.body.install.map((step) => step.completed)).toEqual([true, false]);
      expect((await harness.installs.get(integrationId))?.state).toBe("installing");

      const failed = await apiCall<Errors>(
        harness.sim,
        user.token,
        "PUT",
        `/integrations/${integrationId}/installer/installTwo`,
        {},
      );
      expect(failed.status).toBe(422);
      expect(failed.body.errors[0]?.code).toBe("not_ready");

      stepTwoFails = false;
      const retried = await apiCall<{ success: boolean }>(
        harness.sim,
        user.token,
        "PUT",
        `/integrations/${integrationId}/installer/installTwo`,
        {},
      );
      expect(retried.status).toBe(200);
      expect(retried.body.success).toBe(true);
      const integration = await apiCall<Integration>(
        harness.sim,
        user.token,
        "GET",
        `/integrations/${integrationId}`,
      );
      expect(integration.body.mode).toBe("settings");
      expect((await harness.installs.get(integrationId))?.state).toBe("installed");
      expect(await eventsOf("install.completed", integrationId)).toHaveLength(1);
    });
  });

  describe("after the install", () => {
    let user: { email: string; token: string };
    let integrationId: string;
    beforeAll(async () => {
      user = await newUser(harness, "lifecycle");
      await issueLicense(harness, user.email);
      integrationId = (await install(user.token)).body._id;
    });

    it("updateFunction: the pushed version is recorded and updateInProgress cleared", async () => {
      await control(harness.sim, "POST", "/_sim/connectors", { _id: SHOPIFY.id, version: "1.1.0" });
      const pushed = await apiCall(harness.sim, VENDOR_TOKEN, "PUT", `/connectors/${SHOPIFY.id}/update`, {
        _integrationIds: [integrationId],
      });
      expect(pushed.status).toBe(200);
      const integration = await apiCall<Integration>(
        harness.sim,
        user.token,
        "GET",
        `/integrations/${integrationId}`,
      );
      expect(integration.body).toMatchObject({ version: "1.1.0", updateInProgress: false });
      expect((await harness.installs.get(integrationId))?.version).toBe("1.1.0");
    });

    it("persistSettings: valid settings are saved, invalid ones refused with the field named", async () => {
      const saved = await apiCall<{ success: boolean; pending: unknown }>(
        harness.sim,
        user.token,
        "PUT",
        `/integrations/${integrationId}/settings/persistSettings`,
        {
          syncInventory: true,
          inventoryIntervalMinutes: 60,
        },
      );
      expect(saved.status).toBe(200);
      expect(saved.body).toEqual({
        success: true,
        pending: { syncInventory: true, inventoryIntervalMinutes: 60 },
      });
      const refused = await apiCall<Errors>(
        harness.sim,
        user.token,
        "PUT",
        `/integrations/${integrationId}/settings/persistSettings`,
        {
          inventoryIntervalMinutes: 5,
          colour: "red",
        },
      );
      expect(refused.status).toBe(422);
      expect(refused.body.errors[0]?.code).toBe("invalid_field");
      expect(refused.body.errors[0]?.message).toMatch(
        /pending\.inventoryIntervalMinutes.*pending: unknown setting\(s\) colour|pending: unknown setting\(s\) colour.*pending\.inventoryIntervalMinutes/,
      );
      const integration = await apiCall<Integration>(
        harness.sim,
        user.token,
        "GET",
        `/integrations/${integrationId}`,
      );
      expect(integration.body.settings).toEqual({ syncInventory: true, inventoryIntervalMinutes: 60 });
    });

    it("changeEdition: only to the edition the license grants, however integrator.io names it", async () => {
      const typed = (connectorEdition: string) => ({
        _connectorId: SHOPIFY.id,
        type: "setting",
        function: "changeEdition",
        options: { bearerToken: "t", _integrationId: integrationId, opts: { connectorEdition } },
      });
      const flat = (toEdition: string) => ({
        _connectorId: SHOPIFY.id,
        type: "setting",
        function: "changeEdition",
        options: {
          bearerToken: "t",
          fromEdition: "standard",
          toEdition,
          integration: { _id: integrationId },
        },
      });
      for (const call of [typed("premium"), flat("premium")]) {
        const refused = await callStack(call);
        expect(refused.status).toBe(422);
        expect(refused.body.errors[0]?.code).toBe("edition_not_licensed");
      }
      for (const call of [typed("gold"), flat("gold")]) {
        const unknown = await callStack(call);
        expect(unknown.status).toBe(422);
        expect(unknown.body.errors[0]?.code).toBe("invalid_field");
      }
      const granted = await apiCall(
        harness.sim,
        user.token,
        "PUT",
        `/integrations/${integrationId}/settings/changeEdition`,
        {},
      );
      expect(granted.status).toBe(200);
      expect((await harness.installs.get(integrationId))?.edition).toBe("standard");
    });

    it("getMappingMetadata: the module's answer, else {}", async () => {
      const answer = await apiCall(
        harness.sim,
        user.token,
        "PUT",
        `/integrations/${integrationId}/settings/getMappingMetadata`,
        {},
      );
      expect(answer).toMatchObject({ status: 200, body: {} });
    });

    it("uninstall: steps' uninstallers remove what they made, the install is marked removed once", async () => {
      const removed = await apiCall(
        harness.sim,
        user.token,
        "DELETE",
        `/integrations/${integrationId}/install`,
      );
      expect(removed.status).toBe(204);
      const connections = await apiCall<{ _integrationId: string }[]>(
        harness.sim,
        user.token,
        "GET",
        "/connections",
      );
      expect(connections.body.filter((c) => c._integrationId === integrationId)).toEqual([]);
      const flows = await apiCall<{ _integrationId: string }[]>(harness.sim, user.token, "GET", "/flows");
      expect(flows.body.filter((f) => f._integrationId === integrationId)).toEqual([]);
      expect(await harness.installs.get(integrationId)).toMatchObject({
        state: "removed",
        removedAt: expect.any(String),
      });
      expect(await eventsOf("install.removed", integrationId)).toHaveLength(1);
    });

    it("lists installs by connector and by email, newest first, a page at a time", async () => {
      const byEmail = await harness.installs.list({ connectorIds: [SHOPIFY.id], email: user.email });
      expect(byEmail.items.map((i) => i.integrationId)).toEqual([integrationId]);
      const first = await harness.installs.list({ connectorIds: [SHOPIFY.id, TEST_APP.id], limit: 2 });
      expect(first.items).toHaveLength(2);
      expect(first.nextCursor).toBeDefined();
      const all = [...first.items];
      let cursor = first.nextCursor;
      while (cursor) {
        const page = await harness.installs.list({
          connectorIds: [SHOPIFY.id, TEST_APP.id],
          limit: 2,
          cursor,
        });
        all.push(...page.items);
        cursor = page.nextCursor;
      }
      expect(new Set(all.map((i) => i.integrationId)).size).toBe(all.length);
      expect(all.some((i) => i.connectorId === TEST_APP.id)).toBe(true);
      const shopify = all.filter((i) => i.connectorId === SHOPIFY.id).map((i) => i.createdAt);
      expect(shopify).toEqual([...shopify].sort().reverse());
    });
  });

  describe("integrator.io retrying every call after a lost answer", () => {
    beforeAll(async () => {
      await control(harness.sim, "PUT", "/_sim/faults", { repeatStackCalls: true });
    });
    afterAll(async () => {
      await control(harness.sim, "PUT", "/_sim/faults", {});
    });

    it("install, update and uninstall each answer the repeat as the first call: nothing refused, made or announced twice", async () => {
      const user = await newUser(harness, "repeated");
      await issueLicense(harness, user.email);
      const installed = await install(user.token);
      expect(installed.status).toBe(201);
      const integrationId = installed.body._id;
      expect(installed.body.mode).toBe("settings");
      const connectionsOf = async () =>
        (
          await apiCall<{ _integrationId: string }[]>(harness.sim, user.token, "GET", "/connections")
        ).body.filter((c) => c._integrationId === integrationId);
      expect(await connectionsOf()).toHaveLength(2);
      expect((await harness.installs.get(integrationId))?.state).toBe("installed");

      await control(harness.sim, "POST", "/_sim/connectors", { _id: SHOPIFY.id, version: "1.3.0" });
      const pushed = await apiCall(harness.sim, VENDOR_TOKEN, "PUT", `/connectors/${SHOPIFY.id}/update`, {
        _integrationIds: [integrationId],
      });
      expect(pushed.status).toBe(200);
      expect((await harness.installs.get(integrationId))?.version).toBe("1.3.0");

      const removed = await apiCall(
        harness.sim,
        user.token,
        "DELETE",
        `/integrations/${integrationId}/install`,
      );
      expect(removed.status).toBe(204);
      expect(await connectionsOf()).toEqual([]);
      expect((await harness.installs.get(integrationId))?.state).toBe("removed");
      expect(await eventsOf("install.completed", integrationId)).toHaveLength(1);
      expect(await eventsOf("install.removed", integrationId)).toHaveLength(1);
    });
  });

  describe("install records", () => {
    it("a repeated installer keeps the record's creation and state, so the install completes once", async () => {
      const install = {
        integrationId: "0123456789abcdef0123beef",
        connectorId: SHOPIFY.id,
        connectorKey: SHOPIFY.key,
        licenseId: "lic1",
        email: "Repeat@Example.com ",
      };
      const first = await harness.installs.begin(install);
      expect(first).toMatchObject({ state: "installing", email: "repeat@example.com" });
      expect(
        await harness.installs.update(install.integrationId, { state: "installed" }, "installed"),
      ).toBeDefined();
      const again = await harness.installs.begin({ ...install, version: "1.0.1" });
      expect(again).toMatchObject({ state: "installed", createdAt: first.createdAt, version: "1.0.1" });
      expect(
        await harness.installs.update(install.integrationId, { state: "installed" }, "installed"),
      ).toBeUndefined();
      expect(await harness.installs.update("no-such-integration", { version: "2" })).toBeUndefined();
    });
  });
});
