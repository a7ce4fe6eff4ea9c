import type { License } from "#lib/integrator/schemas.ts";
import type { DesiredLicense } from "#lib/licensing/desired-licenses.ts";
import { normalizeEmail, sameJson, sameSecond } from "#lib/licensing/license.ts";
import type { LicenseRecord } from "#lib/store/licenses.ts";
import type { DriftItem } from "#lib/store/reconcile-runs.ts";

/**
 * The pure rules of reconcile: what integrator.io's copy of a license says about our record, and
 * which drift a (customer, connector) shows. No I/O, no clock: `now` is passed in.
 */

/** A finding about one (customer, connector), before the run adds who and where. */
export type Drift = Pick<DriftItem, "kind" | "detail"> & { licenseId?: string };

/** A license integrator.io gives without `expires` never expires. */
const NEVER = "9999-12-31T23:59:59.000Z";

/** The license's `expires`, or far in the future when integrator.io gives none. */
export const licenseExpires = (license: License): string =>
  typeof license.expires === "string" ? license.expires : NEVER;
const isPast = (iso: string, now: Date) =>
  Math.floor(Date.parse(iso) / 1000) <= Math.floor(now.getTime() / 1000);
const hasLicense = (record: LicenseRecord | undefined): record is LicenseRecord & { licenseId: string } =>
  record?.licenseId !== undefined &&
  record.state !== "deleted" &&
  record.state !== "pending_user" &&
  record.state !== "creating";

/**
 * Our record as integrator.io holds the license now: its `expires`, `opts` and email, `deleted`
 * when integrator.io no longer has it (`actual` undefined), and `active` again when an expired
 * record's license was given a future `expires`. Records without an issued license are kept.
 * Returns the record unchanged (same object) when integrator.io agrees.
 *
 * @example syncWithIntegrator(record, undefined, now) // → { ...record, state: "deleted" }
 */
export function syncWithIntegrator(
  record: LicenseRecord,
  actual: License | undefined,
  now: Date,
): LicenseRecord {
  if (!hasLicense(record)) return record;
  if (!actual) return { ...record, state: "deleted" };
  const expires = licenseExpires(actual);
  const opts = (actual.opts ?? {}) as Record<string, unknown>;
  const email = normalizeEmail(actual.user?.email ?? record.email);
  const state = record.state === "expired" && !isPast(expires, now) ? "active" : record.state;
  if (
    sameSecond(record.expires, expires) &&
    sameJson(record.opts, opts) &&
    email === record.email &&
    state === record.state
  ) {
    return record;
  }
  return { ...record, expires, opts, email, state };
}

const editionOf = (opts: Record<string, unknown>) => {
  const edition = typeof opts.connectorEdition === "string" ? opts.connectorEdition : "none";
  const addons = Array.isArray(opts.addonLicenses)
    ? (opts.addonLicenses as { type?: unknown; licenses?: unknown[] }[])
        .map((group) => `${Array.isArray(group.licenses) ? group.licenses.length : 0} ${String(group.type)}`)
        .join(", ")
    : "";
  return addons ? `${edition} + ${addons}` : edition;
};

/**
 * The drift between what a (customer, connector) should have and the license integrator.io holds
 * (`license`: our record after `syncWithIntegrator`). Empty when they agree.
 *
 * | desired  | license                                         | drift |
 * |----------|-------------------------------------------------|-------|
 * | `active` | `pending_user`                                  | `pendingRetried` |
 * | `active` | `creating`                                      | none (the converge resolves it) |
 * | `active`, `expires` passed (grace or trial over) | live | `shouldBeExpired` |
 * | `active` | none, `deleted` in integrator.io                | `missing` |
 * | `active` | on another email                                | `missing` (on the right email) |
 * | `active` | other `opts` / other `expires`                  | `wrongEdition` / `wrongExpiry` |
 * | `expire` | unexpired                                       | `shouldBeExpired` |
 * | `delete` | not deleted                                     | `shouldBeExpired` |
 * | `none`   | anything                                        | none |
 */
export function classifyDrift(
  desired: DesiredLicense,
  license: LicenseRecord | undefined,
  now: Date,
): Drift[] {
  const id = hasLicense(license) ? { licenseId: license.licenseId } : {};
  switch (desired.kind) {
    case "none":
      return [];
    case "delete":
      return hasLicense(license)
        ? [
            {
              kind: "shouldBeExpired",
              ...id,
              detail: `subscription ${desired.subscriptionId} is ${desired.status}; the license should be deleted`,
            },
          ]
        : [];
    case "expire":
      return hasLicense(license) && license.state !== "expired" && !isPast(license.expires, now)
        ? [
            {
              kind: "shouldBeExpired",
              ...id,
              detail: `subscription ${desired.subscriptionId} is ${desired.status}; the license runs until ${license.expires}`,
            },
          ]
        : [];
    case "active": {
      if (license?.state === "pending_user") {
        return [
          { kind: "pendingRetried", detail: `waiting for an integrator.io account for ${license.email}` },
        ];
      }
      if (license?.state === "creating") return [];
      if (isPast(desired.expires, now)) {
        // Paid-for access ended (a lapsed grace period or trial): the license must not stay live.
        return hasLicense(license) && license.state !== "expired"
          ? [
              {
                kind: "shouldBeExpired",
                ...id,
                detail: `access ended ${desired.expires} (${desired.status}); the license is still active`,
              },
            ]
          : [];
      }
      if (!hasLicense(license)) {
        const why =
          license?.state === "deleted" && license.licenseId
            ? `license ${license.licenseId} was deleted in integrator.io`
            : "no license in integrator.io";
        return [
          {
            kind: "missing",
            detail: `${why}; should be ${desired.email}, ${desired.opts.connectorEdition}, until ${desired.expires}`,
          },
        ];
      }
      if (normalizeEmail(license.email) !== desired.email) {
        return [
          {
            kind: "missing",
            ...id,
            detail: `the license is issued to ${license.email}; should be ${desired.email}`,
          },
        ];
      }
      const drift: Drift[] = [];
      if (!sameJson(license.opts, desired.opts)) {
        drift.push({
          kind: "wrongEdition",
          ...id,
          detail: `${editionOf(license.opts)}; should be ${editionOf(desired.opts)}`,
        });
      }
      if (!sameSecond(license.expires, desired.expires)) {
        drift.push({
          kind: "wrongExpiry",
          ...id,
          detail: `expires ${license.expires}; should be ${desired.expires}`,
        });
      }
      return drift;
    }
  }
}

/** True for a license integrator.io still honours at `now`. */
export function isLive(license: License, now: Date): boolean {
  return !isPast(licenseExpires(license), now);
}

/** True when a `desired: active` license's paid-for access has ended (a lapsed grace period or trial). */
export function accessEnded(
  desired: DesiredLicense,
  now: Date,
): desired is Extract<DesiredLicense, { kind: "active" }> {
  return desired.kind === "active" && isPast(desired.expires, now);
}
