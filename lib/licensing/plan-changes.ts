import type { DesiredLicense } from "#lib/licensing/desired-licenses.ts";
import { type LicenseOpts, normalizeEmail, sameJson, sameSecond } from "#lib/licensing/license.ts";

/**
 * The integrator.io calls that turn the license we hold for one (customer, connector) into the
 * desired one — and none when they already agree, so a replayed or duplicate event makes no
 * call. Pure: `now` is passed in.
 *
 * | desired `kind` | stored license (`current`)                                              | operations |
 * |----------------|-------------------------------------------------------------------------|------------|
 * | `active`       | none, `deleted`, or no `licenseId` (`pending_user`, unresolved `creating`) | `create` |
 * | `active`       | same email (also an `expired` one: a PUT revives it)                     | `update` with only the differing `expires` / `opts`, or `[]` |
 * | `active`       | other email, license not yet expired                                     | `transfer`: expire the old license now + create on the new email |
 * | `active`       | other email, license already expired or `deleted`                        | `create` |
 * | `expire`       | a `licenseId`, not yet expired                                           | `expire` (`expires` = now) |
 * | `expire`       | none, no `licenseId`, `deleted`, or already expired at or before now      | `[]` |
 * | `delete`       | a `licenseId`, not `deleted`                                             | `delete` |
 * | `delete`       | otherwise                                                                | `[]` |
 * | `none`         | anything                                                                 | `[]` (an existing license is left as it is) |
 *
 * Emails compare trimmed and lower-cased, `expires` at second precision, `opts` structurally
 * (key order and `undefined` keys do not matter; array order does).
 *
 * A `creating` record without `licenseId` is a create whose outcome is unknown: the engine settles
 * it first (adopts the connector's license for that email, or leaves it `creating` until the create
 * can no longer land, docs/architecture.md §4; see `settleIntent` in lib/engine/converge.ts). Once
 * abandoned, the plan is `create` again for a live license and nothing for `expire` / `delete`.
 */

/** What our store knows of a license. */
export type LicenseState = "creating" | "active" | "pending_user" | "expired" | "deleted";

/** The license record the store keeps per (customer, connector). */
export interface StoredLicense {
  customerId: string;
  connectorKey: string;
  connectorId: string;
  /** integrator.io `_id`; absent while `pending_user` (integrator.io said `invalid_user`) or an unresolved `creating`. */
  licenseId?: string | undefined;
  /** The email the license is (or is to be) issued to, normalised. */
  email: string;
  /** ISO date-time. */
  expires: string;
  /** The license's `opts` as integrator.io holds them. */
  opts: Record<string, unknown>;
  state: LicenseState;
  /** The subscription that last decided this license. */
  subscriptionId?: string | undefined;
}

/** One integrator.io call (`connectorId` is the path's `{connectorId}`). */
export type LicenseOperation =
  /** POST /v1/connectors/{connectorId}/licenses */
  | { op: "create"; connectorId: string; email: string; expires: string; opts: LicenseOpts }
  /** PUT /v1/connectors/{connectorId}/licenses/{licenseId} with only the fields that differ. */
  | { op: "update"; connectorId: string; licenseId: string; expires?: string; opts?: LicenseOpts }
  /** PUT ... {licenseId} `{ expires }` with `expires` = now. */
  | { op: "expire"; connectorId: string; licenseId: string; expires: string }
  /** DELETE /v1/connectors/{connectorId}/licenses/{licenseId} */
  | { op: "delete"; connectorId: string; licenseId: string }
  /**
   * The resolved email changed (integrator.io's PUT does not take `email`): expire `licenseId`
   * (on `fromEmail`) at `expireAt`, then create a license on `email` with `expires` and `opts`.
   */
  | {
      op: "transfer";
      connectorId: string;
      licenseId: string;
      fromEmail: string;
      expireAt: string;
      email: string;
      expires: string;
      opts: LicenseOpts;
    };

/**
 * The minimal operations from `current` to `desired` (see the table at the top of this file).
 *
 * @example
 * planChanges(desired, { ...stored, expires: "2026-12-01T00:00:00.000Z" }, now)
 * // → [{ op: "update", connectorId, licenseId: "lic_1", expires: "2027-01-04T00:00:00.000Z" }]
 */
export function planChanges(
  desired: DesiredLicense,
  current: StoredLicense | undefined,
  now: Date,
): LicenseOperation[] {
  const { connectorId } = desired;
  const licenseId = current?.state === "deleted" ? undefined : current?.licenseId;
  const unexpired = current !== undefined && licenseId !== undefined && !expiredBy(current, now);

  switch (desired.kind) {
    case "none":
      return [];
    case "delete":
      return licenseId !== undefined ? [{ op: "delete", connectorId, licenseId }] : [];
    case "expire":
      return unexpired && licenseId !== undefined
        ? [{ op: "expire", connectorId, licenseId, expires: desired.expires }]
        : [];
    case "active": {
      const { email, expires, opts } = desired;
      if (current === undefined || licenseId === undefined)
        return [{ op: "create", connectorId, email, expires, opts }];
      if (normalizeEmail(current.email) !== email) {
        if (!unexpired) return [{ op: "create", connectorId, email, expires, opts }];
        const expireAt = now.toISOString();
        return [
          {
            op: "transfer",
            connectorId,
            licenseId,
            fromEmail: current.email,
            expireAt,
            email,
            expires,
            opts,
          },
        ];
      }
      const changes: { expires?: string; opts?: LicenseOpts } = {};
      if (!sameSecond(current.expires, expires)) changes.expires = expires;
      if (!sameJson(current.opts, opts)) changes.opts = opts;
      return Object.keys(changes).length > 0 ? [{ op: "update", connectorId, licenseId, ...changes }] : [];
    }
  }
}

/** Already expired at or before `now`: marked expired, or its `expires` (to the second) has passed. */
function expiredBy(license: StoredLicense, now: Date): boolean {
  if (license.state === "expired") return true;
  const expires = Date.parse(license.expires);
  return Number.isFinite(expires) && Math.floor(expires / 1000) <= Math.floor(now.getTime() / 1000);
}
