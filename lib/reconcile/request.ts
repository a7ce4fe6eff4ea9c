/**
 * How the admin API asks the reconcile function for a run in AWS: an EventBridge event on the
 * product's bus, routed by a rule to the reconcile function (asynchronous invocation, so a run may
 * take the function's full timeout while the API answered 202 at once). CDK builds the rule from
 * these constants.
 */
export const RECONCILE_REQUEST = {
  source: "integrator-licensing.admin",
  detailType: "reconcile.requested",
} as const;

export interface ReconcileRequestDetail {
  runId: string;
}

/** The run id of a `reconcile.requested` event, or undefined for anything else (the schedule's events). */
export function requestedRunId(event: unknown): string | undefined {
  if (!event || typeof event !== "object") return undefined;
  const { source, "detail-type": detailType, detail } = event as Record<string, unknown>;
  if (source !== RECONCILE_REQUEST.source || detailType !== RECONCILE_REQUEST.detailType) return undefined;
  const runId = (detail as Partial<ReconcileRequestDetail> | undefined)?.runId;
  return typeof runId === "string" && runId.length > 0 ? runId : undefined;
}
