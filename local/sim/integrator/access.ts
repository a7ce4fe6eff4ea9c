import type { Principal } from "./auth.ts";
import { accessRestricted, notFound } from "./errors.ts";
import type { Integration, Owned } from "./store.ts";

/** Connectors, templates, stacks and licenses are the partner API: the vendor token only. */
export function requireVendor(principal: Principal): void {
  if (principal.kind === "user")
    throw accessRestricted("This API needs the partner account that owns the connectors.");
  if (principal.kind === "one-time")
    throw accessRestricted("A one-time token reaches only its connector's resources.");
}

/** The vendor, or a one-time token issued for this connector. */
export function requireConnectorAccess(principal: Principal, connectorId: string): void {
  if (principal.kind === "one-time" && principal.connectorId === connectorId) return;
  requireVendor(principal);
}

/** Actions a person takes (install, uninstall, settings, update) are not open to one-time tokens. */
export function requireAccountToken(principal: Principal): void {
  if (principal.kind === "one-time")
    throw accessRestricted("A one-time token cannot start integration app actions.");
}

/** Which integration a record belongs to: its `_integrationId` (an integration: itself). */
type IntegrationOf = (record: Owned) => unknown;
const byField: IntegrationOf = (record) => record.doc._integrationId;
const itself: IntegrationOf = (record) => record.doc._id;

/**
 * An account's record, or 404 when it is not in the caller's account. A one-time token sees only
 * records of its integration and gets 403 for the rest of that account.
 */
export function visibleRecord<T extends Owned>(
  principal: Principal,
  record: T | undefined,
  what: string,
  id: string,
  integrationOf: IntegrationOf = byField,
): T {
  if (!record || record.owner !== principal.accountId) throw notFound(what, id);
  if (principal.kind === "one-time" && integrationOf(record) !== principal.integrationId) {
    throw accessRestricted(`This one-time token is for integration ${principal.integrationId} only.`);
  }
  return record;
}

export function visibleIntegration(
  principal: Principal,
  integration: Integration | undefined,
  id: string,
): Integration {
  return visibleRecord(principal, integration, "Integration", id, itself);
}

/** Whether a record belongs in the caller's lists. */
export function inScope(
  principal: Principal,
  record: Owned,
  integrationOf: IntegrationOf = byField,
): boolean {
  if (record.owner !== principal.accountId) return false;
  return principal.kind !== "one-time" || integrationOf(record) === principal.integrationId;
}

export function integrationInScope(principal: Principal, integration: Integration): boolean {
  return inScope(principal, integration, itself);
}
