import { App, type CfnElement, Duration, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import { Queue } from "aws-cdk-lib/aws-sqs";
import type { IConstruct } from "constructs";
import { beforeAll, describe, expect, it } from "vitest";
import { type FunctionDefinition, functionTable } from "#lib/functions.ts";
import { METRICS_NAMESPACE } from "#lib/observability/metrics.ts";
import { routeKey, routes } from "#lib/routes.ts";
import {
  DEFAULT_THRESHOLDS,
  ProductAlarms,
  reconcileOverduePeriods,
  WEBHOOK_SERVER_ERRORS_METRIC,
} from "../../cdk/alarms.ts";
import { coldStartMetricName } from "../../cdk/dashboard.ts";
import { LicensingStack, RECONCILE_FUNCTION } from "../../cdk/licensing-stack.ts";
import { stacksFromContext } from "../../cdk/stacks-from-context.ts";

// Alarms, the dashboard and tracing (cdk/alarms.ts, cdk/dashboard.ts, cdk/product-function.ts).
// One synth for the file, without bundling: nothing here reads a bundle.

type Resource = { Type: string; Properties: Record<string, unknown> };
type Dimensions = Record<string, unknown>;
/** One metric an alarm reads, whether the alarm watches it alone or in a math expression. */
interface AlarmMetric {
  namespace: string;
  name: string;
  dimensions: Dimensions;
  period: number;
  statistic: string;
}

const functions = Object.entries(functionTable) as [string, FunctionDefinition][];
const STACK = "Licensing";
let stack: LicensingStack;
let resources: Record<string, Resource>;

const logicalId = (construct: IConstruct) =>
  stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnElement)) as string;
const functionRef = (name: string) => {
  const fn = stack.functions.get(name);
  if (!fn) throw new Error(`no function ${name}`);
  return { Ref: logicalId(fn.function) };
};
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const alarms = () => ofType("AWS::CloudWatch::Alarm").map(([, r]) => r.Properties);
const alarmNamed = (name: string) => {
  const found = alarms().find((a) => a.AlarmName === `${STACK}-${name}`);
  if (!found) throw new Error(`no alarm ${name}`);
  return found;
};
const dimensionsOf = (list: unknown): Dimensions =>
  Object.fromEntries(((list as { Name: string; Value: unknown }[]) ?? []).map((d) => [d.Name, d.Value]));
const metricsOf = (alarm: Record<string, unknown>): AlarmMetric[] => {
  if (alarm.MetricName) {
    return [
      {
        namespace: alarm.Namespace as string,
        name: alarm.MetricName as string,
        dimensions: dimensionsOf(alarm.Dimensions),
        period: alarm.Period as number,
        statistic: (alarm.Statistic ?? alarm.ExtendedStatistic) as string,
      },
    ];
  }
  type Stat = {
    MetricStat?: {
      Metric: { Namespace: string; MetricName: string; Dimensions: unknown };
      Period: number;
      Stat: string;
    };
  };
  return ((alarm.Metrics as Stat[]) ?? []).flatMap((m) =>
    m.MetricStat
      ? [
          {
            namespace: m.MetricStat.Metric.Namespace,
            name: m.MetricStat.Metric.MetricName,
            dimensions: dimensionsOf(m.MetricStat.Metric.Dimensions),
            period: m.MetricStat.Period,
            statistic: m.MetricStat.Stat,
          },
        ]
      : [],
  );
};
/** The services (Powertools' `service` dimension) an alarm sums `metric` over. */
const servicesOf = (alarm: Record<string, unknown>, metric: string) =>
  metricsOf(alarm)
    .filter((m) => m.namespace === METRICS_NAMESPACE && m.name === metric)
    .map((m) => m.dimensions.service)
    .sort();
const servicesNamed = (names: string[]) => names.map((name) => `integrator-licensing.${name}`).sort();
interface Widget {
  type: string;
  properties: { title?: string; metrics?: unknown[][]; alarms?: string[] };
}
/** The dashboard's widgets, its CloudFormation references written `ref:<id>` and `getatt:<id>.<attribute>`. */
const dashboardWidgets = (body: unknown): Widget[] => {
  const [, parts] = (body as { "Fn::Join": [string, unknown[]] })["Fn::Join"];
  const text = parts
    .map((part) => {
      if (typeof part === "string") return part;
      const ref = part as { Ref?: string; "Fn::GetAtt"?: string[] };
      if (ref.Ref) return `ref:${ref.Ref}`;
      if (ref["Fn::GetAtt"]) return `getatt:${ref["Fn::GetAtt"].join(".")}`;
      throw new Error(`unexpected token ${JSON.stringify(part)}`);
    })
    .join("");
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
};
const holding = (setting: string) =>
  functions.filter(([, f]) => f.access?.secrets?.includes(setting as never)).map(([name]) => name);
const workers = functions.filter(([, f]) => f.trigger === "queue").map(([name]) => name);

describe("LicensingStack observability", () => {
  beforeAll(() => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    stack = new LicensingStack(app, STACK, { alarmEmail: "ops@example.com" });
    resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  }, 300_000);

  it("sends every alarm, and only to, the alarm topic", () => {
    const topic = { Ref: logicalId(stack.alarms.topic as IConstruct) };
    expect(alarms().length).toBe(stack.alarms.alarms.length);
    // The original six, the webhook's 5xx, errors for each function but the queue workers (whose
    // errors are worker-errors), throttles for each, the queue's age, ignored events, the livemode
    // guard, secrets not configured, reconcile failed and overdue, drift.
    expect(alarms().length).toBe(6 + 1 + (functions.length - workers.length) + functions.length + 7);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions, alarm.AlarmName as string).toEqual([topic]);
      expect(String(alarm.AlarmDescription).length, alarm.AlarmName as string).toBeGreaterThan(40);
    }
  });

  it("alarms on the webhook's 5xx answers through an access-log filter", () => {
    const webhook = routes.find((r) => r.auth === "stripe");
    if (!webhook) throw new Error("no webhook route");
    const filters = ofType("AWS::Logs::MetricFilter").map(([, r]) => r.Properties);
    const filter = filters.find(
      (f) =>
        (f.MetricTransformations as { MetricName: string }[])[0]?.MetricName === WEBHOOK_SERVER_ERRORS_METRIC,
    );
    expect(filter).toMatchObject({
      LogGroupName: { Ref: logicalId(stack.httpApi.accessLogs) },
      FilterPattern: `{ ($.routeKey = "${routeKey(webhook)}") && ($.status >= 500) }`,
      MetricTransformations: [{ MetricNamespace: METRICS_NAMESPACE, MetricValue: "1" }],
    });
    const alarm = alarmNamed("webhook-5xx");
    expect(metricsOf(alarm)).toEqual([
      {
        namespace: METRICS_NAMESPACE,
        name: WEBHOOK_SERVER_ERRORS_METRIC,
        dimensions: {},
        period: 300,
        statistic: "Sum",
      },
    ]);
    expect(alarm).toMatchObject({
      Threshold: DEFAULT_THRESHOLDS.webhookServerErrorsPer5Min,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });

  it("alarms on each function's errors and throttles (the workers' errors in worker-errors)", () => {
    for (const [name] of functions) {
      for (const [kind, metric] of [
        ["errors", "Errors"],
        ["throttles", "Throttles"],
      ] as const) {
        const alarm =
          kind === "errors" && workers.includes(name)
            ? alarmNamed("worker-errors")
            : alarmNamed(`${name}-${kind}`);
        const watched = metricsOf(alarm).filter(
          (m) =>
            m.namespace === "AWS/Lambda" &&
            m.name === metric &&
            JSON.stringify(m.dimensions.FunctionName) === JSON.stringify(functionRef(name)),
        );
        expect(watched, `${name} ${metric}`).toEqual([
          expect.objectContaining({ period: 300, statistic: "Sum" }),
        ]);
        expect(alarm, `${name} ${metric}`).toMatchObject({
          Threshold: 1,
          ComparisonOperator: "GreaterThanOrEqualToThreshold",
        });
      }
    }
  });

  it("alarms on the age of the event queue's oldest message", () => {
    const alarm = alarmNamed("event-queue-age");
    expect(metricsOf(alarm)).toEqual([
      {
        namespace: "AWS/SQS",
        name: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: { "Fn::GetAtt": [logicalId(stack.queue), "QueueName"] } },
        period: 300,
        statistic: "Maximum",
      },
    ]);
    expect(alarm).toMatchObject({
      Threshold: DEFAULT_THRESHOLDS.queueOldestMessageSeconds,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });

  it("alarms on ignored events, drift and the livemode guard, over the functions that count them", () => {
    const webhook = routes.find((r) => r.auth === "stripe")?.function as string;
    const ignored = alarmNamed("events-ignored");
    expect(servicesOf(ignored, "EventsIgnored")).toEqual(servicesNamed([webhook]));
    expect(metricsOf(ignored)[0]).toMatchObject({ period: 3600, statistic: "Sum" });
    expect(ignored.Threshold).toBe(DEFAULT_THRESHOLDS.eventsIgnoredPerHour);

    const drift = alarmNamed("drift-found");
    expect(servicesOf(drift, "DriftFound")).toEqual(servicesNamed(holding("INTEGRATOR_TOKEN")));
    expect(servicesOf(drift, "DriftFound")).toContain(`integrator-licensing.${RECONCILE_FUNCTION}`);
    expect(metricsOf(drift).every((m) => m.period === 3600 && m.statistic === "Sum")).toBe(true);
    expect(drift.Threshold).toBe(DEFAULT_THRESHOLDS.driftFoundPerHour);

    const livemode = alarmNamed("livemode-mismatch");
    expect(servicesOf(livemode, "LivemodeMismatch")).toEqual(servicesNamed(holding("STRIPE_SECRET_KEY")));
    expect(livemode.Threshold).toBe(1);
    // A secret still holding its placeholder: the schedules and the webhook count it (lib/secrets.ts).
    const notConfigured = alarmNamed("not-configured");
    expect(servicesOf(notConfigured, "NotConfigured")).toEqual(
      expect.arrayContaining(servicesNamed([RECONCILE_FUNCTION, "listings-sync", "stripe-webhook"])),
    );
    expect(notConfigured.Threshold).toBe(1);
    for (const alarm of [ignored, drift, livemode, notConfigured])
      expect(alarm.ComparisonOperator).toBe("GreaterThanOrEqualToThreshold");
  });

  it("alarms on reconcile runs that fail, and on none completing for a few schedule periods", () => {
    const service = `integrator-licensing.${RECONCILE_FUNCTION}`;
    const failed = alarmNamed("reconcile-failed");
    expect(metricsOf(failed)).toEqual([
      {
        namespace: METRICS_NAMESPACE,
        name: "ReconcileRunFailed",
        dimensions: { service },
        period: 300,
        statistic: "Sum",
      },
    ]);
    expect(failed).toMatchObject({ Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold" });

    const overdue = alarmNamed("reconcile-overdue");
    expect(metricsOf(overdue)).toEqual([
      {
        namespace: METRICS_NAMESPACE,
        name: "ReconcileRunCompleted",
        dimensions: { service },
        period: 900,
        statistic: "Sum",
      },
    ]);
    expect(overdue).toMatchObject({
      Threshold: 1,
      ComparisonOperator: "LessThanThreshold",
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: "breaching",
    });
  });

  it("turns the schedule and the reconcile timeout into the overdue alarm's periods", () => {
    const timeout = Duration.seconds(functionTable.reconcile.timeoutSeconds);
    expect(reconcileOverduePeriods({ rate: Duration.minutes(15), timeout })).toBe(3);
    expect(reconcileOverduePeriods({ rate: Duration.minutes(5), timeout })).toBe(5);
    expect(reconcileOverduePeriods({ rate: Duration.hours(1), timeout })).toBe(3);
    // Past CloudWatch's one-day window the synth fails instead of the deploy.
    const bare = new Stack(new App(), "Bare");
    const queue = new Queue(bare, "Queue");
    expect(
      () =>
        new ProductAlarms(bare, "Alarms", {
          deadLetterQueue: queue,
          queue,
          workers: [],
          functions: new Map(),
          metricServices: [],
          stripeKeyServices: [],
          reconcile: { service: "reconcile", rate: Duration.hours(12), timeout },
          accessLogs: new LogGroup(bare, "Logs"),
          webhookRouteKey: undefined,
          thresholds: DEFAULT_THRESHOLDS,
        }),
    ).toThrow(/one day/);
  });

  it("has one dashboard naming every function, with the event path, integrator.io, licenses and reconcile", () => {
    const dashboards = ofType("AWS::CloudWatch::Dashboard");
    expect(dashboards).toHaveLength(1);
    const [, dashboard] = dashboards[0] as [string, Resource];
    expect(dashboard.Properties.DashboardName).toBe(`${STACK}-operations`);
    const widgets = dashboardWidgets(dashboard.Properties.DashboardBody);
    const graph = (title: string) => {
      const found = widgets.find((w) => w.properties.title === title);
      if (!found) throw new Error(`no widget ${title}`);
      return found.properties.metrics ?? [];
    };
    /** A graph's lines: each metric's name (or a search's metric name), its FunctionName and label. */
    const lines = (title: string) =>
      graph(title).map((line) => {
        const options = (line.find((part) => typeof part === "object") ?? {}) as Record<string, string>;
        const strings = line.filter((part): part is string => typeof part === "string");
        const searched = /MetricName="(\w+)"/.exec(options.expression ?? "")?.[1];
        const fn = strings.indexOf("FunctionName");
        return {
          metric: searched ?? strings[1],
          functionName: fn >= 0 ? strings[fn + 1] : undefined,
          label: options.label,
          stat: options.stat,
        };
      });
    const metricsOn = (title: string) => lines(title).map((l) => l.metric);

    for (const title of ["Duration p50 (ms)", "Duration p99 (ms)", "Errors", "Throttles", "Cold starts"]) {
      expect(
        lines(title)
          .map((l) => l.label)
          .sort(),
        title,
      ).toEqual(functions.map(([name]) => name).sort());
    }
    for (const [name] of functions) {
      const ref = `ref:${functionRef(name).Ref}`;
      for (const [title, stat] of [
        ["Duration p50 (ms)", "p50"],
        ["Duration p99 (ms)", "p99"],
      ] as const) {
        expect(lines(title), `${title} ${name}`).toContainEqual({
          metric: "Duration",
          functionName: ref,
          label: name,
          stat,
        });
      }
      expect(lines("Errors")).toContainEqual(
        expect.objectContaining({ metric: "Errors", functionName: ref }),
      );
      expect(lines("Throttles")).toContainEqual(
        expect.objectContaining({ metric: "Throttles", functionName: ref }),
      );
      expect(metricsOn("Cold starts")).toContain(coldStartMetricName(name));
    }
    expect(metricsOn("Stripe events: received → processed / failed")).toEqual(
      expect.arrayContaining(["EventsReceived", "EventsProcessed", "EventsFailed", "EventsIgnored"]),
    );
    expect(metricsOn("Event queue: depth, age and DLQ")).toEqual(
      expect.arrayContaining([
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateAgeOfOldestMessage",
      ]),
    );
    expect(JSON.stringify(graph("Event queue: depth, age and DLQ"))).toContain(
      logicalId(stack.deadLetterQueue),
    );
    expect(metricsOn("integrator.io: calls, retries and 429s; limiter waits")).toEqual([
      "IntegratorCalls",
      "IntegratorRetries",
      "IntegratorRateLimited",
      "LimiterWaitMs",
      "LimiterWaitMs",
    ]);
    expect(metricsOn("Licenses: state changes")).toEqual(
      expect.arrayContaining(["LicensesCreated", "LicensesUpdated", "LicensesExpired", "PendingUsers"]),
    );
    expect(metricsOn("Reconcile: runs and drift")).toEqual([
      "ReconcileRunCompleted",
      "ReconcileRunFailed",
      "DriftFound",
    ]);
    expect(metricsOn("Configuration: Stripe key of the wrong mode")).toEqual(["LivemodeMismatch"]);
    expect(metricsOn("HTTP API answers: errors")).toEqual(
      expect.arrayContaining(["4xx", "5xx", "WebhookClientErrors", WEBHOOK_SERVER_ERRORS_METRIC]),
    );
    // Every alarm's state is on it.
    const states = widgets.find((w) => w.type === "alarm")?.properties.alarms ?? [];
    expect(states.sort()).toEqual(stack.alarms.alarms.map((a) => `getatt:${logicalId(a)}.Arn`).sort());
    const outputs = Template.fromStack(stack).toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.DashboardName?.Value).toBe(`${STACK}-operations`);
  });

  it("counts cold starts per function from Lambda's REPORT lines", () => {
    const filters = ofType("AWS::Logs::MetricFilter").map(([, r]) => r.Properties);
    for (const [name, product] of stack.functions) {
      expect(filters, name).toContainEqual(
        expect.objectContaining({
          LogGroupName: { Ref: logicalId(product.logGroup) },
          FilterPattern: '"REPORT" "Init Duration"',
          MetricTransformations: [
            expect.objectContaining({
              MetricNamespace: METRICS_NAMESPACE,
              MetricName: coldStartMetricName(name),
            }),
          ],
        }),
      );
    }
  });

  it("traces every function actively, and lets only X-Ray's two actions use a wildcard resource", () => {
    const lambdas = ofType("AWS::Lambda::Function");
    expect(lambdas).toHaveLength(functions.length);
    for (const [id, fn] of lambdas) expect(fn.Properties.TracingConfig, id).toEqual({ Mode: "Active" });
    for (const [name, product] of stack.functions) {
      const role = logicalId(product.role);
      const statements = ofType("AWS::IAM::Policy")
        .filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(`"${role}"`))
        .flatMap(
          ([, p]) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
        );
      const wildcard = statements.filter((s) => s.Resource === "*");
      expect(wildcard, name).toEqual([
        { Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: "*" },
      ]);
    }
  });

  it("logs the API's request id in the access log, the id the HTTP functions log as requestId", () => {
    const [, stage] = ofType("AWS::ApiGatewayV2::Stage")[0] as [string, Resource];
    const format = (stage.Properties.AccessLogSettings as { Format: string }).Format;
    expect(JSON.parse(format.replace("$context.status", "200"))).toMatchObject({
      requestId: "$context.requestId",
    });
  });
});

describe("alarms without an e-mail", () => {
  it("have no actions", () => {
    const bare = new Stack(new App(), "Bare");
    const queue = new Queue(bare, "Queue");
    const created = new ProductAlarms(bare, "Alarms", {
      deadLetterQueue: queue,
      queue,
      workers: [],
      functions: new Map(),
      metricServices: [],
      stripeKeyServices: [],
      accessLogs: new LogGroup(bare, "Logs"),
      webhookRouteKey: undefined,
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(created.topic).toBeUndefined();
    Template.fromStack(bare).hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmActions: Match.absent(),
    });
  });
});

describe("the secrets' maxAge setting", () => {
  it("reaches every function holding a secret as SECRETS_MAX_AGE_SECONDS, from -c secretsMaxAgeSeconds", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [], secretsMaxAgeSeconds: "60" } });
    const { product } = stacksFromContext(app);
    const functionsResources = Object.values(
      Template.fromStack(product).toJSON().Resources as Record<string, Resource>,
    )
      .filter((resource) => resource.Type === "AWS::Lambda::Function")
      .map(
        (resource) =>
          (resource.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment
            ?.Variables ?? {},
      );
    const withSecrets = functionsResources.filter((variables) =>
      Object.keys(variables).some((name) => name.endsWith("_SECRET_ID")),
    );
    expect(withSecrets.length).toBeGreaterThan(0);
    for (const variables of withSecrets) expect(variables.SECRETS_MAX_AGE_SECONDS).toBe("60");
  }, 300_000);
});
