import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import { STACK_DIALECTS, type StackDialect } from "#local/sim/integrator/stack-caller.ts";
import { type Body, nextYear, type SimClient, simClient } from "#test/helpers/integrator-sim-client.ts";
import { type StackCall, startTestStack, type TestStack } from "#test/helpers/integrator-sim-stack.ts";

// The trigger table of docs/architecture.md §3: which integrator.io action calls which stack
// function, how — in both of integrator.io's dialects (typed, the documented default; flat, with
// the license).
const VENDOR = "vendor-token-for-stack-tests";
const SYSTEM_TOKEN = "system-token-for-stack-tests";
const CONNECTOR = "app-connector";

/** The `type` each call carries in each dialect (absent: no `type`). */
const TYPES: Record<StackDialect, Record<string, string | undefined>> = {
  typed: {
    installerFunction: "installer",
    step: "installer",
    updateFunction: "installer",
    preUninstallFunction: "uninstaller",
    stepUninstaller: "uninstaller",
    uninstallerFunction: "uninstaller",
  },
  flat: {
    installerFunction: undefined,
    step: undefined,
    updateFunction: undefined,
    preUninstallFunction: undefined,
    stepUninstaller: "uninstaller",
    uninstallerFunction: undefined,
  },
};

describe.each(STACK_DIALECTS)("the %s dialect", (dialect) => {
  const typeOf = (role: string) => TYPES[dialect][role];
  const typeText = (role: string) => typeOf(role) ?? "no type";
  let sim: IntegratorSimulator;
  let client: SimClient;
  let stack: TestStack;
  let customer: { _id: string; email: string; token: string };
  let license: Body;
  let integrationId: string;

  const vendor = (method: string, path: string, body?: unknown) => client.api(VENDOR, method, path, body);
  const asCustomer = (method: string, path: string, body?: unknown) =>
    client.api(customer.token, method, path, body);

  const steps = [
    {
      name: "Connect shop",
      installerFunction: "connectShop",
      uninstallerFunction: "disconnectShop",
      completed: false,
    },
    {
      name: "Sync orders",
      installerFunction: "syncOrders",
      uninstallerFunction: "stopOrders",
      completed: false,
    },
  ];

  /**
   * Every call carries the stack's system token, a one-time token, the integration and the license's
   * opts; the flat dialect adds `_connectorId` and the license, the typed one `_connectorId` only
   * for the connector's installer.
   */
  function expectEnvelope(
    call: StackCall | undefined,
    expected: { type?: string; function: string; edition?: string },
  ) {
    expect(call).toBeDefined();
    const body = call?.body;
    expect(call?.authorization).toBe(`Bearer ${SYSTEM_TOKEN}`);
    expect(body._connectorId).toBe(CONNECTOR);
    expect(body.function).toBe(expected.function);
    if (expected.type === undefined) expect(body).not.toHaveProperty("type");
    else expect(body.type).toBe(expected.type);
    expect(typeof body.options.bearerToken).toBe("string");
    expect(body.options.bearerToken).not.toBe(VENDOR);
    expect(body.options._integrationId).toBe(integrationId);
    expect(body.options.opts).toEqual({ connectorEdition: expected.edition ?? "standard" });
    if (dialect === "typed") {
      expect(body.options).not.toHaveProperty("license");
      if (expected.function === "installerFunction") expect(body.options._connectorId).toBe(CONNECTOR);
      else expect(body.options).not.toHaveProperty("_connectorId");
      return;
    }
    expect(body.options._connectorId).toBe(CONNECTOR);
    expect(body.options.license).toMatchObject({
      _id: license._id,
      user: { email: customer.email },
      expires: license.expires,
      opts: { connectorEdition: expected.edition ?? "standard" },
    });
  }

  const callsSince = (count: number) => stack.calls.slice(count);

  beforeAll(async () => {
    sim = await startIntegratorSimulator({ vendorToken: VENDOR, quiet: true });
    client = simClient(sim);
    stack = await startTestStack();
    const stackResource = await vendor("POST", "/stacks", {
      type: "server",
      server: { hostURI: stack.hostURI, systemToken: SYSTEM_TOKEN },
    });
    expect(stackResource.status).toBe(201);
    await client.control("POST", "/connectors", {
      _id: CONNECTOR,
      name: "Shop to ERP",
      _stackId: stackResource.body._id,
      installerFunction: "installerFunction",
      uninstallerFunction: "uninstallerFunction",
      preUninstallFunction: "preUninstallFunction",
      updateFunction: "updateFunction",
      version: "1.0.0",
      stackDialect: dialect,
    });
    customer = await client.user("customer@example.com", "Customer");
    license = (
      await vendor("POST", `/connectors/${CONNECTOR}/licenses`, {
        email: customer.email,
        expires: nextYear(),
        opts: { connectorEdition: "standard" },
      })
    ).body;
  });
  afterAll(async () => {
    await sim.stop();
    await stack.stop();
  });

  describe("the trigger table, through an integration app's life", () => {
    it(`install: creates the integration, attaches the license, then calls installerFunction (${typeText("installerFunction")})`, async () => {
      const seenDuringCall: Body = {};
      stack.behave(async (call) => {
        const token = call.body.options.bearerToken;
        const id = call.body.options._integrationId;
        // integrator.io created the integration and attached the license before calling.
        seenDuringCall.license = (
          await client.api(token, "GET", `/connectors/${CONNECTOR}/licenses/${license._id}`)
        ).body;
        seenDuringCall.put = await client.api(token, "PUT", `/integrations/${id}`, { install: steps });
        return { status: 200, body: {} };
      });
      const before = stack.calls.length;
      const installed = await asCustomer("POST", `/integrations/${CONNECTOR}/install`);
      expect(installed.status).toBe(201);
      integrationId = installed.body._id;
      expect(installed.body).toMatchObject({
        _connectorId: CONNECTOR,
        mode: "install",
        install: steps,
        settings: {},
        version: "1.0.0",
      });

      const calls = callsSince(before);
      expect(calls).toHaveLength(1);
      expectEnvelope(calls[0], { type: typeOf("installerFunction"), function: "installerFunction" });
      expect(seenDuringCall.license._integrationId).toBe(integrationId);
      expect(seenDuringCall.put.status).toBe(200);

      const attached = await vendor("GET", `/connectors/${CONNECTOR}/licenses/${license._id}`);
      expect(attached.body._integrationId).toBe(integrationId);
      expect(attached.body.user).toEqual({ email: customer.email, _id: customer._id, name: "Customer" });
      const installBase = await vendor("GET", `/connectors/${CONNECTOR}/installBase`);
      expect(installBase.body).toEqual([
        expect.objectContaining({
          _integrationId: integrationId,
          _userId: customer._id,
          email: customer.email,
        }),
      ]);
    });

    it(`install step: calls the step's installerFunction (${typeText("step")}) and applies stepsToUpdate`, async () => {
      const before = stack.calls.length;
      stack.behave(() => ({
        status: 200,
        body: { success: true, stepsToUpdate: [{ ...steps[0], completed: true, _connectionId: "conn-1" }] },
      }));
      const first = await asCustomer("PUT", `/integrations/${integrationId}/installer/connectShop`, {
        shopUrl: "https://s",
      });
      expect(first.status).toBe(200);
      expect(first.body.success).toBe(true);
      const [call] = callsSince(before);
      expectEnvelope(call, { type: typeOf("step"), function: "connectShop" });
      expect(call?.body.options.shopUrl).toBe("https://s");
      let integration = (await asCustomer("GET", `/integrations/${integrationId}`)).body;
      expect(integration.install[0]).toMatchObject({ completed: true, _connectionId: "conn-1" });
      expect(integration.mode).toBe("install");

      // A bare {success:true} completes the step it ran; the last step ends the install.
      stack.behave(() => ({ status: 200, body: { success: true } }));
      const second = await asCustomer("PUT", `/integrations/${integrationId}/installer/syncOrders`);
      expect(second.status).toBe(200);
      expectEnvelope(stack.calls.at(-1), { type: typeOf("step"), function: "syncOrders" });
      integration = (await asCustomer("GET", `/integrations/${integrationId}`)).body;
      expect(integration.install[1].completed).toBe(true);
      expect(integration.mode).toBe("settings");

      const unknown = await asCustomer("PUT", `/integrations/${integrationId}/installer/nope`);
      expect(unknown.status).toBe(422);
    });

    it("settings: persistSettings (type setting) gets the body as pending and saves what it answers", async () => {
      const pending = { flows: { orders: { enabled: true } } };
      stack.behave((call) => ({
        status: 200,
        body: { success: true, pending: { ...call.body.options.pending, checked: 1 } },
      }));
      const before = stack.calls.length;
      const saved = await asCustomer(
        "PUT",
        `/integrations/${integrationId}/settings/persistSettings`,
        pending,
      );
      expect(saved.status).toBe(200);
      expect(saved.body).toEqual({ success: true, pending: { ...pending, checked: 1 } });
      const [call] = callsSince(before);
      expectEnvelope(call, { type: "setting", function: "persistSettings" });
      expect(call?.body.options.pending).toEqual(pending);
      expect((await asCustomer("GET", `/integrations/${integrationId}`)).body.settings).toEqual({
        ...pending,
        checked: 1,
      });
    });

    it("settings: refreshMetadata and other functions get the body's fields and answer the result", async () => {
      stack.behave((call) => ({
        status: 200,
        body: { field: call.body.options.fieldId, options: ["a", "b"] },
      }));
      const refreshed = await asCustomer("PUT", `/integrations/${integrationId}/settings/refreshMetadata`, {
        fieldId: "f1",
      });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body).toEqual({ field: "f1", options: ["a", "b"] });
      expectEnvelope(stack.calls.at(-1), { type: "setting", function: "refreshMetadata" });
    });

    it("repeatStackCalls: each call is made twice with the same options; the second answer counts", async () => {
      await client.control("PUT", "/faults", { repeatStackCalls: true });
      let answers = 0;
      stack.behave(() => ({ status: 200, body: { answer: ++answers } }));
      const before = stack.calls.length;
      try {
        const answered = await asCustomer("PUT", `/integrations/${integrationId}/settings/refreshMetadata`, {
          fieldId: "f2",
        });
        expect(answered).toMatchObject({ status: 200, body: { answer: 2 } });
      } finally {
        await client.control("PUT", "/faults", {});
      }
      const calls = callsSince(before);
      expect(calls).toHaveLength(2);
      expect(calls[1]?.body).toEqual(calls[0]?.body);
    });

    it("settings: changeEdition moves to the license's edition (flat: with fromEdition, toEdition, the integration and the license)", async () => {
      const upgraded = await vendor("PUT", `/connectors/${CONNECTOR}/licenses/${license._id}`, {
        expires: license.expires,
        opts: { connectorEdition: "premium" },
      });
      expect(upgraded.status).toBe(200);
      stack.behave(() => ({ status: 200, body: { success: true } }));
      const before = stack.calls.length;
      expect((await asCustomer("PUT", `/integrations/${integrationId}/settings/changeEdition`)).status).toBe(
        200,
      );
      const [call] = callsSince(before);
      expectEnvelope(call, { type: "setting", function: "changeEdition", edition: "premium" });
      if (dialect === "typed") {
        // The documented options only: the edition is the license's `opts.connectorEdition`.
        expect(Object.keys(call?.body.options ?? {}).sort()).toEqual([
          "_integrationId",
          "bearerToken",
          "opts",
        ]);
        return;
      }
      expect(call?.body.options).toMatchObject({
        fromEdition: "standard",
        toEdition: "premium",
        integration: { _id: integrationId, _connectorId: CONNECTOR },
      });
      // The integration now runs premium: a second change starts from there.
      await asCustomer("PUT", `/integrations/${integrationId}/settings/changeEdition`, {
        toEdition: "enterprise",
      });
      expect(stack.calls.at(-1)?.body.options).toMatchObject({
        fromEdition: "premium",
        toEdition: "enterprise",
      });
    });

    it(`update: calls updateFunction (${typeText("updateFunction")}) once per integration while updateInProgress, then sets the version`, async () => {
      await client.control("POST", "/connectors", { _id: CONNECTOR, version: "2.0.0" });
      const seen: Body[] = [];
      stack.behave(async (call) => {
        const token = call.body.options.bearerToken;
        seen.push((await client.api(token, "GET", `/integrations/${call.body.options._integrationId}`)).body);
        return { status: 200, body: {} };
      });
      const before = stack.calls.length;
      const pushed = await vendor("PUT", `/connectors/${CONNECTOR}/update`, {
        _integrationIds: [integrationId],
      });
      expect(pushed.status).toBe(200);
      const calls = callsSince(before);
      expect(calls).toHaveLength(1);
      expectEnvelope(calls[0], {
        type: typeOf("updateFunction"),
        function: "updateFunction",
        edition: "premium",
      });
      expect(seen[0]?.updateInProgress).toBe(true);
      const after = (await asCustomer("GET", `/integrations/${integrationId}`)).body;
      expect(after).toMatchObject({ version: "2.0.0", updateInProgress: false });

      const wrong = await vendor("PUT", `/connectors/${CONNECTOR}/update`, {
        _integrationIds: ["not-an-install"],
      });
      expect(wrong.status).toBe(422);
      expect(wrong.body.errors[0]).toMatchObject({ code: "invalid_ref", field: "_integrationIds" });
      expect((await vendor("PUT", `/connectors/${CONNECTOR}/update`, {})).body.errors[0].code).toBe(
        "missing_required_field",
      );
      expect(
        (await asCustomer("PUT", `/connectors/${CONNECTOR}/update`, { _integrationIds: [integrationId] }))
          .status,
      ).toBe(403);
      expect(stack.calls.length).toBe(before + 1);
    });

    it("a stack answering non-2xx fails the call with 422 carrying the stack's errors, and changes nothing", async () => {
      stack.behave(() => ({
        status: 422,
        body: { errors: [{ code: "shop_unreachable", message: "The shop is down." }] },
      }));
      const failed = await asCustomer("PUT", `/integrations/${integrationId}/settings/persistSettings`, {
        broken: true,
      });
      expect(failed.status).toBe(422);
      expect(failed.body.errors).toEqual([{ code: "shop_unreachable", message: "The shop is down." }]);
      expect((await asCustomer("GET", `/integrations/${integrationId}`)).body.settings).not.toHaveProperty(
        "broken",
      );

      stack.behave(() => ({ status: 500, body: "oops" }));
      const crashed = await asCustomer("PUT", `/integrations/${integrationId}/settings/refreshMetadata`);
      expect(crashed.status).toBe(422);
      expect(typeof crashed.body.errors[0].code).toBe("string");
    });

    it(`uninstall: preUninstallFunction (${typeText("preUninstallFunction")}), each step's uninstallerFunction (${typeText("stepUninstaller")}), uninstallerFunction (${typeText("uninstallerFunction")}); then release`, async () => {
      stack.behave(() => ({ status: 200, body: { success: true } }));
      const before = stack.calls.length;
      const removed = await asCustomer("DELETE", `/integrations/${integrationId}/install`);
      expect(removed.status).toBe(204);
      const calls = callsSince(before);
      expect(calls.map((c) => [c.body.type, c.body.function])).toEqual([
        [typeOf("preUninstallFunction"), "preUninstallFunction"],
        [typeOf("stepUninstaller"), "disconnectShop"],
        [typeOf("stepUninstaller"), "stopOrders"],
        [typeOf("uninstallerFunction"), "uninstallerFunction"],
      ]);
      for (const call of calls)
        expectEnvelope(call, { type: call.body.type, function: call.body.function, edition: "premium" });
      expect(new Set(calls.map((c) => c.body.options.bearerToken)).size).toBe(4);

      expect((await asCustomer("GET", `/integrations/${integrationId}`)).status).toBe(404);
      const released = await vendor("GET", `/connectors/${CONNECTOR}/licenses/${license._id}`);
      expect(released.body).not.toHaveProperty("_integrationId");
      expect((await vendor("GET", `/connectors/${CONNECTOR}/installBase`)).body).toEqual([]);
    });

    it("a failing installer leaves nothing behind, and the license can be installed again", async () => {
      stack.behave(() => ({
        status: 422,
        body: { errors: [{ code: "invalid_field", message: "bad shop" }] },
      }));
      const failed = await asCustomer("POST", `/integrations/${CONNECTOR}/install`);
      expect(failed.status).toBe(422);
      expect(failed.body.errors[0]).toMatchObject({ code: "invalid_field", message: "bad shop" });
      expect((await asCustomer("GET", "/integrations")).body).toEqual([]);
      expect(
        (await vendor("GET", `/connectors/${CONNECTOR}/licenses/${license._id}`)).body,
      ).not.toHaveProperty("_integrationId");
      stack.behave(() => ({ status: 200, body: {} }));
      expect((await asCustomer("POST", `/integrations/${CONNECTOR}/install`)).status).toBe(201);
    });
  });
});
