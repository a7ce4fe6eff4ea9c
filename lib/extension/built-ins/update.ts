import { IntegratorError } from "#lib/integrator/errors.ts";
import { infrastructure } from "../errors.ts";
import { requireIntegrationId } from "../options.ts";
import type { ExtensionFunction, FunctionContext } from "../types.ts";
import { writable } from "./lifecycle.ts";

/** The version an update moves to: the connector document's `version` in integrator.io, else the module's. */
async function releasedVersion(context: FunctionContext): Promise<string | undefined> {
  try {
    const connector = await context.integrator.connectors.get(context.connector.connectorId);
    if (typeof connector.version === "string" && connector.version !== "") return connector.version;
  } catch (error) {
    // A one-time token that may not read the connector: the module's version decides.
    if (!(error instanceof IntegratorError) || (error.status !== 403 && error.status !== 404)) throw error;
  }
  return context.definition.version;
}

/**
 * `updateFunction` (after `PUT /connectors/{id}/update`): the module's migration, then the
 * integration takes the new version and leaves `updateInProgress`, through the one-time token,
 * and the install record takes the version.
 */
export const updateFunction: ExtensionFunction = async (options, context) => {
  const integrationId = requireIntegrationId(options);
  const integration = await context.integrator.integrations.get(integrationId);
  const toVersion = (await releasedVersion(context)) ?? integration.version;
  if (toVersion !== undefined) {
    await context.definition.onUpdate?.(options, {
      ...context,
      ...(integration.version ? { fromVersion: integration.version } : {}),
      toVersion,
    });
  }
  await context.integrator.integrations.update(integrationId, {
    ...writable(integration),
    ...(toVersion !== undefined ? { version: toVersion } : {}),
    updateInProgress: false,
  });
  const record = await infrastructure("Recording the update", () =>
    context.installs.update(integrationId, toVersion !== undefined ? { version: toVersion } : {}),
  );
  if (!record) context.logger.warn("update of an integration with no install record", { integrationId });
  return { success: true, ...(toVersion !== undefined ? { version: toVersion } : {}) };
};
