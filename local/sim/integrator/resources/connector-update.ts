import { z } from "zod";
import { requireVendor } from "../access.ts";
import type { ApiContext, ApiRouter } from "../context.ts";
import { invalidRef } from "../errors.ts";
import { nowIso } from "../json.ts";
import type { Integration } from "../store.ts";
import { parseBody } from "../validation.ts";
import { connectorOrNotFound } from "./connectors.ts";

const updateSchema = z.object({ _integrationIds: z.array(z.string()).min(1) });

/**
 * `PUT /v1/connectors/{id}/update`: pushes an update to installed integrations one by one. Each is
 * marked `updateInProgress` while the stack's `updateFunction` runs, then takes the connector's
 * `version`. A failing stack stops the push with 422; integrations already updated stay updated.
 */
async function pushUpdate({
  principal,
  store,
  stack,
  params,
  body,
}: ApiContext & { params: Record<string, string> }) {
  requireVendor(principal);
  const connectorId = params.connectorId ?? "";
  const connector = connectorOrNotFound(store, connectorId);
  const { _integrationIds: ids } = parseBody(updateSchema, body);
  const integrations: Integration[] = ids.map((id) => {
    const integration = store.integrations.get(id);
    if (!integration || integration.doc._connectorId !== connectorId) {
      throw invalidRef("_integrationIds", `Integration ${id} is not an install of connector ${connectorId}.`);
    }
    return integration;
  });
  stack.hasStack(connector);
  const updateFunction = typeof connector.updateFunction === "string" ? connector.updateFunction : undefined;
  for (const integration of integrations) {
    integration.doc.updateInProgress = true;
    try {
      if (updateFunction)
        await stack.call({ connector, role: "update", function: updateFunction, integration });
      if (typeof connector.version === "string") integration.doc.version = connector.version;
    } finally {
      integration.doc.updateInProgress = false;
      integration.doc.lastModified = nowIso();
    }
  }
  return { status: 200, body: { _integrationIds: ids } };
}

export function registerConnectorUpdate(router: ApiRouter): void {
  router.add("PUT", "/v1/connectors/:connectorId/update", pushUpdate);
}
