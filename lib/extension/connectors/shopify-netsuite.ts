import * as z from "zod/mini";
import { IntegratorError } from "#lib/integrator/errors.ts";
import { defineConnector, type StepContext } from "../types.ts";

/**
 * The example connector module: Shopify ↔ NetSuite (catalog key `shopify-netsuite`). Everything
 * here goes through `context.integrator`, the call's one-time token, so it can only touch this
 * integration. The built-in lifecycle (license check, install record, domain events, version and
 * edition bookkeeping) runs around it; see "The integrator.io stack" in the README.
 */

/** A connection the step made earlier, if it still exists, else a new one. */
async function ensureConnection(context: StepContext, fields: { name: string; type: string }) {
  const existing = context.step._connectionId;
  if (typeof existing === "string") {
    const found = await context.integrator.connections.get(existing).catch((error: unknown) => {
      if (error instanceof IntegratorError && error.status === 404) return undefined;
      throw error;
    });
    if (found) return { _connectionId: found._id };
  }
  const created = await context.integrator.connections.create({
    ...fields,
    _integrationId: context.integration._id,
  });
  return { _connectionId: created._id };
}

/** Deletes what a step made; already gone is fine. */
async function removeIgnoringMissing(remove: () => Promise<void>) {
  try {
    await remove();
  } catch (error) {
    if (!(error instanceof IntegratorError && error.status === 404)) throw error;
  }
}

const connectionIds = (context: StepContext) =>
  (context.integration.install ?? [])
    .map((step) => step._connectionId)
    .filter((id): id is string => typeof id === "string");

export const shopifyNetsuite = defineConnector({
  key: "shopify-netsuite",
  version: "1.0.0",
  installSteps: [
    {
      name: "Shopify connection",
      description: "Connects your Shopify store.",
      installerFunction: "installShopifyConnection",
      uninstallerFunction: "uninstallShopifyConnection",
      install: (_options, context) => ensureConnection(context, { name: "Shopify", type: "http" }),
      uninstall: async (_options, context) => {
        const id = context.step._connectionId;
        if (typeof id === "string")
          await removeIgnoringMissing(() => context.integrator.connections.delete(id));
      },
    },
    {
      name: "NetSuite connection",
      description: "Connects your NetSuite account.",
      installerFunction: "installNetSuiteConnection",
      uninstallerFunction: "uninstallNetSuiteConnection",
      install: (_options, context) => ensureConnection(context, { name: "NetSuite", type: "netsuite" }),
      uninstall: async (_options, context) => {
        const id = context.step._connectionId;
        if (typeof id === "string")
          await removeIgnoringMissing(() => context.integrator.connections.delete(id));
      },
    },
    {
      name: "Order flows",
      description: "Creates the flows that sync Shopify orders into NetSuite sales orders.",
      installerFunction: "installOrderFlows",
      uninstallerFunction: "uninstallOrderFlows",
      install: async (_options, context) => {
        const made = context.step._flowIds;
        if (Array.isArray(made) && made.length > 0) return { _flowIds: made };
        const flow = await context.integrator.flows.create({
          name: "Shopify orders to NetSuite sales orders",
          _integrationId: context.integration._id,
          _connectionIds: connectionIds(context),
        });
        return { _flowIds: [flow._id] };
      },
      uninstall: async (_options, context) => {
        const made = Array.isArray(context.step._flowIds) ? context.step._flowIds : [];
        for (const id of made)
          if (typeof id === "string") await removeIgnoringMissing(() => context.integrator.flows.delete(id));
      },
    },
  ],
  settingsSchema: z.strictObject({
    syncInventory: z.optional(z.boolean()),
    inventoryIntervalMinutes: z.optional(z.number().check(z.int(), z.minimum(15), z.maximum(1440))),
    orderStatus: z.optional(z.enum(["paid", "fulfilled", "any"])),
    netsuiteLocation: z.optional(z.string().check(z.minLength(1))),
  }),
  hooks: {
    /** preSavePage hook of the orders export: drops Shopify test orders before they reach NetSuite. */
    preSavePageOrders: (options) => {
      const data = Array.isArray(options.data) ? options.data : [];
      const live = data.filter(
        (order) => !(order && typeof order === "object" && (order as { test?: unknown }).test === true),
      );
      return { data: live, errors: Array.isArray(options.errors) ? options.errors : [] };
    },
  },
});
