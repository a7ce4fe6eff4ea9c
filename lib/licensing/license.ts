/**
 * The integrator.io license as the licensing rules see it: its `opts` (vendor-defined, docs/architecture.md §3)
 * and the comparisons `planChanges` makes so that a replayed event plans no call.
 */

/** `opts.addonLicenses[]`: the add-on licenses of one type, one entry per licensed unit. */
export type AddonLicenseGroup = { type: string; licenses: { addOnEdition: string }[] };

/**
 * License `opts` as this product writes them, e.g.
 * `{ connectorEdition: "premium", addonLicenses: [{ type: "store", licenses: [{ addOnEdition: "standard" }] }] }`.
 * `addonLicenses` is absent (not `[]`) when there are no add-ons.
 */
export type LicenseOpts = { connectorEdition: string; addonLicenses?: AddonLicenseGroup[] };

/** Emails are compared and stored trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A plausible email address after normalising (integrator.io does the real check: `invalid_user`). */
export function isEmail(value: string): boolean {
  // An address is at most 254 characters (RFC 5321): a longer one is no email, and no store key.
  return value.length <= MAX_EMAIL_LENGTH && EMAIL.test(normalizeEmail(value));
}

/** The longest email address SMTP carries. */
export const MAX_EMAIL_LENGTH = 254;

/** Two ISO date-times denote the same second (integrator.io may drop milliseconds). */
export function sameSecond(a: string, b: string): boolean {
  const left = Math.floor(Date.parse(a) / 1000);
  const right = Math.floor(Date.parse(b) / 1000);
  return Number.isFinite(left) && left === right;
}

/** JSON-equal, ignoring key order and `undefined`-valued keys; array order matters. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((entry) => canonical(entry ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, entry]) => entry !== undefined)
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonical(entry)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
