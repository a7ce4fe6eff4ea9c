import { describeError } from "#lib/http/http-function.ts";
import { IntegratorError } from "#lib/integrator/errors.ts";
import type { License } from "#lib/integrator/schemas.ts";
import { ExtensionError, infrastructure } from "./errors.ts";
import { checkId, isObject } from "./options.ts";
import type { ExtensionOptions, FunctionContext } from "./types.ts";

/** The license an install runs on, as our store (or integrator.io) knows it. */
export interface InstallLicense {
  licenseId: string;
  connectorId: string;
  email: string | undefined;
  /** ISO date-time, when known. */
  expires: string | undefined;
  /** `opts.connectorEdition`. */
  edition: string | undefined;
  /** The Stripe customer, for licenses our store issued. */
  customerId?: string;
  /** `expired` / `deleted` in our store. */
  ended: boolean;
  source: "store" | "integrator";
}

const edition = (opts: unknown) => {
  const value =
    opts && typeof opts === "object" ? (opts as Record<string, unknown>).connectorEdition : undefined;
  return typeof value === "string" ? value : undefined;
};

const checkFailed = (what: string, error: unknown) =>
  new ExtensionError("license_check_failed", `${what} could not be checked with integrator.io; try again.`, {
    cause: error,
  });

/**
 * Finds a license by its integrator.io `_id`: in our store (the ids we issued), else from
 * integrator.io with the vendor token (a comped or partner license) — or from `listed`, the
 * license as a listing of the connector already returned it. A license of another connector is
 * refused with `license_connector_mismatch`, an unknown one with `license_not_found`.
 */
export async function findLicense(
  licenseId: string,
  context: FunctionContext,
  listed?: License,
): Promise<InstallLicense> {
  const connectorId = context.connector.connectorId;
  const owner = await infrastructure("Reading the license", () => context.licenses.owner(licenseId));
  if (owner && owner.connectorId !== connectorId) {
    throw new ExtensionError("license_connector_mismatch", `License ${licenseId} is for another connector.`);
  }
  if (owner) {
    const record = await infrastructure("Reading the license", () =>
      context.licenses.get(owner.customerId, owner.connectorKey),
    );
    // A license the customer no longer holds (transferred to another email) is checked with integrator.io.
    if (record && record.licenseId === licenseId) {
      return {
        licenseId,
        connectorId,
        email: record.email,
        expires: record.expires,
        edition: edition(record.opts),
        customerId: record.customerId,
        ended: record.state === "expired" || record.state === "deleted",
        source: "store",
      };
    }
  }
  let license = listed;
  if (!license) {
    try {
      license = await context.vendor.licenses.get(connectorId, licenseId);
    } catch (error) {
      if (error instanceof IntegratorError && error.status === 404) {
        throw new ExtensionError(
          "license_not_found",
          `License ${licenseId} is not a license of connector ${context.connector.key}.`,
        );
      }
      throw checkFailed(`License ${licenseId}`, error);
    }
  }
  if (license._connectorId && license._connectorId !== connectorId) {
    throw new ExtensionError("license_connector_mismatch", `License ${licenseId} is for another connector.`);
  }
  return {
    licenseId,
    connectorId,
    email: license.user?.email ?? undefined,
    expires: license.expires ?? undefined,
    edition: edition(license.opts),
    ...(owner ? { customerId: owner.customerId } : {}),
    ended: false,
    source: "integrator",
  };
}

/**
 * How long the stack may spend listing a connector's licenses to find an integration's: well
 * inside the 30 s integrator.io (and API Gateway) give one call, so a connector with very many
 * licenses answers 422 `license_check_failed` (integrator.io shows it; the customer retries)
 * rather than a timeout.
 */
export const LICENSE_LISTING_DEADLINE_MS = 20_000;

/** The connector's license integrator.io has bound to the integration, from a listing of them all. */
async function listedLicenseOf(
  integrationId: string,
  context: FunctionContext,
): Promise<License | undefined> {
  const signal = AbortSignal.timeout(LICENSE_LISTING_DEADLINE_MS);
  try {
    for await (const license of context.vendor.licenses.list(context.connector.connectorId, { signal })) {
      if (license._integrationId === integrationId) return license;
    }
  } catch (error) {
    throw checkFailed(`The license of integration ${integrationId}`, error);
  }
  return undefined;
}

/** The license id `options.license` names: absent, or a 422 when it is no id or names another integration's license. */
function givenLicenseId(options: ExtensionOptions, integrationId: string): string | undefined {
  if (!isObject(options.license)) return undefined;
  const { _id: id, _integrationId: boundTo } = options.license;
  if (id === undefined || id === null || id === "") return undefined;
  if (typeof id !== "string")
    throw new ExtensionError("invalid_field", "options.license._id must be a string.");
  if (typeof boundTo === "string" && boundTo !== "" && boundTo !== integrationId) {
    throw new ExtensionError("license_in_use", `License ${id} is bound to another integration.`);
  }
  return checkId(id, "options.license._id");
}

/**
 * The license a call is about. integrator.io's flat dialect sends it (`options.license._id`),
 * and then it wins; the documented typed dialect sends only `_integrationId`, bound to the
 * license before the installer runs, so the license is the one bound to the integration: the
 * one its install record names, else the one our store saw bound to it, else the one a listing
 * of the connector's licenses shows bound to it (recorded, when it is ours, for the next call).
 * An integration no license is bound to is refused with `license_not_found`.
 */
export async function licenseOfCall(
  options: ExtensionOptions,
  context: FunctionContext,
  integrationId: string,
): Promise<InstallLicense> {
  const given = givenLicenseId(options, integrationId);
  if (given) return findLicense(given, context);
  const install = await infrastructure("Reading the install", () => context.installs.get(integrationId));
  if (install && install.connectorId === context.connector.connectorId)
    return findLicense(install.licenseId, context);
  const bound = await infrastructure("Reading the license", () =>
    context.licenses.byIntegration(integrationId),
  );
  if (bound && bound.connectorId === context.connector.connectorId && bound.integrationId === integrationId)
    return findLicense(bound.licenseId, context);
  const listed = await listedLicenseOf(integrationId, context);
  if (!listed) {
    throw new ExtensionError(
      "license_not_found",
      `No license of connector ${context.connector.key} is bound to integration ${integrationId}.`,
    );
  }
  // Only a shortcut for the next call: not being able to keep it fails nothing.
  await context.licenses.bindIntegration(listed._id, integrationId).catch((error: unknown) => {
    context.logger.warn("the license's integration was not recorded", {
      licenseId: listed._id,
      error: describeError(error),
    });
  });
  return findLicense(listed._id, context, listed);
}

/** Refuses a license that has ended (`license_expired`). */
export function assertLive(license: InstallLicense, now: Date): void {
  const expires = license.expires ? Date.parse(license.expires) : Number.NaN;
  if (license.ended || (Number.isFinite(expires) && expires <= now.getTime())) {
    throw new ExtensionError(
      "license_expired",
      `License ${license.licenseId} has expired${license.expires ? ` (${license.expires})` : ""}.`,
    );
  }
}
