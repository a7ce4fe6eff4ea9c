import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "#lib/aws.ts";
import { loadConfig } from "#lib/config.ts";
import { RecordedDomainEvents } from "#lib/events/domain-events.ts";
import { Installs } from "#lib/extension/installs.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Licenses } from "#lib/store/licenses.ts";
import { STACK_DIALECTS, type StackDialect } from "#local/sim/integrator/stack-caller.ts";
import { reconcile } from "#test/helpers/admin-api.ts";
import {
  connectorLicenses,
  createIntegratorUser,
  eventually,
  integratorApi,
  simControl,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";

const CONNECTOR = { key: "shopify-netsuite", id: "65f1c0a2b7d94e3a1c8b7d20" } as const;

type Integration = {
  _id: string;
  mode: string;
  version?: string;
  updateInProgress?: boolean;
  settings?: Record<string, unknown>;
  install: { installerFunction?: string; completed?: boolean }[];
};
type Errors = { errors: { code: string; message: string }[] };

let stack: TestStack;
let installs: Installs;
let licenses: Licenses;
let events: RecordedDomainEvents;
beforeAll(async () => {
  stack = await startTestStack();
  const table = new Table(createDocumentClient(loadConfig(stack.env)), stack.config.tableName);
  installs = new Installs(table);
  licenses = new Licenses(table);
  events = new RecordedDomainEvents(table);
});
afterAll(async () => {
  await stack?.stop();
});

const uniqueEmail = (label: string) =>
  `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;

/** A purchase in the Stripe simulator, until the worker has issued the license (in integrator.io and our store). */
async function purchase(label: string) {
  const email = uniqueEmail(label);
  const user = await createIntegratorUser(stack, email);
  const customer = await stack.stripe.customers.create({ email });
  const subscription = await stack.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: "price_std_month" }],
  });
  const license = await eventually(
    async () => (await connectorLicenses(stack, CONNECTOR.id)).find((l) => l.user.email === email),
    {
      what: "the license in integrator.io",
    },
  );
  await eventually(async () => (await licenses.get(customer.id, CONNECTOR.key))?.licenseId === license._id, {
    what: "the license in the store",
  });
  return { email, user, customer, subscription, license };
}

/** The dialect the integrator.io simulator calls the stack in from now on. */
const speak = (dialect: StackDialect) =>
  simControl(stack.integratorOrigin, "POST", "/_sim/connectors", {
    _id: CONNECTOR.id,
    stackDialect: dialect,
  });

/** The buyer uninstalls: integrator.io calls the stack, deletes the integration, releases the license. */
const uninstall = (integrationId: string, token: string) =>
  integratorApi(stack, "DELETE", `/integrations/${integrationId}/install`, undefined, token);

/** The buyer installs the connector: integrator.io creates the integration and calls the stack. */
const install = (token: string) =>
  integratorApi<Integration & Partial<Errors>>(
    stack,
    "POST",
    `/integrations/${CONNECTOR.id}/install`,
    {},
    token,
  );

const admin = async <T>(path: string) => {
  const response = await fetch(`${stack.urls.api}${path}`, {
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
  return { status: response.status, body: (await response.json()) as T };
};

describe("the install lifecycle, driven from integrator.io through the local stack", () => {
  // integrator.io calls a stack in two dialects: typed (the documented options, no license) and flat.
  it.each(STACK_DIALECTS)(
    "installs, updates, changes settings and edition, and uninstalls a purchased connector (%s dialect)",
    async (dialect) => {
      await speak(dialect);
      const { email, user, customer, subscription, license } = await purchase(`lifecycle-${dialect}`);

      // Install by the buyer: integrator.io calls the stack's installerFunction.
      const installed = await install(user.token);
      expect(installed.status).toBe(201);
      const integrationId = installed.body._id;
      expect(installed.body.mode).toBe("settings");
      expect(installed.body.install.length).toBeGreaterThan(0);
      expect(installed.body.install.every((step) => step.completed === true)).toBe(true);
      expect(await installs.get(integrationId)).toMatchObject({
        connectorId: CONNECTOR.id,
        licenseId: license._id,
        customerId: customer.id,
        email,
        edition: "standard",
        state: "installed",
      });
      const listed = await admin<{ data: { integrationId: string }[] }>(
        `/admin/installs?connector=${CONNECTOR.key}&email=${encodeURIComponent(email)}`,
      );
      expect(listed.status).toBe(200);
      expect(listed.body.data.map((i) => i.integrationId)).toEqual([integrationId]);
      const view = await admin<{ installs?: { integrationId: string }[] }>(`/admin/customers/${customer.id}`);
      expect(view.body.installs?.map((i) => i.integrationId)).toEqual([integrationId]);

      // The vendor pushes an update.
      await simControl(stack.integratorOrigin, "POST", "/_sim/connectors", {
        _id: CONNECTOR.id,
        version: "1.2.0",
      });
      const pushed = await integratorApi(stack, "PUT", `/connectors/${CONNECTOR.id}/update`, {
        _integrationIds: [integrationId],
      });
      expect(pushed.status).toBe(200);
      let integration = await integratorApi<Integration>(
        stack,
        "GET",
        `/integrations/${integrationId}`,
        undefined,
        user.token,
      );
      expect(integration.body).toMatchObject({ version: "1.2.0", updateInProgress: false });
      expect((await installs.get(integrationId))?.version).toBe("1.2.0");

      // The customer changes a setting.
      const settings = await integratorApi(
        stack,
        "PUT",
        `/integrations/${integrationId}/settings/persistSettings`,
        { syncInventory: true },
        user.token,
      );
      expect(settings).toEqual({ status: 200, body: { success: true, pending: { syncInventory: true } } });
      integration = await integratorApi<Integration>(
        stack,
        "GET",
        `/integrations/${integrationId}`,
        undefined,
        user.token,
      );
      expect(integration.body.settings).toMatchObject({ syncInventory: true });

      // Premium before paying for it: refused when asked for by name (flat), and the typed dialect's
      // change moves only to the edition the license holds. After the upgrade in Stripe it is premium.
      const early = await integratorApi<Errors>(
        stack,
        "PUT",
        `/integrations/${integrationId}/settings/changeEdition`,
        { toEdition: "premium" },
        user.token,
      );
      if (dialect === "flat") {
        expect(early.status).toBe(422);
        expect(early.body.errors[0]?.code).toBe("edition_not_licensed");
      } else {
        expect(early.status).toBe(200);
        expect((await installs.get(integrationId))?.edition).toBe("standard");
      }
      const itemId = subscription.items.data[0]?.id ?? "";
      await stack.stripe.subscriptions.update(subscription.id, {
        items: [{ id: itemId, price: "price_prem_month" }],
      });
      await eventually(
        async () =>
          (await connectorLicenses(stack, CONNECTOR.id)).find((l) => l._id === license._id)?.opts
            .connectorEdition === "premium",
        {
          what: "the premium license",
        },
      );
      await eventually(
        async () => (await licenses.get(customer.id, CONNECTOR.key))?.opts.connectorEdition === "premium",
        { what: "the premium license in the store" },
      );
      const changed = await integratorApi(
        stack,
        "PUT",
        `/integrations/${integrationId}/settings/changeEdition`,
        {},
        user.token,
      );
      expect(changed.status).toBe(200);
      expect((await installs.get(integrationId))?.edition).toBe("premium");

      // Uninstall.
      const removed = await uninstall(integrationId, user.token);
      expect(removed.status).toBe(204);
      expect((await installs.get(integrationId))?.state).toBe("removed");
      const published = (await events.list())
        .filter((event) => event.detail.integrationId === integrationId)
        .map((event) => event.type);
      expect(published).toEqual(["install.completed", "install.removed"]);
    },
  );

  it("reconcile records the integration integrator.io bound each of our licenses to, and its release", async () => {
    await speak("flat");
    const { user, license } = await purchase("bound");
    const installed = await install(user.token);
    expect(installed.status).toBe(201);
    const integrationId = installed.body._id;
    // The flat dialect named the license, so nothing had to look the binding up yet.
    expect((await licenses.owner(license._id))?.integrationId).toBeUndefined();
    expect((await reconcile(stack)).state).toBe("done");
    expect((await licenses.owner(license._id))?.integrationId).toBe(integrationId);
    expect((await licenses.byIntegration(integrationId))?.licenseId).toBe(license._id);

    const removed = await uninstall(integrationId, user.token);
    expect(removed.status).toBe(204);
    expect((await reconcile(stack)).state).toBe("done");
    expect((await licenses.owner(license._id))?.integrationId).toBeUndefined();
    expect(await licenses.byIntegration(integrationId)).toBeUndefined();
  });

  it("refuses an install by someone who bought nothing, and records nothing", async () => {
    const email = uniqueEmail("nolicense");
    const user = await createIntegratorUser(stack, email);
    const refused = await install(user.token);
    expect(refused.status).toBe(422);
    expect(refused.body.errors?.[0]?.code).toBe("license_not_found");
    expect((await installs.list({ connectorIds: [CONNECTOR.id], email })).items).toEqual([]);
  });

  it("answers the admin install list's bad input with 400 and a missing token with 401", async () => {
    expect((await admin("/admin/installs?connector=no-such-connector")).status).toBe(400);
    expect((await admin("/admin/installs?cursor=not-a-cursor")).status).toBe(400);
    expect((await admin("/admin/installs?limit=1000")).status).toBe(400);
    expect((await fetch(`${stack.urls.api}/admin/installs`)).status).toBe(401);
  });
});
