import { IntegratorError } from "#lib/integrator/errors.ts";
import { ExtensionError, infrastructure } from "./errors.ts";
import type { FunctionContext } from "./types.ts";

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

/**
 * Finds a license by its integrator.io `_id`: in our store (the ids we issued), else from
 * integrator.io with the vendor token (a comped or partner license). A license of another
 * connector is refused with `license_connector_mismatch`, an unknown one with `license_not_found`.
 */
export async function findLicense(licenseId: string, context: FunctionContext): Promise<InstallLicense> {
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
  let license: Awaited<ReturnType<typeof context.vendor.licenses.get>>;
  try {
    license = await context.vendor.licenses.get(connectorId, licenseId);
  } catch (error) {
    if (error instanceof IntegratorError && error.status === 404) {
      throw new ExtensionError(
        "license_not_found",
        `License ${licenseId} is not a license of connector ${context.connector.key}.`,
      );
    }
    throw new ExtensionError(
      "license_check_failed",
      `License ${licenseId} could not be checked with integrator.io; try again.`,
      { cause: error },
    );
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
