/**
 * The chaos suite's judgement, pure: what one customer's license should be, computed with the
 * product's own licensing rules (`desiredLicenses`) from Stripe's final state, against the licenses
 * integrator.io (the simulator) holds for the customer's emails.
 *
 * - A license that should be live: exactly one unexpired license, on the desired email, with the
 *   desired `opts` (edition and add-ons) and `expires` to the second. None unexpired → `lost`;
 *   more than one → `doubled`; one that differs → `wrong`.
 * - A license that should be over (canceled, unpaid, lapsed grace or trial, never paid): every
 *   license of the customer expires within an hour of the run's end or earlier (the product sets
 *   `expires` = now when it expires one). More than one later than that → `doubled`, one → `wrong`.
 */
import type { Catalog } from "#lib/licensing/catalog.ts";
import { type DesiredLicense, desiredLicenses } from "#lib/licensing/desired-licenses.ts";
import type { LicenseCustomer } from "#lib/licensing/email.ts";
import { normalizeEmail, sameJson, sameSecond } from "#lib/licensing/license.ts";
import type { StripeSubscription } from "#lib/stripe/schemas.ts";

export type Outcome = "ok" | "lost" | "doubled" | "wrong";

/** A license as the simulator lists it, reduced to what is compared. */
export interface ObservedLicense {
  _id: string;
  email: string;
  expires: string;
  opts: Record<string, unknown>;
}

/** Stripe's final state of one customer, and every email its licenses may carry. */
export interface CustomerTruth {
  customerId: string;
  label: string;
  customer: LicenseCustomer;
  subscriptions: StripeSubscription[];
  emails: string[];
}

export interface Verdict {
  customerId: string;
  label: string;
  outcome: Outcome;
  /** `live` or `over`, and the desired license. */
  expected: { state: "live" | "over"; email?: string; expires?: string; opts?: unknown; because: string };
  licenses: ObservedLicense[];
  detail: string;
}

/** A license that should be over may still run this long past the run's end (it was expired "now"). */
export const EXPIRED_SLACK_MS = 60 * 60_000;

const expiresMs = (license: ObservedLicense) => {
  const ms = Date.parse(license.expires);
  return Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY;
};

/** The judgement of one customer for one connector (`connectorKey`), at `now` (the run's end). */
export function judgeCustomer(
  truth: CustomerTruth,
  licenses: readonly ObservedLicense[],
  catalog: Catalog,
  connectorKey: string,
  now: Date,
): Verdict {
  const { licenses: desired } = desiredLicenses(truth.subscriptions, truth.customer, catalog, now);
  const wanted = desired.find((d) => d.connectorKey === connectorKey);
  const base = { customerId: truth.customerId, label: truth.label, licenses: [...licenses] };
  const live = wanted?.kind === "active" && Date.parse(wanted.expires) > now.getTime();

  if (live && wanted?.kind === "active") {
    const expected = {
      state: "live" as const,
      email: wanted.email,
      expires: wanted.expires,
      opts: wanted.opts,
      because: `${wanted.status} (${wanted.subscriptionId})`,
    };
    const unexpired = licenses.filter((l) => expiresMs(l) > now.getTime());
    if (unexpired.length > 1)
      return { ...base, outcome: "doubled", expected, detail: `${unexpired.length} unexpired licenses` };
    const [license] = unexpired;
    if (!license)
      return {
        ...base,
        outcome: "lost",
        expected,
        detail: licenses.length ? `only expired licenses (${licenses.length})` : "no license at all",
      };
    const differences = [
      normalizeEmail(license.email) === wanted.email ? undefined : `email ${license.email}`,
      sameJson(license.opts, wanted.opts) ? undefined : `opts ${JSON.stringify(license.opts)}`,
      sameSecond(license.expires, wanted.expires) ? undefined : `expires ${license.expires}`,
    ].filter((d): d is string => d !== undefined);
    return differences.length
      ? { ...base, outcome: "wrong", expected, detail: differences.join("; ") }
      : { ...base, outcome: "ok", expected, detail: "" };
  }

  const expected = { state: "over" as const, because: overReason(wanted) };
  const limit = now.getTime() + EXPIRED_SLACK_MS;
  const running = licenses.filter((l) => expiresMs(l) > limit);
  if (running.length > 1)
    return { ...base, outcome: "doubled", expected, detail: `${running.length} licenses still running` };
  if (running.length === 1)
    return { ...base, outcome: "wrong", expected, detail: `license runs until ${running[0]?.expires}` };
  return { ...base, outcome: "ok", expected, detail: "" };
}

function overReason(wanted: DesiredLicense | undefined): string {
  if (!wanted) return "no subscription of the connector";
  switch (wanted.kind) {
    case "active":
      return `${wanted.status}, access ended ${wanted.expires}`;
    case "none":
      return `${wanted.status} (${wanted.reason})`;
    default:
      return `${wanted.status} (${wanted.kind})`;
  }
}

/** Licenses grouped per customer through their emails (each email belongs to one customer of the run). */
export function licensesByCustomer(
  truths: readonly CustomerTruth[],
  listed: readonly ObservedLicense[],
): { byCustomer: Map<string, ObservedLicense[]>; strangers: ObservedLicense[] } {
  const owner = new Map<string, string>();
  for (const truth of truths)
    for (const email of truth.emails) owner.set(normalizeEmail(email), truth.customerId);
  const byCustomer = new Map<string, ObservedLicense[]>(truths.map((t) => [t.customerId, []]));
  const strangers: ObservedLicense[] = [];
  for (const license of listed) {
    const customerId = owner.get(normalizeEmail(license.email));
    if (customerId) byCustomer.get(customerId)?.push(license);
    else strangers.push(license);
  }
  return { byCustomer, strangers };
}
