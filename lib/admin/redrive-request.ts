/**
 * How the admin API hands a dead-letter redrive to a function that may work for minutes (the
 * admin function has 29 s): in AWS an EventBridge event on the product's bus, routed like
 * `reconcile.requested` to the reconcile function (lib/functions.ts `busEvents`); locally the same
 * code in the background of the process (as reconcile runs, lib/reconcile/launcher.ts).
 */
export const REDRIVE_REQUEST = {
  source: "integrator-licensing.admin",
  detailType: "dlq.redrive.requested",
} as const;

/** The job id of a `dlq.redrive.requested` event, or undefined for anything else. */
export function requestedRedriveJobId(event: unknown): string | undefined {
  if (!event || typeof event !== "object") return undefined;
  const { source, "detail-type": detailType, detail } = event as Record<string, unknown>;
  if (source !== REDRIVE_REQUEST.source || detailType !== REDRIVE_REQUEST.detailType) return undefined;
  const jobId = (detail as { jobId?: unknown } | undefined)?.jobId;
  return typeof jobId === "string" && jobId.length > 0 ? jobId : undefined;
}
