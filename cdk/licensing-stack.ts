import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Annotations,
  CfnOutput,
  CfnParameter,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from "aws-cdk-lib";
import { AttributeType, Billing, TableV2 } from "aws-cdk-lib/aws-dynamodb";
import { EventBus, Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { type Policy, PolicyStatement, User } from "aws-cdk-lib/aws-iam";
import type { IDestination, IFunction } from "aws-cdk-lib/aws-lambda";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import type { SecretSetting } from "../lib/config.ts";
import { type FunctionDefinition, functionTable } from "../lib/functions.ts";
import { parseCatalog } from "../lib/licensing/catalog.ts";
import { queueDefinition } from "../lib/queue/definition.ts";
import { type RouteDefinition, routeKey, routes as routeTable } from "../lib/routes.ts";
import { tableDefinition } from "../lib/store/table.ts";
import { type AlarmThresholds, DEFAULT_THRESHOLDS, ProductAlarms } from "./alarms.ts";
import { BUNDLED_CATALOG_FILE, functionConstructId, LAMBDA_TASK_ROOT, pascal } from "./bundling.ts";
import { ProductDashboard } from "./dashboard.ts";
import { ProductEdge } from "./edge.ts";
import { ProductHttpApi } from "./http-api.ts";
import { ProductFunction } from "./product-function.ts";
import { ProductSecrets, secretNameOf } from "./secrets.ts";
import { DEFAULT_ROUTE_THROTTLES, type RouteThrottles } from "./throttles.ts";

/** The repository root: entries, the lockfile and a relative catalog path are resolved from here. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The function integrator.io invokes in Lambda-stack mode. */
export const EXTENSION_FUNCTION = "integrator-extension";
/** The function behind the API's `$default` route. */
export const DEFAULT_ROUTE_FUNCTION = "fallback";
/** The scheduled function whose runs count `ReconcileRunCompleted` and `ReconcileRunFailed` (lib/reconcile/run.ts). */
export const RECONCILE_FUNCTION = "reconcile";

export interface LicensingStackProps extends StackProps {
  /**
   * Production data safety (default true): the table gets deletion protection and, like the
   * secrets and log groups, is retained when the stack is deleted. `false` for throwaway stacks.
   */
  retainData?: boolean;
  /** The vendor's catalog file, absolute or relative to the repository root (default `local/catalog.json`). */
  catalogPath?: string;
  /** integrator.io API base (default US `https://api.integrator.io/v1`; EU `https://api.eu.integrator.io/v1`). */
  integratorApiUrl?: string;
  /** The Stripe account's mode (default false: test mode); events of the other mode are ignored. */
  stripeLivemode?: boolean;
  /** Stripe API base (default `https://api.stripe.com`). */
  stripeApiUrl?: string;
  /** Share of integrator.io's account rate limit this deployment may use (`INTEGRATOR_RATE_SHARE`, default 1). */
  integratorRateShare?: number;
  /** Most of the refill the bulk lane takes while other calls wait (`INTEGRATOR_BULK_SHARE`, default 0.2). */
  integratorBulkShare?: number;
  /** How long a warm function keeps a secret before reading it again (SECRETS_MAX_AGE_SECONDS; default 300). */
  secretsMaxAgeSeconds?: number;
  logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
  /** Retention of function and access logs (default one month). */
  logRetention?: RetentionDays;
  /** Secrets that already exist (name or complete ARN per setting) instead of new ones. */
  existingSecrets?: Partial<Record<SecretSetting, string>>;
  /** Alarm notifications go to this address through an SNS topic (default: alarms without actions). */
  alarmEmail?: string;
  alarmThresholds?: Partial<AlarmThresholds>;
  /** API throttles per route class, over DEFAULT_ROUTE_THROTTLES (cdk/throttles.ts). */
  throttles?: Partial<RouteThrottles>;
  /**
   * CloudFront and WAF in front of the API (cdk/edge.ts, cdk/edge-waf-stack.ts): the API then
   * answers only on `originDomain`, which the distribution calls (a public name: whoever finds it
   * skips the WAF, not the route throttles or the handlers' checks).
   */
  edge?: EdgeSettings;
  /** Most concurrent worker invocations (default 10; the integrator.io bucket is the real limit). */
  workerMaxConcurrency?: number;
  /** How often `schedule` functions run (default 15 minutes). */
  scheduleRate?: Duration;
  /** integrator.io's Lambda-stack mode: an IAM user that may only invoke the extension function. */
  lambdaStack?: boolean;
  /** The function and route tables (default lib/functions.ts and lib/routes.ts; tests pass their own). */
  functions?: Readonly<Record<string, FunctionDefinition>>;
  routes?: readonly RouteDefinition[];
}

export interface EdgeSettings {
  /** The API's custom domain CloudFront calls, e.g. `api-origin.example.com` (a CNAME to `EdgeOriginTarget`). */
  originDomain: string;
  /** Its ACM certificate, in the stack's region. */
  originCertificateArn: string;
  /** The `WebAclArn` output of the edge's WAF stack (us-east-1). */
  webAclArn: string;
}

/** Origins as lib/config.ts reads them: comma-separated `http(s)://host[:port]`, without a path. */
const ORIGINS_PATTERN = "^https?://[^/\\s,]+(\\s*,\\s*https?://[^/\\s,]+)*$";

const key = (name: string) => ({ name, type: AttributeType.STRING });

/**
 * The production stack, derived from the shared tables: a new entry in lib/functions.ts or
 * lib/routes.ts needs no change here. docs/architecture.md §1, §6, §9.
 */
export class LicensingStack extends Stack {
  readonly table: TableV2;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** Where Lambda records a scheduled or bus-started invocation that failed (on-failure destination). */
  readonly asyncFailures: Queue;
  readonly eventBus: EventBus;
  readonly secrets: ProductSecrets;
  readonly httpApi: ProductHttpApi;
  readonly edge: ProductEdge | undefined;
  readonly functions = new Map<string, ProductFunction>();
  readonly alarms: ProductAlarms;
  readonly dashboard: ProductDashboard;
  readonly invokeUser: User | undefined;

  constructor(scope: Construct, id: string, props: LicensingStackProps = {}) {
    super(scope, id, props);
    const functions = props.functions ?? functionTable;
    const routes = props.routes ?? routeTable;
    const retain = props.retainData ?? true;
    // RetainExceptOnCreate: kept when the stack is deleted or the resource replaced, but removed
    // when the create that made it rolls back, so a first deploy that fails half-way can simply be
    // run again (a kept secret's fixed name would fail the retry with "already exists").
    const dataRemoval = retain ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const catalogFile = checkedCatalog(props.catalogPath ?? "local/catalog.json");
    const edge = props.edge && checkedEdge(props.edge);

    this.table = new TableV2(this, "Table", {
      partitionKey: key(tableDefinition.partitionKey),
      sortKey: key(tableDefinition.sortKey),
      billing: Billing.onDemand(),
      timeToLiveAttribute: tableDefinition.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // No deletion protection: CloudFormation cannot delete a protected table, so the rollback of
      // a failed first create would end ROLLBACK_FAILED instead of removing it (RetainExceptOnCreate).
      // The stack's delete and a replacement keep the table (the removal policy); a table deleted
      // by hand leaves PITR's system backup for 35 days.
      deletionProtection: false,
      removalPolicy: dataRemoval,
      globalSecondaryIndexes: tableDefinition.globalSecondaryIndexes.map((g) => ({
        indexName: g.indexName,
        partitionKey: key(g.partitionKey),
        sortKey: key(g.sortKey),
      })),
    });

    // AWS: the source queue's visibility timeout should be at least 6 × the consumer's timeout.
    const longestWorker = Math.max(
      0,
      ...Object.values(functions)
        .filter((f) => f.trigger === "queue")
        .map((f) => f.timeoutSeconds),
    );
    const fifo = {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(queueDefinition.retentionSeconds),
      // High-throughput FIFO: deduplication and throughput per message group (one customer).
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
    };
    this.deadLetterQueue = new Queue(this, "DeadLetterQueue", fifo);
    // A standard queue, not the DLQ: Lambda's destinations cannot target a FIFO queue, and the
    // alarm topic exists only with alarmEmail. A record here is the failed invocation's event and
    // error (the `<fn>-errors` alarm pages; this is what to look at), kept 14 days.
    this.asyncFailures = new Queue(this, "AsyncFailures", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.asyncFailures).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself the dead end of failed scheduled invocations (Lambda's on-failure destination); nothing consumes it, so there is nothing to redrive to a DLQ.",
    });
    this.queue = new Queue(this, "EventQueue", {
      ...fifo,
      visibilityTimeout: Duration.seconds(
        Math.max(queueDefinition.visibilityTimeoutSeconds, 6 * longestWorker),
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: queueDefinition.maxReceiveCount },
    });

    this.eventBus = new EventBus(this, "DomainEvents", {
      description: "integrator-licensing domain events (docs/architecture.md §1)",
    });
    this.secrets = new ProductSecrets(this, "Secrets", {
      namePrefix: this.stackName,
      existing: props.existingSecrets,
      removalPolicy: dataRemoval,
      uniqueNames: !retain,
    });

    const environment: Record<string, string> = {
      TABLE_NAME: this.table.tableName,
      QUEUE_URL: this.queue.queueUrl,
      DLQ_URL: this.deadLetterQueue.queueUrl,
      CATALOG_PATH: `${LAMBDA_TASK_ROOT}/${BUNDLED_CATALOG_FILE}`,
      INTEGRATOR_API_URL: props.integratorApiUrl ?? "https://api.integrator.io/v1",
      // Explicit: lib/config.ts picks the simulator while no key is in the environment, and in
      // Lambda the key only arrives later, from Secrets Manager.
      STRIPE_API_URL: props.stripeApiUrl ?? "https://api.stripe.com",
      // Likewise the mode: the webhook ignores events of the other mode, and it has no key to read it from.
      STRIPE_LIVEMODE: String(props.stripeLivemode ?? false),
      LOG_LEVEL: props.logLevel ?? "INFO",
      // No NODE_OPTIONS=--enable-source-maps: with it Node parses the bundle's source map (≈ 1 MB of
      // JSON) at every cold start, before the first line runs (bench/coldstart.ts: more GC and init
      // time than the naive bundle, which has no map). The map still ships beside the bundle
      // (cdk/bundling.ts), so a minified stack trace can be mapped back offline.
    };
    if (props.integratorRateShare !== undefined)
      environment.INTEGRATOR_RATE_SHARE = String(props.integratorRateShare);
    if (props.integratorBulkShare !== undefined)
      environment.INTEGRATOR_BULK_SHARE = String(props.integratorBulkShare);
    if (props.secretsMaxAgeSeconds !== undefined)
      environment.SECRETS_MAX_AGE_SECONDS = String(props.secretsMaxAgeSeconds);
    // Parameters without a default: the first deploy names them (later ones keep them), and no
    // function ever falls back to lib/config.ts's local http://localhost:3000.
    const origins = (id: string, description: string) =>
      new CfnParameter(this, id, {
        type: "String",
        description,
        allowedPattern: ORIGINS_PATTERN,
        constraintDescription: "comma-separated origins like https://shop.example.com (no path)",
      }).valueAsString;
    environment.CHECKOUT_ALLOWED_ORIGINS = origins(
      "CheckoutAllowedOrigins",
      "Origins checkout success/cancel and billing-portal return URLs may point at (CHECKOUT_ALLOWED_ORIGINS)",
    );
    environment.CORS_ALLOWED_ORIGINS = origins(
      "CorsAllowedOrigins",
      "Origins allowed to call the marketplace routes from a browser (CORS_ALLOWED_ORIGINS)",
    );

    const resources = {
      table: this.table,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      eventBus: this.eventBus,
      secrets: this.secrets,
    };
    for (const [name, definition] of Object.entries(functions)) {
      this.functions.set(
        name,
        new ProductFunction(this, functionConstructId(name), {
          name,
          definition,
          resources,
          environment,
          projectRoot: PROJECT_ROOT,
          catalogFile,
          logRetention,
          logRemovalPolicy: dataRemoval,
          queueMaxConcurrency: props.workerMaxConcurrency ?? 10,
        }),
      );
    }
    const lambdas = new Map<string, IFunction>([...this.functions].map(([name, fn]) => [name, fn.function]));

    this.httpApi = new ProductHttpApi(this, "Http", {
      routes,
      functions: lambdas,
      defaultFunction: DEFAULT_ROUTE_FUNCTION,
      stackFunction: EXTENSION_FUNCTION,
      throttles: { ...DEFAULT_ROUTE_THROTTLES, ...props.throttles },
      logRetention,
      logRemovalPolicy: dataRemoval,
      ...(edge
        ? { originDomain: { name: edge.originDomain, certificateArn: edge.originCertificateArn } }
        : {}),
    });
    this.edge =
      edge && new ProductEdge(this, "Edge", { originDomain: edge.originDomain, webAclArn: edge.webAclArn });

    const scheduleRate = props.scheduleRate ?? Duration.minutes(15);
    for (const [name, definition] of Object.entries(functions)) {
      if (definition.trigger !== "schedule") continue;
      new Rule(this, `${pascal(name)}Schedule`, {
        description: `Runs ${name} on a schedule`,
        schedule: Schedule.rate(scheduleRate),
        // A missed run is repaired by the next one; retrying an old run past that only overlaps.
        // These retries are EventBridge's delivery (the Invoke call failed); the function's own
        // failures are not retried (configureAsyncInvoke below).
        targets: [
          new LambdaFunction(lambdas.get(name) as IFunction, {
            retryAttempts: 2,
            maxEventAge: Duration.minutes(10),
          }),
        ],
      });
    }

    for (const [name, definition] of Object.entries(functions)) {
      for (const pattern of definition.busEvents ?? []) {
        new Rule(this, `${pascal(name)}On${pascal(pattern.detailType)}`, {
          description: `${pattern.source} ${pattern.detailType} → ${name}`,
          eventBus: this.eventBus,
          eventPattern: { source: [pattern.source], detailType: [pattern.detailType] },
          targets: [new LambdaFunction(lambdas.get(name) as IFunction, { retryAttempts: 2 })],
        });
      }
    }

    // Scheduled and bus-started functions run once per start: Lambda's async invoke would retry a
    // failed run twice over up to 6 h, overlapping the next scheduled one. A failure goes to
    // asyncFailures and counts in the function's `<name>-errors` alarm.
    for (const [name, definition] of Object.entries(functions)) {
      if (definition.trigger !== "schedule" && (definition.busEvents?.length ?? 0) === 0) continue;
      this.functions.get(name)?.function.configureAsyncInvoke({
        retryAttempts: 0,
        onFailure: sendOnly(this.asyncFailures),
      });
    }

    const webhookRoute = routes.find((r) => r.auth === "stripe");
    const holding = (setting: SecretSetting) =>
      Object.entries(functions)
        .filter(([, f]) => f.access?.secrets?.includes(setting))
        .map(([name]) => name);
    const reconcile = functions[RECONCILE_FUNCTION];
    this.alarms = new ProductAlarms(this, "Alarms", {
      deadLetterQueue: this.deadLetterQueue,
      queue: this.queue,
      workers: Object.entries(functions)
        .filter(([, f]) => f.trigger === "queue")
        .map(([name]) => lambdas.get(name) as IFunction),
      functions: lambdas,
      // Everything that calls integrator.io or provisions (both need INTEGRATOR_TOKEN) emits the product metrics.
      metricServices: holding("INTEGRATOR_TOKEN"),
      webhookService: webhookRoute?.function,
      stripeKeyServices: holding("STRIPE_SECRET_KEY"),
      ...(reconcile?.trigger === "schedule"
        ? {
            reconcile: {
              service: RECONCILE_FUNCTION,
              rate: scheduleRate,
              timeout: Duration.seconds(reconcile.timeoutSeconds),
            },
          }
        : {}),
      accessLogs: this.httpApi.accessLogs,
      webhookRouteKey: webhookRoute && routeKey(webhookRoute),
      thresholds: { ...DEFAULT_THRESHOLDS, ...props.alarmThresholds },
      email: props.alarmEmail,
    });
    this.dashboard = new ProductDashboard(this, "Operations", {
      functions: new Map(
        [...this.functions].map(([name, product]) => [
          name,
          { fn: product.function, logGroup: product.logGroup },
        ]),
      ),
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      httpApi: this.httpApi.api,
      webhookClientErrors: this.alarms.webhookClientErrors,
      webhookServerErrors: this.alarms.webhookServerErrors,
      alarms: this.alarms.alarms,
    });

    if (props.lambdaStack) {
      const extension = lambdas.get(EXTENSION_FUNCTION);
      if (extension) {
        // integrator.io's Lambda stack signs its calls with this user's access key (created with the CLI, never in an output).
        this.invokeUser = new User(this, "IntegratorInvokeUser");
        this.invokeUser.addToPolicy(
          new PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [extension.functionArn] }),
        );
        // Kept, with its policy, when a later deploy goes without lambdaStack: integrator.io signs
        // with this user's access key, and deleting it would break the connector until a new key is
        // stored there. Removed by hand when no longer used (README, Deploy).
        this.invokeUser.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
        (this.invokeUser.node.tryFindChild("DefaultPolicy") as Policy | undefined)?.applyRemovalPolicy(
          RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        );

        new CfnOutput(this, "IntegratorInvokeUserName", {
          value: this.invokeUser.userName,
          description:
            "aws iam create-access-key --user-name <this>; store the key in integrator.io's Lambda stack",
        });
        new CfnOutput(this, "IntegratorExtensionFunctionName", {
          value: extension.functionName,
          description: "The function name for integrator.io's Lambda stack",
        });
      } else {
        Annotations.of(this).addWarningV2(
          "integrator-licensing:lambdaStackWithoutExtension",
          `lambdaStack is set but lib/functions.ts has no "${EXTENSION_FUNCTION}" function: no IAM user was created.`,
        );
      }
    }

    const base = this.edge?.url ?? this.httpApi.url;
    new CfnOutput(this, "ApiUrl", { value: base, description: "Base URL of the HTTP API" });
    if (this.httpApi.originDomain) {
      new CfnOutput(this, "EdgeOriginTarget", {
        value: this.httpApi.originDomain.regionalDomainName,
        description: `DNS: ${props.edge?.originDomain} CNAME to this (CloudFront's way to the API)`,
      });
    }
    if (webhookRoute) {
      new CfnOutput(this, "WebhookUrl", {
        value: `${base}${webhookRoute.path}`,
        description: "Stripe webhook endpoint URL",
      });
    }
    new CfnOutput(this, "IntegratorHostUri", {
      value: `${base}/integrator`,
      description: "hostURI of the integrator.io stack (HTTP server stack)",
    });
    new CfnOutput(this, "EventBusName", {
      value: this.eventBus.eventBusName,
      description: "Domain events (EVENT_BUS_NAME)",
    });
    for (const [setting, secretId] of Object.entries(this.secrets.secretIds)) {
      new CfnOutput(this, `${pascal(secretNameOf(setting as SecretSetting))}SecretId`, {
        value: secretId,
        description: `Secrets Manager id of ${setting}`,
      });
    }
    if (this.alarms.topic) new CfnOutput(this, "AlarmTopicArn", { value: this.alarms.topic.topicArn });
    new CfnOutput(this, "DashboardName", {
      value: this.dashboard.dashboardName,
      description:
        "The CloudWatch dashboard of the event path, integrator.io, licenses, reconcile and functions",
    });
  }
}

/**
 * An SQS on-failure destination granting only `sqs:SendMessage`, what Lambda does with the
 * function's role (SqsDestination's grant adds GetQueueAttributes and GetQueueUrl, never used).
 */
function sendOnly(queue: Queue): IDestination {
  return {
    bind: (_scope, fn) => {
      fn.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queueArn] }));
      return { destination: queue.queueArn };
    },
  };
}

/** The edge's settings, checked now: a typo fails the synth, not CloudFront's deploy an hour later. */
function checkedEdge(edge: EdgeSettings): EdgeSettings {
  const checks: [keyof EdgeSettings, RegExp, string][] = [
    ["originDomain", /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/i, "a host name"],
    [
      "originCertificateArn",
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/,
      "an ACM certificate ARN",
    ],
    [
      "webAclArn",
      /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]+\/[\w-]+$/,
      "a CloudFront (global, us-east-1) web ACL ARN",
    ],
  ];
  for (const [name, pattern, what] of checks) {
    if (!pattern.test(edge[name]))
      throw new Error(`edge: ${name} ${JSON.stringify(edge[name])} is not ${what}`);
  }
  return edge;
}

/** The catalog file, resolved and validated now: a bad catalog fails the synth, not a cold start. */
function checkedCatalog(path: string): string {
  const file = isAbsolute(path) ? path : resolve(PROJECT_ROOT, path);
  if (!existsSync(file)) throw new Error(`catalogPath: ${file} does not exist`);
  parseCatalog(JSON.parse(readFileSync(file, "utf8")));
  return file;
}
