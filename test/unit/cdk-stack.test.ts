import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { App, type CfnElement, type PolicyViolation, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { buildSync } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { LOCAL_DEFAULTS, loadConfig, SECRET_SETTINGS } from "#lib/config.ts";
import { type FunctionDefinition, type FunctionName, functionTable } from "#lib/functions.ts";
import { METRICS_NAMESPACE } from "#lib/observability/metrics.ts";
import { queueDefinition } from "#lib/queue/definition.ts";
import { methodsOf, routes } from "#lib/routes.ts";
import { tableDefinition } from "#lib/store/table.ts";
import { declaredActions, QUEUE_VERB_ACTIONS, SDK_COMMAND_ACTIONS } from "#test/helpers/declared-access.ts";
import { ESM_REQUIRE_BANNER, esbuildEquivalent } from "../../cdk/bundling.ts";
import { LicensingStack } from "../../cdk/licensing-stack.ts";
import { DEFAULT_ROUTE_THROTTLES, headThrottle, routeClass } from "../../cdk/throttles.ts";

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, string>;
  DeletionPolicy?: string;
};

const functions = Object.entries(functionTable) as [string, FunctionDefinition][];
let stack: LicensingStack;
let template: Template;
let resources: Record<string, Resource>;
let outdir: string;
let nagViolations: PolicyViolation[];

const logicalId = (construct: IConstruct) =>
  stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnElement)) as string;
const functionId = (name: string) => {
  const fn = stack.functions.get(name);
  if (!fn) throw new Error(`no function ${name}`);
  return logicalId(fn.function);
};
const environmentOf = (name: string) =>
  ((resources[functionId(name)] as Resource).Properties.Environment as { Variables: Record<string, unknown> })
    .Variables;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const statementsOf = (roleLogicalId: string) =>
  ofType("AWS::IAM::Policy")
    .filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(`"${roleLogicalId}"`))
    .flatMap(
      ([, p]) =>
        (
          p.Properties.PolicyDocument as {
            Statement: { Action: string | string[]; Resource: unknown; Condition?: unknown }[];
          }
        ).Statement,
    )
    .map((s) => ({
      actions: [s.Action].flat(),
      resource: JSON.stringify(s.Resource),
      condition: s.Condition,
    }));
/**
 * What a function's code imports from the AWS SDK: its entry bundled as deployed but with
 * `@aws-sdk/*` left as imports (unminified), so each command it can send is named. The deployed
 * bundle carries the SDK minified (cdk/bundling.ts), with the credential chain's own clients
 * (STS, SSO) beside ours, so it no longer tells which commands our code sends.
 */
const sdkImports = new Map<string, string>();
const bundleOf = (name: string) => {
  const cached = sdkImports.get(name);
  if (cached !== undefined) return cached;
  const result = buildSync({
    ...esbuildEquivalent,
    entryPoints: [(functionTable as Record<string, FunctionDefinition>)[name]?.entry as string],
    external: ["@aws-sdk/*"],
    minify: false,
    write: false,
    outdir: "out",
    logLevel: "error",
  });
  const text = result.outputFiles.map((file) => file.text).join("\n");
  sdkImports.set(name, text);
  return text;
};

/**
 * IAM actions a function's bundle could send (the SDK command ships with a module it imports)
 * that it never does, and why: the bundle-based check below must not read them as calls.
 */
const LICENSES_OF_OTHERS =
  "Licenses (lib/store/licenses.ts) ships whole: only reconcile reads owners in batches and only the admin API scans";
const TABLE_DELETE =
  "Table.delete ships with the table (lib/store/dynamo.ts): only leases and trial claims delete, in the admin, reconcile and marketplace functions";
const shippedNeverCalled: Partial<Record<FunctionName, Record<string, string>>> = {
  "stripe-webhook": {
    "dynamodb:DeleteItem": TABLE_DELETE,
    "dynamodb:Query":
      "Inbox.list and Inbox.stale are the admin API's and reconcile's; the webhook records, reads and moves one event",
    "dynamodb:BatchGetItem": LICENSES_OF_OTHERS,
    "dynamodb:Scan": LICENSES_OF_OTHERS,
  },
  "provision-worker": {
    "dynamodb:BatchGetItem": LICENSES_OF_OTHERS,
    "dynamodb:Scan": LICENSES_OF_OTHERS,
    "dynamodb:DeleteItem": TABLE_DELETE,
  },
  marketplace: { "dynamodb:BatchGetItem": LICENSES_OF_OTHERS, "dynamodb:Scan": LICENSES_OF_OTHERS },
  "listings-sync": {
    "dynamodb:BatchGetItem": LICENSES_OF_OTHERS,
    "dynamodb:Scan": LICENSES_OF_OTHERS,
    "dynamodb:DeleteItem":
      "Trial claims ship with the marketplace context (and Table.delete with the table); only checkout lets one go",
  },
  "integrator-extension": {
    "dynamodb:DeleteItem": TABLE_DELETE,
    "dynamodb:BatchGetItem": LICENSES_OF_OTHERS,
    "dynamodb:Scan": LICENSES_OF_OTHERS,
    "dynamodb:PutItem":
      "The stack writes installs and bindings by conditional UpdateItem; its domain events go to the bus (only the local stack records them with a put)",
  },
  console: {
    "dynamodb:Query":
      "Operators.list is the admin API's (GET /admin/operators); the console reads one operator by name",
    "dynamodb:UpdateItem": "Operators.revoke is the admin API's (DELETE /admin/operators/{name})",
  },
  admin: {
    "dynamodb:BatchGetItem":
      "Licenses.owners is a reconcile run's: in AWS the admin API only starts runs, through the bus",
  },
  reconcile: { "dynamodb:Scan": "Licenses.list is the admin API's license list without a state" },
};

describe("LicensingStack", () => {
  beforeAll(() => {
    // One synth for the file: bundling every function takes a few seconds each.
    // Asset metadata (as the CLI asks for it) tells where each function's bundle was staged.
    const app = new App({ context: { "aws:cdk:enable-asset-metadata": true } });
    stack = new LicensingStack(app, "Licensing", { alarmEmail: "ops@example.com", lambdaStack: true });
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources as Record<string, Resource>;
    outdir = app.outdir;
    nagViolations = new AwsSolutionsChecks(app).validateScope(app).violations;
  }, 300_000);

  it("has one function per function-table entry and nothing else running code", () => {
    template.resourceCountIs("AWS::Lambda::Function", functions.length);
    template.resourceCountIs("AWS::DynamoDB::GlobalTable", 1);
    // The event queue, its DLQ, and the standard queue of failed async invocations (scheduled, bus-started).
    template.resourceCountIs("AWS::SQS::Queue", 3);
    template.resourceCountIs("AWS::Events::EventBus", 1);
    template.resourceCountIs("AWS::SecretsManager::Secret", SECRET_SETTINGS.length);
    template.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
    template.resourceCountIs("AWS::ApiGatewayV2::Stage", 1);
    template.resourceCountIs("AWS::ApiGatewayV2::Route", routes.flatMap((r) => methodsOf(r)).length + 1);
    template.resourceCountIs(
      "AWS::Lambda::EventSourceMapping",
      functions.filter(([, f]) => f.trigger === "queue").length,
    );
    template.resourceCountIs(
      "AWS::Events::Rule",
      functions.filter(([, f]) => f.trigger === "schedule").length +
        functions.reduce((n, [, f]) => n + (f.busEvents?.length ?? 0), 0),
    );
    template.resourceCountIs("AWS::SNS::Topic", 1);
    template.resourceCountIs("AWS::IAM::AccessKey", 0);
  });

  it("builds every function as arm64 Node.js 22 ESM with the table's timeout, memory and the bundled catalog", () => {
    for (const [name, definition] of functions) {
      const fn = resources[functionId(name)] as Resource;
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        Timeout: definition.timeoutSeconds,
        MemorySize: definition.memoryMb,
      });
      const assetDir = join(outdir, fn.Metadata?.["aws:asset:path"] as string);
      const bundle = readFileSync(join(assetDir, "index.mjs"), "utf8");
      expect(bundle.startsWith(ESM_REQUIRE_BANNER), name).toBe(true);
      // docs/architecture.md §8's size budget; the timing targets are bench/coldstart.ts.
      // index.mjs and the chunks it may load (cdk/bundling.ts splits).
      const javascript = readdirSync(assetDir, { recursive: true, encoding: "utf8" }).filter((f) =>
        f.endsWith(".mjs"),
      );
      expect(javascript, name).toContain("index.mjs");
      const bytes = javascript.reduce((sum, file) => sum + statSync(join(assetDir, file)).size, 0);
      expect(bytes, name).toBeLessThanOrEqual(1024 * 1024);
      // Nothing external (cdk/bundling.ts): the SDK clients are in the bundle, in the pinned version,
      // never loaded from the runtime's node_modules.
      for (const file of javascript)
        expect(
          readFileSync(join(assetDir, file), "utf8"),
          `${name}/${file} imports a package at run time`,
        ).not.toMatch(
          /(?:\bfrom\s*|\bimport\()["'](?:@aws-sdk|@smithy|stripe|zod|@middy|@aws-lambda-powertools)[^"']*["']/,
        );
      expect(
        javascript.map((file) => readFileSync(join(assetDir, file), "utf8")).join("\n"),
        `${name} carries the AWS SDK`,
      ).toMatch(/dynamodb|secretsmanager|sqs|eventbridge/i);
      // Node would parse the source map at every cold start (bench/coldstart.ts).
      const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> }).Variables;
      expect(String(variables?.NODE_OPTIONS ?? ""), name).not.toContain("--enable-source-maps");
      expect(JSON.parse(readFileSync(join(assetDir, "catalog.json"), "utf8"))).toEqual(
        JSON.parse(readFileSync("local/catalog.json", "utf8")),
      );
    }
  });

  it("defines the table from lib/store/table.ts: on demand, PITR, kept unless its own create fails, TTL, GSIs", () => {
    const [, table] = ofType("AWS::DynamoDB::GlobalTable")[0] as [string, Resource];
    // RetainExceptOnCreate, hence no deletion protection: a protected table would fail the rollback
    // of a failed first create (test/unit/cdk-deploy-robustness.test.ts).
    expect(table.DeletionPolicy).toBe("RetainExceptOnCreate");
    expect(table.Properties).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey, KeyType: "HASH" },
        { AttributeName: tableDefinition.sortKey, KeyType: "RANGE" },
      ],
      Replicas: [
        {
          DeletionProtectionEnabled: false,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
      ],
    });
    expect(
      (table.Properties.GlobalSecondaryIndexes as { IndexName: string }[]).map((g) => g.IndexName),
    ).toEqual(tableDefinition.globalSecondaryIndexes.map((g) => g.indexName));
  });

  it("makes the event queue high-throughput FIFO with an encrypted DLQ after 5 receives", () => {
    const worker = functions.find(([, f]) => f.trigger === "queue")?.[1] as FunctionDefinition;
    const dlq = logicalId(stack.deadLetterQueue);
    const queue = resources[logicalId(stack.queue)] as Resource;
    expect(queue.Properties).toMatchObject({
      FifoQueue: true,
      DeduplicationScope: "messageGroup",
      FifoThroughputLimit: "perMessageGroupId",
      SqsManagedSseEnabled: true,
      RedrivePolicy: {
        deadLetterTargetArn: { "Fn::GetAtt": [dlq, "Arn"] },
        maxReceiveCount: queueDefinition.maxReceiveCount,
      },
    });
    expect(queue.Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * worker.timeoutSeconds);
    expect((resources[dlq] as Resource).Properties).toMatchObject({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
    });
    // enforceSSL on every queue (the async-failures queue too).
    template.resourcePropertiesCountIs(
      "AWS::SQS::QueuePolicy",
      {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          ]),
        },
      },
      3,
    );
  });

  it("routes every entry of lib/routes.ts (a GET's HEAD too), and $default, to its function with payload v2", () => {
    const integrationTarget = (route: Resource) => {
      const join = (route.Properties.Target as { "Fn::Join": [string, [string, { Ref: string }]] })[
        "Fn::Join"
      ];
      return resources[join[1][1].Ref] as Resource;
    };
    const routeResources = ofType("AWS::ApiGatewayV2::Route").map(([, r]) => r);
    const expected = [
      ...routes.flatMap((r) =>
        methodsOf(r).map((method) => ({ key: `${method} ${r.path}`, fn: r.function })),
      ),
      { key: "$default", fn: "fallback" },
    ];
    for (const { key, fn } of expected) {
      const route = routeResources.find((r) => r.Properties.RouteKey === key);
      expect(route, key).toBeDefined();
      const integration = integrationTarget(route as Resource);
      expect(integration.Properties, key).toMatchObject({
        IntegrationType: "AWS_PROXY",
        PayloadFormatVersion: "2.0",
        IntegrationUri: { "Fn::GetAtt": [functionId(fn), "Arn"] },
      });
    }
  });

  it("throttles each route by who calls it, and writes JSON access logs without headers", () => {
    const [stageId, stage] = ofType("AWS::ApiGatewayV2::Stage")[0] as [string, Resource];
    expect(stage.Properties).toMatchObject({
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: DEFAULT_ROUTE_THROTTLES.default.rateLimit,
        ThrottlingBurstLimit: DEFAULT_ROUTE_THROTTLES.default.burstLimit,
      },
      AccessLogSettings: { DestinationArn: { "Fn::GetAtt": [logicalId(stack.httpApi.accessLogs), "Arn"] } },
    });
    const settings = stage.Properties.RouteSettings as Record<string, Record<string, number>>;
    const keys = routes.flatMap((r) => methodsOf(r).map((method) => `${method} ${r.path}`));
    expect(Object.keys(settings).sort()).toEqual([...keys].sort());
    const budget = (key: string) => settings[key]?.ThrottlingRateLimit ?? 0;
    // Stripe's deliveries and integrator.io's calls each have their own, larger budget.
    expect(budget("POST /webhooks/stripe")).toBe(DEFAULT_ROUTE_THROTTLES.webhook.rateLimit);
    expect(budget("POST /integrator/function")).toBe(DEFAULT_ROUTE_THROTTLES.stack.rateLimit);
    for (const r of routes) {
      const throttle = DEFAULT_ROUTE_THROTTLES[routeClass(r, "integrator-extension")];
      expect(settings[`${r.method} ${r.path}`], `${r.method} ${r.path}`).toEqual({
        ThrottlingRateLimit: throttle.rateLimit,
        ThrottlingBurstLimit: throttle.burstLimit,
      });
      if (r.method !== "GET") continue;
      // HEAD runs the whole GET handler in its own bucket (API Gateway throttles per route key):
      // a fifth of the GET's, at least 1, so HEAD cannot double what the GET admits.
      const head = settings[`HEAD ${r.path}`];
      expect(head, `HEAD ${r.path}`).toEqual({
        ThrottlingRateLimit: Math.max(1, throttle.rateLimit / 5),
        ThrottlingBurstLimit: Math.max(1, Math.ceil(throttle.burstLimit / 5)),
      });
      expect(head?.ThrottlingRateLimit, `HEAD ${r.path}`).toBeLessThan(throttle.rateLimit);
      expect(head?.ThrottlingBurstLimit, `HEAD ${r.path}`).toBeLessThan(throttle.burstLimit);
    }
    expect(headThrottle({ rateLimit: 2, burstLimit: 3 })).toEqual({ rateLimit: 1, burstLimit: 1 });
    expect(headThrottle({ rateLimit: 0.5, burstLimit: 1 })).toEqual({ rateLimit: 0.5, burstLimit: 1 });
    for (const key of ["GET /marketplace/connectors", "POST /checkout/sessions", "GET /admin/licenses"]) {
      expect(budget(key), key).toBeLessThan(budget("POST /integrator/function"));
    }
    expect(budget("POST /checkout/sessions")).toBeLessThan(budget("GET /admin/licenses"));
    // Route settings name routes, which must exist before the stage.
    const dependsOn = (template.toJSON().Resources[stageId] as { DependsOn?: string[] }).DependsOn ?? [];
    expect(dependsOn.filter((id) => resources[id]?.Type === "AWS::ApiGatewayV2::Route")).toHaveLength(
      keys.length,
    );
    const format = (stage.Properties.AccessLogSettings as { Format: string }).Format;
    expect(Object.keys(JSON.parse(format.replace("$context.status", "200")))).toEqual(
      expect.arrayContaining(["routeKey", "status"]),
    );
    expect(format.toLowerCase()).not.toMatch(/authorization|signature|header/);
  });

  it("feeds the queue worker through SQS with partial batch responses and a concurrency cap", () => {
    for (const [name] of functions.filter(([, f]) => f.trigger === "queue")) {
      template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        FunctionName: { Ref: functionId(name) },
        EventSourceArn: { "Fn::GetAtt": [logicalId(stack.queue), "Arn"] },
        BatchSize: queueDefinition.batchSize,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        ScalingConfig: { MaximumConcurrency: 10 },
      });
    }
  });

  it("runs every schedule function every 15 minutes", () => {
    for (const [name] of functions.filter(([, f]) => f.trigger === "schedule")) {
      template.hasResourceProperties("AWS::Events::Rule", {
        ScheduleExpression: "rate(15 minutes)",
        Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [functionId(name), "Arn"] } })],
      });
    }
  });

  it("invokes each function on its bus events (a rule on the product bus per pattern)", () => {
    const withEvents = functions.filter(([, f]) => (f.busEvents?.length ?? 0) > 0);
    for (const [name, definition] of withEvents) {
      for (const pattern of definition.busEvents ?? []) {
        template.hasResourceProperties("AWS::Events::Rule", {
          EventBusName: { Ref: logicalId(stack.eventBus) },
          EventPattern: { source: [pattern.source], "detail-type": [pattern.detailType] },
          Targets: [Match.objectLike({ Arn: { "Fn::GetAtt": [functionId(name), "Arn"] } })],
        });
      }
    }
  });

  it("grants each function exactly the calls its `access` declares, on named resources only", () => {
    const table = `"${logicalId(stack.table)}"`;
    const queue = `"${logicalId(stack.queue)}"`;
    const dlq = `"${logicalId(stack.deadLetterQueue)}"`;
    const bus = `"${logicalId(stack.eventBus)}"`;
    const asyncFailures = `"${logicalId(stack.asyncFailures)}"`;
    const queueTrigger = ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"];
    for (const [name, definition] of functions) {
      const access = definition.access ?? {};
      const product = stack.functions.get(name);
      const role = resources[logicalId(product?.role as IConstruct)] as Resource;
      expect(role.Properties.ManagedPolicyArns, `${name} uses a managed policy`).toBeUndefined();
      const statements = statementsOf(logicalId(product?.role as IConstruct));
      const on = (ref: string) => statements.filter((s) => s.resource.includes(ref));
      const actionsOn = (ref: string) => [...new Set(on(ref).flatMap((s) => s.actions))].sort();

      // Active tracing: X-Ray's two actions have no resource-level permissions (test/unit/cdk-observability.test.ts).
      const tracing = statements.filter(
        (s) => s.actions.join() === "xray:PutTraceSegments,xray:PutTelemetryRecords" && s.resource === '"*"',
      );
      expect(tracing, name).toHaveLength(1);
      for (const s of statements.filter((s) => !tracing.includes(s)))
        expect(s.resource, `${name}: ${s.actions}`).not.toMatch(/"\*"|:\*"|\/\*"/);
      // Logs: only its own log group.
      const logs = `"${logicalId(product?.logGroup as IConstruct)}"`;
      expect(actionsOn(logs)).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);

      // The table: exactly the declared actions; the indexes only for Query and Scan.
      const tableActions = (access.table?.actions ?? []).map((action) => `dynamodb:${action}`).sort();
      expect(actionsOn(table), name).toEqual(tableActions);
      expect(
        on("/index/").flatMap((s) => s.actions),
        name,
      ).toEqual(tableActions.filter((a) => a === "dynamodb:Query" || a === "dynamodb:Scan"));
      const leadingKeys = (prefixes: readonly string[] | undefined) =>
        prefixes
          ? { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": prefixes.map((p) => `${p}*`) } }
          : undefined;
      const readOnly = access.table?.readOnlyKeyPrefixes;
      for (const statement of on(table)) {
        if (readOnly && JSON.stringify(statement.condition) === JSON.stringify(leadingKeys(readOnly))) {
          // Read-only items: only the declared reads.
          for (const action of statement.actions)
            expect(["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"], name).toContain(action);
          continue;
        }
        expect(statement.condition, name).toEqual(leadingKeys(access.table?.keyPrefixes));
      }

      const verbs = (list: readonly (keyof typeof QUEUE_VERB_ACTIONS)[] = []) =>
        list.flatMap((verb) => QUEUE_VERB_ACTIONS[verb]);
      expect(actionsOn(queue), name).toEqual(
        [
          ...new Set([...verbs(access.queue), ...(definition.trigger === "queue" ? queueTrigger : [])]),
        ].sort(),
      );
      expect(actionsOn(dlq), name).toEqual([...new Set(verbs(access.dlq))].sort());
      expect(actionsOn(bus), name).toEqual(access.eventBus ? ["events:PutEvents"] : []);
      // Lambda's on-failure destination of a scheduled or bus-started function (Lambda sends with its role).
      const startedAsync = definition.trigger === "schedule" || (definition.busEvents?.length ?? 0) > 0;
      expect(actionsOn(asyncFailures), name).toEqual(startedAsync ? ["sqs:SendMessage"] : []);

      // Secrets: GetSecretValue (lib/secrets.ts calls nothing else), on the declared ones only.
      const secretStatements = statements.filter((s) =>
        s.actions.some((a) => a.startsWith("secretsmanager:")),
      );
      for (const s of secretStatements) expect(s.actions, name).toEqual(["secretsmanager:GetSecretValue"]);
      expect(secretStatements.map((s) => s.resource).sort(), name).toEqual(
        (access.secrets ?? [])
          .map((setting) => `{"Ref":"${logicalId(stack.secrets.secrets[setting])}"}`)
          .sort(),
      );

      // Nothing else anywhere.
      expect(statements.length, name).toBe(
        on(logs).length +
          on(table).length +
          on(queue).length +
          on(dlq).length +
          on(bus).length +
          on(asyncFailures).length +
          secretStatements.length +
          tracing.length,
      );
    }
  });

  it("grants no call a function's code cannot make; what its bundle could send but never does is explained", () => {
    for (const [name, definition] of functions) {
      const shipped = new Set<string>();
      for (const [, command] of bundleOf(name).matchAll(/\b([A-Z][A-Za-z]*Command)\b/g)) {
        const action = SDK_COMMAND_ACTIONS[command as string];
        expect(action, `${name} ships ${command}: add its IAM action to SDK_COMMAND_ACTIONS`).toBeDefined();
        if (action && !action.startsWith("secretsmanager:")) shipped.add(action);
      }
      const declared = declaredActions(definition.access);
      for (const action of declared)
        expect(shipped, `${name} is granted ${action}, which its code never sends`).toContain(action);
      const explained = shippedNeverCalled[name as FunctionName] ?? {};
      const undeclared = [...shipped].filter((action) => !declared.has(action));
      expect(
        undeclared.filter((action) => !(action in explained)),
        `${name}: declare in lib/functions.ts, or explain`,
      ).toEqual([]);
      expect(Object.keys(explained).sort(), `${name}: explanations of what it no longer ships`).toEqual(
        undeclared.sort(),
      );
    }
  });

  it("gives a route's credential only to the functions that serve routes of its kind", () => {
    const credentials = {
      admin: "ADMIN_TOKEN",
      system: "INTEGRATOR_SYSTEM_TOKEN",
      stripe: "STRIPE_WEBHOOK_SECRET",
    } as const;
    for (const [kind, secret] of Object.entries(credentials)) {
      const serving = new Set(routes.filter((r) => r.auth === kind).map((r) => r.function));
      const holding = functions.filter(([, f]) => f.access?.secrets?.includes(secret)).map(([n]) => n);
      expect(holding.sort(), secret).toEqual([...serving].sort());
      // ...and those functions serve nothing anyone may call without it, but health checks.
      for (const fn of serving) {
        const open = routes.filter((r) => r.function === fn && r.auth !== kind && !/health/i.test(r.path));
        expect(
          open.map((r) => `${r.method} ${r.path}`),
          `${fn} holds ${secret}`,
        ).toEqual([]);
      }
    }
  });

  it("keeps secret values out of the template and the environment: only *_SECRET_ID, only where granted", () => {
    for (const [, secret] of ofType("AWS::SecretsManager::Secret")) {
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(secret.Properties.GenerateSecretString).toBeDefined();
    }
    const secretValues = [
      ...SECRET_SETTINGS.map((s) => LOCAL_DEFAULTS[s]),
      "sk_live_",
      "sk_test_",
      "rk_live_",
      "whsec_",
    ];
    for (const [name, definition] of functions) {
      const variables = environmentOf(name);
      for (const setting of SECRET_SETTINGS) expect(variables, name).not.toHaveProperty(setting);
      for (const value of Object.values(variables)) {
        for (const secretValue of secretValues)
          expect(JSON.stringify(value), name).not.toContain(secretValue);
      }
      const ids = Object.keys(variables).filter((k) => k.endsWith("_SECRET_ID"));
      expect(ids.sort(), name).toEqual(
        (definition.access?.secrets ?? []).map((s) => `${s}_SECRET_ID`).sort(),
      );
      for (const id of ids) {
        const ref = (variables[id] as { Ref: string }).Ref;
        expect(resources[ref]?.Type, `${name} ${id}`).toBe("AWS::SecretsManager::Secret");
      }
    }
  });

  it("takes the allowed origins as parameters without a default; nothing in the template defaults to localhost", () => {
    const parameters = template.toJSON().Parameters as Record<string, Record<string, string>>;
    for (const [id, setting] of [
      ["CheckoutAllowedOrigins", "CHECKOUT_ALLOWED_ORIGINS"],
      ["CorsAllowedOrigins", "CORS_ALLOWED_ORIGINS"],
    ] as const) {
      expect(parameters[id], id).toMatchObject({ Type: "String" });
      expect(parameters[id], id).not.toHaveProperty("Default");
      const pattern = new RegExp(parameters[id]?.AllowedPattern ?? "");
      for (const good of ["https://shop.example.com", "https://a.example.com, https://b.example.com:8443"])
        expect(pattern.test(good), good).toBe(true);
      for (const bad of ["", "shop.example.com", "https://shop.example.com/path", "ftp://shop.example.com"])
        expect(pattern.test(bad), bad).toBe(false);
      for (const [name] of functions) expect(environmentOf(name)[setting], name).toEqual({ Ref: id });
    }
    expect(JSON.stringify(template.toJSON())).not.toMatch(/localhost|127\.0\.0\.1/);
  });

  it("gives every function an environment lib/config.ts accepts in Lambda", () => {
    for (const [name, definition] of functions) {
      const variables = environmentOf(name);
      // What deploy resolves: the origin parameters to origins, other references to some name.
      const env = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [
          k,
          typeof v === "string"
            ? v
            : k.endsWith("_ALLOWED_ORIGINS")
              ? "https://shop.example.com"
              : `resolved-at-deploy-${k.toLowerCase()}`,
        ]),
      );
      const config = loadConfig({ ...env, AWS_LAMBDA_FUNCTION_NAME: name, AWS_REGION: "eu-west-1" });
      expect(config.inLambda).toBe(true);
      expect(config.catalogPath).toBe("/var/task/catalog.json");
      expect(config.stripeApiUrl).toBe("https://api.stripe.com");
      expect(config.integratorApiUrl).toBe("https://api.integrator.io/v1");
      expect(config.tableName).toBe("resolved-at-deploy-table_name");
      expect(config.secrets, name).toEqual({});
      expect(Object.keys(config.secretIds).sort(), name).toEqual(
        [...(definition.access?.secrets ?? [])].sort(),
      );
      expect(config.eventBusName !== "", name).toBe(definition.access?.eventBus === true);
      expect(config.checkoutAllowedOrigins, name).toEqual(["https://shop.example.com"]);
    }
  });

  it("alarms on the DLQ, worker errors, the product metrics and a webhook 4xx spike, to the SNS topic", () => {
    // The alarms added since (functions, queue age, reconcile, ...): test/unit/cdk-observability.test.ts.
    const alarms = ofType("AWS::CloudWatch::Alarm").map(([, a]) => JSON.stringify(a.Properties));
    const topic = `"${logicalId(stack.alarms.topic as IConstruct)}"`;
    for (const alarm of alarms) expect(alarm).toContain(topic);
    expect(
      alarms.some(
        (a) =>
          a.includes("ApproximateNumberOfMessagesVisible") && a.includes(logicalId(stack.deadLetterQueue)),
      ),
    ).toBe(true);
    expect(alarms.some((a) => a.includes('"Errors"') && a.includes("AWS/Lambda"))).toBe(true);
    const emitters = functions
      .filter(([, f]) => f.access?.secrets?.includes("INTEGRATOR_TOKEN"))
      .map(([name]) => name);
    for (const metric of ["IntegratorRateLimited", "PendingUsers", "UnknownPrices"]) {
      const alarm = alarms.find((a) => a.includes(`"${metric}"`));
      expect(alarm, metric).toBeDefined();
      expect(alarm).toContain(METRICS_NAMESPACE);
      for (const emitter of emitters)
        expect(alarm, `${metric} ${emitter}`).toContain(`integrator-licensing.${emitter}`);
    }
    template.hasResourceProperties("AWS::Logs::MetricFilter", {
      LogGroupName: { Ref: logicalId(stack.httpApi.accessLogs) },
      FilterPattern: Match.stringLikeRegexp(
        '\\$\\.routeKey = "POST /webhooks/stripe".*\\$\\.status >= 400.*\\$\\.status < 500',
      ),
      MetricTransformations: [
        Match.objectLike({ MetricNamespace: METRICS_NAMESPACE, MetricName: "WebhookClientErrors" }),
      ],
    });
    expect(alarms.some((a) => a.includes("WebhookClientErrors"))).toBe(true);
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.com",
    });
  });

  it("in Lambda-stack mode, lets one IAM user invoke only the extension function, without an access key", () => {
    const extension = functionTable["integrator-extension" as keyof typeof functionTable];
    if (!extension) return;
    const user = logicalId(stack.invokeUser as IConstruct);
    const policies = ofType("AWS::IAM::Policy").filter(([, p]) =>
      JSON.stringify(p.Properties.Users ?? []).includes(user),
    );
    expect(policies.map(([, p]) => p.Properties.PolicyDocument)).toEqual([
      {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "lambda:InvokeFunction",
            Resource: { "Fn::GetAtt": [functionId("integrator-extension"), "Arn"] },
          },
        ],
      },
    ]);
  });

  it("outputs the API URL, the webhook URL and integrator.io's hostURI", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const api = { "Fn::GetAtt": [logicalId(stack.httpApi.api), "ApiEndpoint"] };
    expect(outputs.ApiUrl?.Value).toEqual(api);
    expect(outputs.WebhookUrl?.Value).toEqual({ "Fn::Join": ["", [api, "/webhooks/stripe"]] });
    expect(outputs.IntegratorHostUri?.Value).toEqual({ "Fn::Join": ["", [api, "/integrator"]] });
  });

  it("passes cdk-nag AwsSolutions with every acknowledgement explained", () => {
    expect(
      nagViolations.map(
        (v) => `${v.severity} ${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`,
      ),
    ).toEqual([]);
    const reasons: string[] = [];
    const walk = (construct: IConstruct) => {
      for (const entry of construct.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          reasons.push(...Object.values(entry.data as Record<string, string>));
      }
      for (const child of construct.node.children) walk(child);
    };
    walk(stack);
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) expect(reason.length, reason).toBeGreaterThanOrEqual(60);
  });

  it("cdk-nag really checks in this CDK version (a bare queue is reported)", () => {
    const app = new App();
    new Queue(new Stack(app, "Bare"), "Queue");
    const rules = new AwsSolutionsChecks(app).validateScope(app).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(["AwsSolutions-SQS3", "AwsSolutions-SQS4"]));
  });
});

describe("LicensingStack with the vendor's existing secrets, as a throwaway stack", () => {
  it("imports the secrets by name, creates none, and lets the table go with the stack", () => {
    const app = new App();
    const existing = Object.fromEntries(SECRET_SETTINGS.map((s) => [s, `vendor/${s.toLowerCase()}`]));
    const small = new LicensingStack(app, "Throwaway", {
      retainData: false,
      existingSecrets: existing,
      functions: { fallback: functionTable.fallback, "provision-worker": functionTable["provision-worker"] },
      routes: [],
    });
    const t = Template.fromStack(small);
    t.resourceCountIs("AWS::SecretsManager::Secret", 0);
    t.resourceCountIs("AWS::Lambda::Function", 2);
    t.hasResource("AWS::DynamoDB::GlobalTable", {
      DeletionPolicy: "Delete",
      Properties: Match.objectLike({ Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })] }),
    });
    t.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ INTEGRATOR_TOKEN_SECRET_ID: "vendor/integrator_token" }) },
    });
    t.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: "secretsmanager:GetSecretValue",
            Resource: { "Fn::Join": ["", Match.arrayWith([":secret:vendor/integrator_token-??????"])] },
          }),
        ]),
      },
    });
  }, 120_000);
});
