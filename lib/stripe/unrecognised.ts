/**
 * A Stripe object our schemas cannot read. An event may carry one in the account's own API version
 * (before 2025-03-31 a subscription's periods sat on the subscription, not on its items); the worker
 * then fetches the object in the pinned version. One fetched in the pinned version that still does
 * not parse carries something Stripe added since (a new `status`): it is "unrecognised".
 */

/** The issues reported per object, and the characters of each value shown: logs and reasons stay small. */
const MAX_ISSUES = 3;
const MAX_VALUE_CHARS = 40;

export type StripeObjectType = "subscription" | "invoice" | "customer";

/** Thrown by the Stripe adapter for an object fetched in the pinned API version that does not parse. */
export class UnrecognisedStripeObject extends Error {
  override readonly name = "UnrecognisedStripeObject";

  constructor(
    readonly objectType: StripeObjectType,
    readonly objectId: string,
    /** What did not parse, bounded (see `describeIssues`). */
    readonly problems: string,
  ) {
    super(`Stripe ${objectType} ${objectId} is not readable in the pinned API version: ${problems}`);
  }
}

interface Issue {
  code?: string;
  path?: PropertyKey[];
  expected?: unknown;
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function shown(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

/**
 * A schema error's issues on one short line, with the values found: `status: unknown value
 * "awaiting_renewal"; items.data.0.current_period_end: expected number, found missing`. At most
 * three issues, each value cut to 40 characters: it goes into logs and inbox reasons.
 */
export function describeIssues(issues: readonly Issue[], value: unknown): string {
  const described = issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = issue.path ?? [];
    const where = path.map(String).join(".") || "(root)";
    const found = shown(valueAt(value, path));
    if (issue.code === "invalid_value") return `${where}: unknown value ${found}`;
    if (issue.code === "invalid_type") return `${where}: expected ${String(issue.expected)}, found ${found}`;
    return `${where}: ${issue.code ?? "invalid"} (found ${found})`;
  });
  const more = issues.length - MAX_ISSUES;
  return more > 0 ? `${described.join("; ")}; and ${more} more` : described.join("; ");
}

/** The id of an object we could not parse, if it names one. */
export function objectIdOf(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | null | undefined)?.id;
  return typeof id === "string" && id.length > 0 ? id : undefined;
}
