import { resolve } from "node:path";
import { Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import type { TableV2 } from "aws-cdk-lib/aws-dynamodb";
import type { IEventBus } from "aws-cdk-lib/aws-events";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { SecretSetting } from "../lib/config.ts";
import {
  type FunctionDefinition,
  type QueueAccess,
  READ_TABLE_ACTIONS,
  type TableAccess,
  type TableAction,
} from "../lib/functions.ts";
import { queueDefinition } from "../lib/queue/definition.ts";
import { tableDefinition } from "../lib/store/table.ts";
import { BUNDLED_CONSOLE_DIR, BUNDLED_DOCS_DIR, LAMBDA_TASK_ROOT, lambdaBundling } from "./bundling.ts";
import type { ProductSecrets } from "./secrets.ts";

/** The shared resources a function may be granted (see `FunctionAccess` in lib/functions.ts). */
export interface ProductResources {
  table: TableV2;
  queue: Queue;
  deadLetterQueue: Queue;
  eventBus: IEventBus;
  secrets: ProductSecrets;
}

export interface ProductFunctionProps {
  /** The function-table name, e.g. `provision-worker`. */
  name: string;
  definition: FunctionDefinition;
  resources: ProductResources;
  /** Non-secret settings every function gets (lib/config.ts names). */
  environment: Record<string, string>;
  projectRoot: string;
  /** Absolute path of the catalog file copied into the bundle. */
  catalogFile: string;
  logRetention: RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  /** Cap on concurrent worker invocations for a `queue` function. */
  queueMaxConcurrency: number;
}

/** Table actions that read through the indexes as well. */
const INDEX_ACTIONS = new Set(["Query", "Scan"]);
/** Table actions without an item key, which `dynamodb:LeadingKeys` cannot hold to some items. */
const KEYLESS_ACTIONS = new Set(["Scan", "DescribeTable"]);

const QUEUE_ACTIONS: Record<QueueAccess, string[]> = {
  send: ["sqs:SendMessage"],
  consume: ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"],
  attributes: ["sqs:GetQueueAttributes"],
};
/** What Lambda's SQS event source mapping does with the function's role (AWS Lambda docs, "Execution role permissions"). */
const QUEUE_TRIGGER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"];

/**
 * One function of the function table: its log group (retention set), its own role with exactly
 * what `access` declares (no AWS managed policy, no `*` resource but X-Ray's two), the secrets'
 * ids in its environment, active tracing, and its SQS trigger when it is the queue consumer.
 */
export class ProductFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ProductFunctionProps) {
    super(scope, id);
    const { definition, resources } = props;
    const access = definition.access ?? {};

    this.logGroup = new LogGroup(this, "Logs", {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `integrator-licensing ${props.name}: only what lib/functions.ts declares`,
    });
    // Lambda writes to the log group we created, so it needs neither CreateLogGroup nor a managed policy.
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const environment: Record<string, string> = { ...props.environment };
    if (definition.servesConsole)
      environment.CONSOLE_ASSETS_DIR = `${LAMBDA_TASK_ROOT}/${BUNDLED_CONSOLE_DIR}`;
    if (definition.servesDocs) environment.DOCS_ASSETS_DIR = `${LAMBDA_TASK_ROOT}/${BUNDLED_DOCS_DIR}`;
    if (access.table) this.grantTable(props.name, access.table, resources.table);
    this.grantQueue(access.queue ?? [], resources.queue);
    this.grantQueue(access.dlq ?? [], resources.deadLetterQueue);
    for (const setting of new Set<SecretSetting>(access.secrets ?? [])) {
      // GetSecretValue alone: lib/secrets.ts never describes a secret (grantRead would add DescribeSecret).
      this.role.addToPolicy(
        new PolicyStatement({
          actions: ["secretsmanager:GetSecretValue"],
          resources: [secretPolicyArn(resources.secrets.secrets[setting])],
        }),
      );
      environment[`${setting}_SECRET_ID`] = resources.secrets.secretIds[setting];
    }
    if (access.eventBus) {
      resources.eventBus.grantPutEventsTo(this.role);
      environment.EVENT_BUS_NAME = resources.eventBus.eventBusName;
    }

    this.function = new NodejsFunction(this, "Handler", {
      entry: resolve(props.projectRoot, definition.entry),
      projectRoot: props.projectRoot,
      depsLockFilePath: resolve(props.projectRoot, "package-lock.json"),
      handler: "handler",
      description: `integrator-licensing ${props.name} (${definition.entry})`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: Duration.seconds(definition.timeoutSeconds),
      memorySize: definition.memoryMb,
      role: this.role,
      logGroup: this.logGroup,
      // X-Ray through Lambda alone (no Powertools Tracer in the bundle: docs/decisions.md). CDK
      // grants the role xray:PutTraceSegments and xray:PutTelemetryRecords, acknowledged below.
      tracing: Tracing.ACTIVE,
      environment,
      bundling: lambdaBundling(
        props.catalogFile,
        definition.servesConsole ? { projectRoot: props.projectRoot } : undefined,
        definition.servesDocs ? { projectRoot: props.projectRoot } : undefined,
        resolve(props.projectRoot, definition.entry),
      ),
    });
    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Active tracing: X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions, so AWS documents Resource * for them; the role's other statements name their resources (test/unit/cdk-stack.test.ts holds every wildcard to these two actions).",
    });
    Validations.of(this.function).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "docs/architecture.md §10 pins nodejs22.x: the dependency set (middy 6, Powertools 2.35, the pinned AWS SDK) is verified on Node 20/22, which CI and the local stack run; nodejs24.x is a deliberate upgrade, not a synth default.",
    });

    if (definition.trigger === "queue") {
      // Not SqsEventSource: its grant (grantConsumeMessages) adds actions the mapping never uses.
      this.role.addToPolicy(
        new PolicyStatement({ actions: QUEUE_TRIGGER_ACTIONS, resources: [resources.queue.queueArn] }),
      );
      // The function, created after its role's policy, comes before the mapping that refers to it.
      this.function.addEventSourceMapping("Queue", {
        eventSourceArn: resources.queue.queueArn,
        batchSize: queueDefinition.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: props.queueMaxConcurrency,
      });
    }
  }

  /**
   * The declared table actions: item actions on the table, Query and Scan on its indexes too
   * (named, not `index/*`: a new index in lib/store/table.ts is granted by the next synth), held
   * to the declared partition-key prefixes when there are any.
   */
  private grantTable(name: string, access: TableAccess, table: TableV2): void {
    const { actions, keyPrefixes, readOnlyKeyPrefixes } = access;
    const keyless = actions.filter((action) => KEYLESS_ACTIONS.has(action));
    if (keyPrefixes && keyless.length > 0) {
      throw new Error(
        `lib/functions.ts: ${name} declares keyPrefixes with ${keyless.join(", ")}, which no key limits`,
      );
    }
    if (readOnlyKeyPrefixes && !keyPrefixes) {
      throw new Error(
        `lib/functions.ts: ${name} declares readOnlyKeyPrefixes without keyPrefixes for its writes`,
      );
    }
    const leadingKeys = (prefixes: readonly string[]) => ({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": prefixes.map((prefix) => `${prefix}*`) },
    });
    const indexes = tableDefinition.globalSecondaryIndexes.map(
      (g) => `${table.tableArn}/index/${g.indexName}`,
    );
    this.grantTableActions(actions, keyPrefixes && leadingKeys(keyPrefixes), table.tableArn, indexes);
    if (readOnlyKeyPrefixes) {
      const reads = actions.filter((action) => READ_TABLE_ACTIONS.has(action));
      this.grantTableActions(reads, leadingKeys(readOnlyKeyPrefixes), table.tableArn, indexes);
    }
  }

  private grantTableActions(
    actions: readonly TableAction[],
    conditions: Record<string, unknown> | undefined,
    tableArn: string,
    indexes: string[],
  ): void {
    const grant = (granted: readonly string[], resources: string[]) => {
      if (granted.length === 0) return;
      this.role.addToPolicy(
        new PolicyStatement({
          actions: granted.map((action) => `dynamodb:${action}`),
          resources,
          ...(conditions ? { conditions } : {}),
        }),
      );
    };
    grant(
      actions.filter((action) => !INDEX_ACTIONS.has(action)),
      [tableArn],
    );
    grant(
      actions.filter((action) => INDEX_ACTIONS.has(action)),
      [tableArn, ...indexes],
    );
  }

  private grantQueue(verbs: readonly QueueAccess[], queue: Queue): void {
    const actions = new Set(verbs.flatMap((verb) => QUEUE_ACTIONS[verb]));
    if (actions.size > 0)
      this.role.addToPolicy(
        new PolicyStatement({ actions: [...actions].sort(), resources: [queue.queueArn] }),
      );
  }
}

/** A secret's ARN for a policy: one imported by name has no full ARN, only its name and `-??????`. */
function secretPolicyArn(secret: ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}
