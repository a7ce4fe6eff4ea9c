import type { IntegratorClient } from "#lib/integrator/client.ts";
import { IntegratorError } from "#lib/integrator/errors.ts";
import type { License } from "#lib/integrator/schemas.ts";
import { normalizeEmail, sameJson, sameSecond } from "#lib/licensing/license.ts";
import type { LicenseRecord } from "#lib/store/licenses.ts";

/**
 * integrator.io's copy of a customer's licenses beside ours, for the admin customer view
 * (docs/architecture.md §6): read live, one GET per license that integrator.io should hold (a
 * customer has at most one record per connector), through the process's shared throttled client.
 */

/** integrator.io's copy where it differs from ours; `{missing: true}` when it no longer has the license. */
export type IntegratorCopy =
  | { missing: true }
  | { email: string | null; expires: string | null; opts: Record<string, unknown>; integrationId?: string };

/** The whole read gives up after this long (the client retries a failing GET for longer): integrator.io counts as unreachable. */
export const INTEGRATOR_READ_BUDGET_MS = 5_000;

/** True when our record says integrator.io holds the license (as reconcile reads it, lib/reconcile/drift.ts). */
export const heldInIntegrator = (record: LicenseRecord): record is LicenseRecord & { licenseId: string } =>
  record.licenseId !== undefined && (record.state === "active" || record.state === "expired");

/**
 * integrator.io's copy of a license when it differs from our record: another email (normalised),
 * expiry (to the second) or opts; undefined when they agree.
 */
export function integratorDifference(
  record: LicenseRecord,
  actual: License | undefined,
): IntegratorCopy | undefined {
  if (!actual) return { missing: true };
  const email = actual.user?.email ?? null;
  const expires = typeof actual.expires === "string" ? actual.expires : null;
  const opts = (actual.opts ?? {}) as Record<string, unknown>;
  const sameEmail = email !== null && normalizeEmail(email) === record.email;
  const sameExpiry = expires !== null && sameSecond(expires, record.expires);
  if (sameEmail && sameExpiry && sameJson(opts, record.opts)) return undefined;
  return {
    email,
    expires,
    opts,
    ...(actual._integrationId ? { integrationId: actual._integrationId } : {}),
  };
}

/**
 * The records with integrator.io's copy where it differs (`integrator`), or `unavailable` when
 * integrator.io could not be read within `INTEGRATOR_READ_BUDGET_MS` (then the records as they are).
 */
export async function withIntegratorCopies(
  records: LicenseRecord[],
  integrator: Pick<IntegratorClient, "licenses">,
  budgetMs = INTEGRATOR_READ_BUDGET_MS,
): Promise<{ licenses: (LicenseRecord & { integrator?: IntegratorCopy })[]; unavailable: boolean }> {
  const signal = AbortSignal.timeout(budgetMs);
  try {
    const licenses = await Promise.all(
      records.map(async (record) => {
        if (!heldInIntegrator(record)) return record;
        const difference = integratorDifference(record, await readLicense(record, integrator, signal));
        return difference ? { ...record, integrator: difference } : record;
      }),
    );
    return { licenses, unavailable: false };
  } catch (error) {
    // Unreachable, slow past the budget, throttled, or answering what the client cannot read.
    if (error instanceof IntegratorError || signal.aborted) return { licenses: records, unavailable: true };
    throw error;
  }
}

async function readLicense(
  record: LicenseRecord & { licenseId: string },
  integrator: Pick<IntegratorClient, "licenses">,
  signal: AbortSignal,
): Promise<License | undefined> {
  try {
    return await integrator.licenses.get(record.connectorId, record.licenseId, { signal });
  } catch (error) {
    if (error instanceof IntegratorError && error.status === 404) return undefined;
    throw error;
  }
}
