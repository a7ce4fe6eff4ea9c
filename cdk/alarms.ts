import { Duration, Stack } from "aws-cdk-lib";
import {
  Alarm,
  type AlarmProps,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { FilterPattern, type ILogGroup, type JsonPattern, MetricFilter } from "aws-cdk-lib/aws-logs";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { METRICS_NAMESPACE, type MetricName } from "../lib/observability/metrics.ts";

export interface AlarmThresholds {
  /** `IntegratorRateLimited` in 5 minutes: the shared limiter should keep it at 0. */
  rateLimitedPer5Min: number;
  /** `PendingUsers` in an hour: buyers without an integrator.io account pile up. */
  pendingUsersPerHour: number;
  /** `UnknownPrices` in 5 minutes: a paid price the catalog does not know. */
  unknownPricesPer5Min: number;
  /** 4xx answers of the webhook route in 5 minutes (a wrong webhook secret, or forged calls). */
  webhookClientErrorsPer5Min: number;
  /** 5xx answers of the webhook route in 5 minutes (the inbox, the queue or the function failed). */
  webhookServerErrorsPer5Min: number;
  /** Age of the event queue's oldest message, in seconds. */
  queueOldestMessageSeconds: number;
  /** `EventsIgnored` in an hour (the webhook recorded a signed event without acting on it). */
  eventsIgnoredPerHour: number;
  /** `DriftFound` in an hour (reconcile repaired what the event path had not done). */
  driftFoundPerHour: number;
}

export const DEFAULT_THRESHOLDS: AlarmThresholds = {
  rateLimitedPer5Min: 1,
  pendingUsersPerHour: 10,
  unknownPricesPer5Min: 1,
  webhookClientErrorsPer5Min: 10,
  // The webhook only writes the inbox and sends to the queue: a 5xx is an outage or a bug, never
  // a bad request. Stripe retries it, so nothing is lost yet, but every one wants a look.
  webhookServerErrorsPer5Min: 1,
  // A healthy queue drains in seconds. A failing event comes back after each 360 s visibility
  // timeout and reaches the DLQ after 5 receives (~30 min, dlq-not-empty); 15 minutes is two
  // failed receives of one event, or a worker that stopped taking messages (throttled, failing
  // at init, its trigger disabled), or a backlog the integrator.io limiter cannot drain.
  queueOldestMessageSeconds: 900,
  // Stripe's endpoint is registered with exactly the handled event types (README, Deploy step 4),
  // so an ignored event is a configuration fault: the other mode's events (stripeLivemode), an
  // extra event type, an id no key can hold. Five in an hour lets one odd event pass and catches
  // a misconfiguration at any volume beyond a trickle (the livemode guard's alarm covers the rest).
  eventsIgnoredPerHour: 5,
  // One finding can be routine: a grace period or trial that ended between events is found and
  // expired by the next run. Five in an hour is more than lapses explain for most stores: the
  // event path misses changes (deliveries ignored or lost) or someone edits licenses in
  // integrator.io. A store with many trials ending each hour raises it.
  driftFoundPerHour: 5,
};

export interface ProductAlarmsProps {
  deadLetterQueue: Queue;
  /** The event queue (the age of its oldest message). */
  queue: Queue;
  /** The SQS consumers whose errors page someone (one `worker-errors` alarm for them all). */
  workers: IFunction[];
  /** Every function of the function table, by name: an errors alarm (but the workers') and a throttles alarm each. */
  functions: ReadonlyMap<string, IFunction>;
  /**
   * The functions that emit the product metrics (Powertools sets dimension
   * `service = integrator-licensing.<function name>`); each alarm sums them.
   */
  metricServices: string[];
  /** The function answering Stripe's webhook: it alone counts `EventsIgnored`. */
  webhookService?: string;
  /** The functions holding `STRIPE_SECRET_KEY`: they count `LivemodeMismatch` (lib/stripe/key.ts). */
  stripeKeyServices: string[];
  /** The reconcile function, its timeout and how often the schedule starts it. */
  reconcile?: ReconcileSchedule;
  /** The HTTP API's access logs and the webhook's route key, for the 4xx and 5xx metric filters. */
  accessLogs: ILogGroup;
  webhookRouteKey: string | undefined;
  thresholds: AlarmThresholds;
  /** Alarm e-mails go here (an SNS topic); none = alarms without actions. */
  email?: string;
}

export interface ReconcileSchedule {
  /** Its function-table name, which is its metrics' `service`. */
  service: string;
  /** How often the schedule starts a run. */
  rate: Duration;
  /** The function's timeout: the longest a run can take. */
  timeout: Duration;
}

/** The metrics the access-log filters write for the webhook's 4xx and 5xx answers. */
export const WEBHOOK_CLIENT_ERRORS_METRIC = "WebhookClientErrors";
export const WEBHOOK_SERVER_ERRORS_METRIC = "WebhookServerErrors";

/** A CloudWatch alarm's whole evaluation window (period × evaluation periods) may not pass one day. */
const ALARM_WINDOW_LIMIT = Duration.days(1);

/**
 * How many schedule periods without a completed reconcile run mean it has stopped: a run may
 * take up to its timeout, and a scheduled start that finds it still working skips (one run
 * repairs at a time), so even healthy runs can complete `rate + timeout` apart; that many
 * periods, rounded up, plus one for EventBridge's delivery and the metric's delay. With the
 * defaults (every 15 minutes, a 900 s timeout): 3 periods, 45 minutes.
 */
export function reconcileOverduePeriods(schedule: Pick<ReconcileSchedule, "rate" | "timeout">): number {
  const rate = schedule.rate.toSeconds();
  return Math.ceil((rate + schedule.timeout.toSeconds()) / rate) + 1;
}

/** CloudWatch alarms on the metric names of docs/architecture.md §9, optionally sent to an e-mail through SNS. */
export class ProductAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  readonly topic: Topic | undefined;
  /** The webhook's 4xx and 5xx answers (access-log filters), when the routes have a webhook. */
  readonly webhookClientErrors: Metric | undefined;
  readonly webhookServerErrors: Metric | undefined;

  constructor(scope: Construct, id: string, props: ProductAlarmsProps) {
    super(scope, id);
    const prefix = Stack.of(this).stackName;
    const fiveMinutes = Duration.minutes(5);
    if (props.email) {
      this.topic = new Topic(this, "Topic", { displayName: `${prefix} alarms`, enforceSSL: true });
      // enforceSSL gives the topic a policy of its own, which replaces SNS's default one (the one
      // that lets the account's CloudWatch alarms publish): without this statement the alarms'
      // notifications are refused and no e-mail ever arrives.
      this.topic.addToResourcePolicy(
        new PolicyStatement({
          sid: "AllowCloudWatchAlarms",
          principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
          actions: ["sns:Publish"],
          resources: [this.topic.topicArn],
          conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
        }),
      );
      this.topic.addSubscription(new EmailSubscription(props.email));
    }
    const alarm = (
      name: string,
      description: string,
      metric: IMetric,
      threshold: number,
      options: Partial<
        Pick<
          AlarmProps,
          "comparisonOperator" | "evaluationPeriods" | "datapointsToAlarm" | "treatMissingData"
        >
      > = {},
    ) => {
      const created = new Alarm(this, pascalOf(name), {
        alarmName: `${prefix}-${name}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        ...options,
      });
      if (this.topic) created.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };

    alarm(
      "dlq-not-empty",
      "Events failed every retry and wait in the DLQ: see GET /admin/dlq, fix, then replay.",
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: "Maximum",
      }),
      1,
    );
    if (props.workers.length > 0) {
      alarm(
        "worker-errors",
        "The queue worker failed whole invocations (crash or timeout), not single records.",
        sum(
          props.workers.map((fn) => fn.metricErrors({ period: fiveMinutes, statistic: "Sum" })),
          fiveMinutes,
          "worker errors",
        ),
        1,
      );
    }
    const product = (metric: MetricName, period: Duration, services = props.metricServices) =>
      sum(
        services.map(
          (service) =>
            new Metric({
              namespace: METRICS_NAMESPACE,
              metricName: metric,
              dimensionsMap: { service: `integrator-licensing.${service}` },
              statistic: "Sum",
              period,
            }),
        ),
        period,
        metric,
      );
    if (props.metricServices.length > 0) {
      alarm(
        "integrator-rate-limited",
        "integrator.io answered 429: something else shares the account's rate limit (lower INTEGRATOR_RATE_SHARE).",
        product("IntegratorRateLimited", fiveMinutes),
        props.thresholds.rateLimitedPer5Min,
      );
      alarm(
        "pending-users",
        "Licenses wait for buyers to create their integrator.io account (invalid_user); reconcile retries them.",
        product("PendingUsers", Duration.hours(1)),
        props.thresholds.pendingUsersPerHour,
      );
      alarm(
        "unknown-prices",
        "A subscription uses a Stripe price the catalog does not know: no license was created. Fix the catalog and redeploy.",
        product("UnknownPrices", fiveMinutes),
        props.thresholds.unknownPricesPer5Min,
      );
    }
    if (props.webhookRouteKey) {
      const routeKey = props.webhookRouteKey;
      // The webhook route's answers in the access log with a matching status, summed over 5 minutes.
      const webhookAnswers = (id: string, metricName: string, ...status: JsonPattern[]) =>
        new MetricFilter(this, id, {
          logGroup: props.accessLogs,
          metricNamespace: METRICS_NAMESPACE,
          metricName,
          filterPattern: FilterPattern.all(FilterPattern.stringValue("$.routeKey", "=", routeKey), ...status),
          metricValue: "1",
        }).metric({ period: fiveMinutes, statistic: "Sum" });
      this.webhookClientErrors = webhookAnswers(
        "WebhookClientErrors",
        WEBHOOK_CLIENT_ERRORS_METRIC,
        FilterPattern.numberValue("$.status", ">=", 400),
        FilterPattern.numberValue("$.status", "<", 500),
      );
      alarm(
        "webhook-4xx-spike",
        "The Stripe webhook rejects deliveries (400 = bad signature): check STRIPE_WEBHOOK_SECRET against the endpoint's signing secret.",
        this.webhookClientErrors,
        props.thresholds.webhookClientErrorsPer5Min,
      );
      // The access log, not AWS/ApiGateway's 5xx: HTTP APIs count a route's answers only with
      // detailed metrics (a paid metric per route), and the 4xx filter already reads this log.
      this.webhookServerErrors = webhookAnswers(
        "WebhookServerErrors",
        WEBHOOK_SERVER_ERRORS_METRIC,
        FilterPattern.numberValue("$.status", ">=", 500),
      );
      alarm(
        "webhook-5xx",
        "The Stripe webhook answered 5xx: the inbox (DynamoDB), the queue (SQS) or the function failed, and Stripe retries. First: the stripe-webhook function's log at the access log's requestId.",
        this.webhookServerErrors,
        props.thresholds.webhookServerErrorsPer5Min,
      );
    }

    // Every function: errors (a crash, a timeout, a failed cold start; HTTP functions answer their
    // own errors as 5xx, so these are what they could not answer) and throttles (the account's
    // concurrency is used up). Any one is a failure: threshold 1 in 5 minutes. The queue workers'
    // errors are `worker-errors` above.
    for (const [name, fn] of props.functions) {
      if (!props.workers.includes(fn)) {
        alarm(
          `${name}-errors`,
          `The ${name} function failed invocations (crash, timeout or failed cold start). First: its log group, the ERROR lines and REPORT lines with "Status: error" or "timeout".`,
          fn.metricErrors({ period: fiveMinutes, statistic: "Sum" }),
          1,
        );
      }
      alarm(
        `${name}-throttles`,
        `Lambda refused invocations of ${name}: the account's or region's concurrency is used up. First: ConcurrentExecutions of the account, then the Lambda quota.`,
        fn.metricThrottles({ period: fiveMinutes, statistic: "Sum" }),
        1,
      );
    }

    alarm(
      "event-queue-age",
      `An event has waited over ${props.thresholds.queueOldestMessageSeconds} s in the queue: the worker fails it again and again, or takes no messages. First: worker-errors and the worker's log, then GET /admin/events?status=failed.`,
      props.queue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: "Maximum" }),
      props.thresholds.queueOldestMessageSeconds,
    );

    if (props.webhookService) {
      alarm(
        "events-ignored",
        "The webhook recorded signed events it does not act on. First: GET /admin/events?status=ignored and their reason; a livemode mismatch means stripeLivemode disagrees with the Stripe account, an unhandled type an endpoint with extra events.",
        product("EventsIgnored", Duration.hours(1), [props.webhookService]),
        props.thresholds.eventsIgnoredPerHour,
      );
    }
    if (props.stripeKeyServices.length > 0) {
      alarm(
        "livemode-mismatch",
        "A function holds a Stripe key of the other mode than STRIPE_LIVEMODE and refuses to run. First: the key's prefix (sk_live_/sk_test_) in the stripe-secret-key secret against the stack's stripeLivemode.",
        // 15 minutes, the default schedule's period: the scheduled functions hit the guard that
        // often, so a mismatch stays in alarm instead of flapping between invocations.
        product("LivemodeMismatch", Duration.minutes(15), props.stripeKeyServices),
        // Any one: every function holding the key fails until it is fixed.
        1,
      );
    }
    const notConfiguredServices = [
      ...props.metricServices,
      ...(props.webhookService ? [props.webhookService] : []),
    ];
    if (notConfiguredServices.length > 0) {
      alarm(
        "not-configured",
        "A secret still holds its placeholder (or a value of the wrong form): the schedules skip their runs and the webhook answers 503. First: GET /health names it; set it with put-secret-value (README, Deploy).",
        // 15 minutes, the schedules' period: the skipped runs count it that often, so it stays in alarm until set.
        product("NotConfigured", Duration.minutes(15), notConfiguredServices),
        1,
      );
    }

    if (props.reconcile) {
      const { service, rate } = props.reconcile;
      const periods = reconcileOverduePeriods(props.reconcile);
      if (rate.toSeconds() * periods > ALARM_WINDOW_LIMIT.toSeconds()) {
        throw new Error(
          `scheduleRate ${rate.toHumanString()}: the reconcile-overdue alarm would watch ${periods} periods, over CloudWatch's one day`,
        );
      }
      alarm(
        "reconcile-failed",
        "A reconcile run ended failed (Stripe or integrator.io could not be read, or the run could not take its lease). First: GET /admin/reconcile (the runs), the run's error, then the reconcile log at its reconcileRunId.",
        product("ReconcileRunFailed", fiveMinutes, [service]),
        // Any one: the next scheduled run may succeed, but a failure means drift went unrepaired.
        1,
      );
      alarm(
        "reconcile-overdue",
        `No reconcile run completed in ${periods} schedule periods (${rate.toHumanString()} each): the runs fail, time out, crash, or are not started. First: reconcile-failed and reconcile-errors, then the schedule rule and the reconcile log.`,
        product("ReconcileRunCompleted", rate, [service]),
        1,
        {
          comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: periods,
          datapointsToAlarm: periods,
          // No run at all publishes nothing: a missing point is a run that did not complete.
          treatMissingData: TreatMissingData.BREACHING,
        },
      );
    }
    if (props.metricServices.length > 0) {
      alarm(
        "drift-found",
        "Reconcile repaired licenses the event path had not (missing, wrong edition or expiry, should be expired). First: the latest run's findings (GET /admin/reconcile/{runId}), then whether Stripe's deliveries arrive (events-ignored, webhook-4xx-spike).",
        product("DriftFound", Duration.hours(1)),
        props.thresholds.driftFoundPerHour,
      );
    }
  }
}

/** The sum of several metrics, missing points as 0 (one metric needs no expression). */
function sum(metrics: IMetric[], period: Duration, label: string): IMetric {
  if (metrics.length === 1 && metrics[0]) return metrics[0];
  // CloudWatch allows at most 10 metrics in one alarm's expression.
  if (metrics.length > 10)
    throw new Error(`${label}: ${metrics.length} metrics exceed CloudWatch's 10 per alarm`);
  const usingMetrics = Object.fromEntries(metrics.map((metric, index) => [`m${index}`, metric]));
  return new MathExpression({
    expression: Object.keys(usingMetrics)
      .map((key) => `FILL(${key}, 0)`)
      .join(" + "),
    usingMetrics,
    period,
    label,
  });
}

function pascalOf(name: string): string {
  return name
    .split("-")
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
}
