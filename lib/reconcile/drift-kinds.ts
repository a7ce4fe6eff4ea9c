/** The vocabulary of reconcile's drift report, with no dependencies: the route schemas use it too. */

/** The kinds of finding a run reports. */
export const DRIFT_KINDS = [
  "missing",
  "wrongEdition",
  "wrongExpiry",
  "shouldBeExpired",
  "pendingRetried",
  "foreign",
  "notInStripe",
  "unreadable",
  "reenqueued",
  "adopted",
  "error",
] as const;

type CountedKind = Exclude<(typeof DRIFT_KINDS)[number], "error">;
export type DriftCountKey = "checked" | CountedKind | "errors";

/** What reconcile found, by kind (an `error` finding counts as `errors`); `checked` is the (customer, connector) licenses compared. */
export const DRIFT_COUNT_KEYS: readonly DriftCountKey[] = [
  "checked",
  ...DRIFT_KINDS.filter((kind): kind is CountedKind => kind !== "error"),
  "errors",
];
export type DriftCounts = Record<DriftCountKey, number>;

export const emptyCounts = (): DriftCounts =>
  Object.fromEntries(DRIFT_COUNT_KEYS.map((key) => [key, 0])) as DriftCounts;
