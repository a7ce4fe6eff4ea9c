import type { DomainEventType } from "#lib/events/domain-events.ts";
import { describeError } from "#lib/http/http-function.ts";
import type { Integration, IntegrationInput } from "#lib/integrator/schemas.ts";
import { infrastructure } from "../errors.ts";
import type { InstallRecord, InstallState } from "../installs.ts";
import type { FunctionContext } from "../types.ts";

/** The integration as a PUT body: integrator.io's read-only fields left out. */
export function writable(integration: Integration): IntegrationInput {
  const { _id, lastModified, ...rest } = integration;
  return rest;
}

/** The detail of the install.* domain events. */
const detailOf = (record: InstallRecord) => ({
  integrationId: record.integrationId,
  connectorId: record.connectorId,
  connectorKey: record.connectorKey,
  licenseId: record.licenseId,
  email: record.email,
  ...(record.customerId ? { customerId: record.customerId } : {}),
  ...(record.edition ? { edition: record.edition } : {}),
  ...(record.version ? { version: record.version } : {}),
});

/**
 * Moves a recorded install to `state` once, and publishes `event` when it did. A failed publish
 * is logged, not thrown: the install already happened in integrator.io and the record holds it.
 */
export async function transition(
  context: FunctionContext,
  integrationId: string,
  state: InstallState,
  event: DomainEventType | undefined,
  changes: Partial<InstallRecord> = {},
): Promise<InstallRecord | undefined> {
  const record = await infrastructure("Recording the install", () =>
    context.installs.update(integrationId, { ...changes, state }, state),
  );
  if (!record) {
    context.logger.info("install already in state or not recorded", { integrationId, state });
    return undefined;
  }
  if (event) {
    try {
      await context.events.publish(event, detailOf(record), context.logger);
    } catch (error) {
      context.logger.error("domain event not published", {
        event,
        integrationId,
        error: describeError(error),
      });
    }
  }
  return record;
}
