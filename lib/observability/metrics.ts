import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

/** The metric names of docs/architecture.md §9; CloudWatch alarms are built on them. */
export type MetricName =
  | "EventsReceived"
  | "EventsProcessed"
  | "EventsIgnored"
  | "EventsFailed"
  /** Events whose Stripe object carries a value the pinned API version does not know: left unapplied. */
  | "EventsUnrecognised"
  | "LicensesCreated"
  | "LicensesUpdated"
  | "LicensesExpired"
  | "PendingUsers"
  | "UnknownPrices"
  /** Add-ons whose quantity in Stripe exceeds the catalog's `maxQuantity`: licensed at the cap. */
  | "QuantitiesCapped"
  /** Requests sent to integrator.io (retries included), through the shared limiter. */
  | "IntegratorCalls"
  /** Milliseconds a request waited for the shared limiter's token (unit Milliseconds). */
  | "LimiterWaitMs"
  | "IntegratorRateLimited"
  | "IntegratorRetries"
  | "DriftFound"
  /** A reconcile run ended `done` (lib/reconcile/run.ts): its absence over a few schedule periods alarms. */
  | "ReconcileRunCompleted"
  /** A reconcile run ended `failed`. */
  | "ReconcileRunFailed"
  /** Queue records the worker left unstarted, its invocation's time running out: SQS delivers them again. */
  | "RecordsDeferred"
  /**
   * A function holding the Stripe key read one of the other mode than `STRIPE_LIVEMODE` and refused
   * to run (lib/stripe/key.ts): at cold start, or when a rotated key arrived.
   */
  | "LivemodeMismatch"
  /**
   * A scheduled run (reconcile, listings sync) or a webhook delivery found a secret it needs still
   * holding its placeholder or of the wrong form (lib/secrets.ts `NotConfiguredError`) and did not run.
   */
  | "NotConfigured";

export const METRICS_NAMESPACE = "IntegratorLicensing";

/** Powertools Metrics (EMF) for one function: counts, and the limiter's waits in milliseconds. */
export class ProductMetrics {
  readonly metrics: Metrics;
  private counted = false;
  constructor(service: string) {
    this.metrics = new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: `integrator-licensing.${service}`,
    });
  }

  count(name: MetricName, value = 1): void {
    this.metrics.addMetric(name, MetricUnit.Count, value);
    this.counted = true;
  }

  milliseconds(name: MetricName, value: number): void {
    this.metrics.addMetric(name, MetricUnit.Milliseconds, Math.round(value));
    this.counted = true;
  }

  /** Writes what was counted (once per invocation). */
  flush(): void {
    if (!this.counted) return;
    this.metrics.publishStoredMetrics();
    this.counted = false;
  }
}
