import { Duration, Stack } from "aws-cdk-lib";
import type { IHttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  type IWidget,
  MathExpression,
  type Metric,
  Stats,
  TextWidget,
} from "aws-cdk-lib/aws-cloudwatch";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { FilterPattern, type ILogGroup, MetricFilter } from "aws-cdk-lib/aws-logs";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { METRICS_NAMESPACE, type MetricName } from "../lib/observability/metrics.ts";
import { pascal } from "./bundling.ts";

export interface ProductDashboardProps {
  /** Every function of the function table, by name, with the log group Lambda writes its REPORT lines to. */
  functions: ReadonlyMap<string, { fn: IFunction; logGroup: ILogGroup }>;
  queue: Queue;
  deadLetterQueue: Queue;
  httpApi: IHttpApi;
  /** The webhook's 4xx and 5xx answers (cdk/alarms.ts's access-log filters), when there is a webhook. */
  webhookClientErrors?: Metric;
  webhookServerErrors?: Metric;
  /** Shown at the top, their state at a glance. */
  alarms: IAlarm[];
}

/** The metric each function's cold-start filter writes (one metric per function: a filter's dimensions can only come from the log line). */
export const coldStartMetricName = (name: string) => `ColdStarts-${name}`;

const PERIOD = Duration.minutes(5);
const FULL = 24;
const HALF = 12;
const THIRD = 8;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard, `<stackName>-operations`: the alarms, the event path, integrator.io,
 * licenses, reconcile, then each function's durations, cold starts, errors and throttles. Product
 * metrics are drawn with `SUM(SEARCH(...))` over the namespace, whatever function emitted them
 * (alarms cannot search; cdk/alarms.ts names the emitters). Metrics the code does not emit are not
 * drawn: integrator.io's call count and the limiter's waits (docs/architecture.md §9 lists what is).
 */
export class ProductDashboard extends Construct {
  readonly dashboard: Dashboard;
  readonly dashboardName: string;

  constructor(scope: Construct, id: string, props: ProductDashboardProps) {
    super(scope, id);
    this.dashboardName = `${Stack.of(this).stackName}-operations`;
    const functions = [...props.functions];

    // Lambda publishes no cold-start metric: its REPORT line carries "Init Duration" only after an init.
    const coldStarts = functions.map(([name, { logGroup }]) =>
      new MetricFilter(this, `${pascal(name)}ColdStarts`, {
        logGroup,
        metricNamespace: METRICS_NAMESPACE,
        metricName: coldStartMetricName(name),
        filterPattern: FilterPattern.allTerms("REPORT", "Init Duration"),
        metricValue: "1",
      }).metric({ period: PERIOD, statistic: Stats.SUM, label: name }),
    );

    /** A product metric over every function that emits it: `SUM` of its sums, or another statistic. */
    const product = (metric: MetricName, label: string = metric, statistic = "Sum", combine = "SUM") =>
      new MathExpression({
        expression: `${combine}(SEARCH('Namespace="${METRICS_NAMESPACE}" MetricName="${metric}"', '${statistic}', ${PERIOD.toSeconds()}))`,
        usingMetrics: {},
        label,
        period: PERIOD,
      });
    const perFunction = (metric: (fn: IFunction, name: string) => IMetric) =>
      functions.map(([name, { fn }]) => metric(fn, name));
    const graph = (
      title: string,
      left: IMetric[],
      options: { right?: IMetric[]; width?: number; stacked?: boolean } = {},
    ) =>
      new GraphWidget({
        title,
        left,
        right: options.right ?? [],
        width: options.width ?? HALF,
        height: HEIGHT,
        stacked: options.stacked ?? false,
        period: PERIOD,
      });
    const heading = (markdown: string) => new TextWidget({ markdown, width: FULL, height: 1 });

    const rows: IWidget[][] = [
      [new AlarmStatusWidget({ title: "Alarms", alarms: props.alarms, width: FULL, height: 4 })],
      [heading("### Event path: Stripe → webhook → inbox → queue → worker → integrator.io")],
      [
        graph("Stripe events: received → processed / failed", [
          product("EventsReceived", "received"),
          product("EventsProcessed", "processed"),
          product("EventsFailed", "failed"),
          product("EventsIgnored", "ignored"),
          product("EventsUnrecognised", "unrecognised"),
          product("RecordsDeferred", "deferred to SQS"),
        ]),
        graph(
          "Event queue: depth, age and DLQ",
          [
            props.queue.metricApproximateNumberOfMessagesVisible({
              statistic: Stats.MAXIMUM,
              label: "waiting",
            }),
            props.queue.metricApproximateNumberOfMessagesNotVisible({
              statistic: Stats.MAXIMUM,
              label: "in flight",
            }),
            props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
              statistic: Stats.MAXIMUM,
              label: "DLQ",
            }),
          ],
          {
            right: [
              props.queue.metricApproximateAgeOfOldestMessage({
                statistic: Stats.MAXIMUM,
                label: "oldest message age (s)",
              }),
            ],
          },
        ),
      ],
      [
        graph(
          "HTTP API answers: errors",
          [
            props.httpApi.metricClientError({ statistic: Stats.SUM, label: "API 4xx" }),
            props.httpApi.metricServerError({ statistic: Stats.SUM, label: "API 5xx" }),
            ...(props.webhookClientErrors ? [props.webhookClientErrors.with({ label: "webhook 4xx" })] : []),
            ...(props.webhookServerErrors ? [props.webhookServerErrors.with({ label: "webhook 5xx" })] : []),
          ],
          { width: THIRD },
        ),
        graph(
          "integrator.io: calls, retries and 429s; limiter waits",
          [
            product("IntegratorCalls", "calls"),
            product("IntegratorRetries", "retries"),
            product("IntegratorRateLimited", "429 answers"),
          ],
          {
            width: THIRD,
            right: [
              product("LimiterWaitMs", "limiter wait, average (ms)", "Average", "AVG"),
              product("LimiterWaitMs", "limiter wait, longest (ms)", "Maximum", "MAX"),
            ],
          },
        ),
        graph(
          "Licenses: state changes",
          [
            product("LicensesCreated", "created"),
            product("LicensesUpdated", "updated"),
            product("LicensesExpired", "expired"),
            product("PendingUsers", "pending user"),
            product("UnknownPrices", "unknown price"),
            product("QuantitiesCapped", "quantity capped"),
          ],
          { width: THIRD },
        ),
      ],
      [
        graph("Reconcile: runs and drift", [
          product("ReconcileRunCompleted", "runs completed"),
          product("ReconcileRunFailed", "runs failed"),
          product("DriftFound", "drift found"),
        ]),
        graph("Configuration: Stripe key of the wrong mode", [
          product("LivemodeMismatch", "livemode mismatch"),
        ]),
      ],
      [heading("### Functions")],
      [
        graph(
          "Duration p50 (ms)",
          perFunction((fn, name) => fn.metricDuration({ statistic: Stats.p(50), label: name })),
        ),
        graph(
          "Duration p99 (ms)",
          perFunction((fn, name) => fn.metricDuration({ statistic: Stats.p(99), label: name })),
        ),
      ],
      [
        graph("Cold starts", coldStarts, { width: THIRD }),
        graph(
          "Errors",
          perFunction((fn, name) => fn.metricErrors({ statistic: Stats.SUM, label: name })),
          { width: THIRD },
        ),
        graph(
          "Throttles",
          perFunction((fn, name) => fn.metricThrottles({ statistic: Stats.SUM, label: name })),
          { width: THIRD },
        ),
      ],
    ];

    this.dashboard = new Dashboard(this, "Dashboard", {
      dashboardName: this.dashboardName,
      defaultInterval: Duration.hours(6),
      widgets: rows,
    });
  }
}
