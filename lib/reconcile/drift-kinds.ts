/** The vocabulary of reconcile's drift report, with no dependencies: the route schemas use it too. */

/** What reconcile found, by kind; `checked` is the (customer, connector) licenses compared. */
export const DRIFT_COUNT_KEYS = [
  "checked",
  "missing",
  "wrongEdition",
  "wrongExpiry",
  "shouldBeExpired",
  "pendingRetried",
  "foreign",
  "notInStripe",
  "reenqueued",
  "adopted",
  "errors",
] as const;
export type DriftCounts = Record<(typeof DRIFT_COUNT_KEYS)[number], number>;

export const emptyCounts = (): DriftCounts =>
  Object.fromEntries(DRIFT_COUNT_KEYS.map((key) => [key, 0])) as DriftCounts;

/** The kinds of finding a run reports. */
export const DRIFT_KINDS = [
  "missing",
  "wrongEdition",
  "wrongExpiry",
  "shouldBeExpired",
  "pendingRetried",
  "foreign",
  "notInStripe",
  "reenqueued",
  "adopted",
  "error",
] as const;
