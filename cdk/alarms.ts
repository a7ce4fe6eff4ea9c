import { Duration, Stack } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { FilterPattern, type ILogGroup, MetricFilter } from "aws-cdk-lib/aws-logs";
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
}

export const DEFAULT_THRESHOLDS: AlarmThresholds = {
  rateLimitedPer5Min: 1,
  pendingUsersPerHour: 10,
  unknownPricesPer5Min: 1,
  webhookClientErrorsPer5Min: 10,
};

export interface ProductAlarmsProps {
  deadLetterQueue: Queue;
  /** The SQS consumers whose errors page someone. */
  workers: IFunction[];
  /**
   * The functions that emit the product metrics (Powertools sets dimension
   * `service = integrator-licensing.<function name>`); each alarm sums them.
   */
  metricServices: string[];
  /** The HTTP API's access logs and the webhook's route key, for the 4xx metric filter. */
  accessLogs: ILogGroup;
  webhookRouteKey: string | undefined;
  thresholds: AlarmThresholds;
  /** Alarm e-mails go here (an SNS topic); none = alarms without actions. */
  email?: string;
}

/** The metric the access-log filter writes for the webhook's 4xx answers. */
export const WEBHOOK_CLIENT_ERRORS_METRIC = "WebhookClientErrors";

/** CloudWatch alarms on the metric names of docs/architecture.md §9, optionally sent to an e-mail through SNS. */
export class ProductAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  readonly topic: Topic | undefined;

  constructor(scope: Construct, id: string, props: ProductAlarmsProps) {
    super(scope, id);
    const prefix = Stack.of(this).stackName;
    const fiveMinutes = Duration.minutes(5);
    if (props.email) {
      this.topic = new Topic(this, "Topic", { displayName: `${prefix} alarms`, enforceSSL: true });
      this.topic.addSubscription(new EmailSubscription(props.email));
    }
    const alarm = (name: string, description: string, metric: IMetric, threshold: number) => {
      const created = new Alarm(this, pascalOf(name), {
        alarmName: `${prefix}-${name}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
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
    const product = (metric: MetricName, period: Duration) =>
      sum(
        props.metricServices.map(
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
      const filter = new MetricFilter(this, "WebhookClientErrors", {
        logGroup: props.accessLogs,
        metricNamespace: METRICS_NAMESPACE,
        metricName: WEBHOOK_CLIENT_ERRORS_METRIC,
        filterPattern: FilterPattern.all(
          FilterPattern.stringValue("$.routeKey", "=", props.webhookRouteKey),
          FilterPattern.numberValue("$.status", ">=", 400),
          FilterPattern.numberValue("$.status", "<", 500),
        ),
        metricValue: "1",
      });
      alarm(
        "webhook-4xx-spike",
        "The Stripe webhook rejects deliveries (400 = bad signature): check STRIPE_WEBHOOK_SECRET against the endpoint's signing secret.",
        filter.metric({ period: fiveMinutes, statistic: "Sum" }),
        props.thresholds.webhookClientErrorsPer5Min,
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
