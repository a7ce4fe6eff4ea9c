import { resolve } from "node:path";
import { Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import type { TableV2 } from "aws-cdk-lib/aws-dynamodb";
import type { IEventBus } from "aws-cdk-lib/aws-events";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { SecretSetting } from "../lib/config.ts";
import type { FunctionDefinition, QueueAccess } from "../lib/functions.ts";
import { queueDefinition } from "../lib/queue/definition.ts";
import { tableDefinition } from "../lib/store/table.ts";
import { lambdaBundling } from "./bundling.ts";
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

const TABLE_READ = [
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "dynamodb:ConditionCheckItem",
  "dynamodb:DescribeTable",
];
const TABLE_WRITE = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
];

const QUEUE_ACTIONS: Record<QueueAccess, string[]> = {
  send: ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
  consume: [
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
  ],
  attributes: ["sqs:GetQueueAttributes"],
  redrive: [
    "sqs:StartMessageMoveTask",
    "sqs:ListMessageMoveTasks",
    "sqs:CancelMessageMoveTask",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
  ],
};

/**
 * One function of the function table: its log group (retention set), its own role with exactly
 * what `access` declares (no AWS managed policy, no `*` resource), the secrets' ids in its
 * environment, and its SQS trigger when it is the queue consumer.
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
    this.grantTable(access.table, resources.table);
    // The queue consumer's receive/delete grant comes with its event source mapping.
    const queueVerbs = (access.queue ?? []).filter(
      (verb) => !(verb === "consume" && definition.trigger === "queue"),
    );
    this.grantQueue(queueVerbs, resources.queue, resources.deadLetterQueue);
    this.grantQueue(access.dlq ?? [], resources.deadLetterQueue, resources.queue);
    for (const setting of new Set<SecretSetting>(access.secrets ?? [])) {
      resources.secrets.secrets[setting].grantRead(this.role);
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
      environment,
      bundling: lambdaBundling(props.catalogFile),
    });
    Validations.of(this.function).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "docs/architecture.md §10 pins nodejs22.x: the dependency set (middy 6, Powertools 2.35, the pinned AWS SDK) is verified on Node 20/22, which CI and the local stack run; nodejs24.x is a deliberate upgrade, not a synth default.",
    });

    if (definition.trigger === "queue") {
      // The event source mapping grants exactly the consume actions on the queue.
      this.function.addEventSource(
        new SqsEventSource(resources.queue, {
          batchSize: queueDefinition.batchSize,
          reportBatchItemFailures: true,
          maxConcurrency: props.queueMaxConcurrency,
        }),
      );
    }
  }

  private grantTable(level: "describe" | "read" | "readwrite" | undefined, table: TableV2): void {
    if (!level) return;
    const indexes = tableDefinition.globalSecondaryIndexes.map(
      (g) => `${table.tableArn}/index/${g.indexName}`,
    );
    if (level === "describe") {
      this.role.addToPolicy(
        new PolicyStatement({ actions: ["dynamodb:DescribeTable"], resources: [table.tableArn] }),
      );
      return;
    }
    // Named indexes instead of `index/*`: a new index in lib/store/table.ts is granted by the next synth.
    this.role.addToPolicy(
      new PolicyStatement({ actions: TABLE_READ, resources: [table.tableArn, ...indexes] }),
    );
    if (level === "readwrite") {
      this.role.addToPolicy(new PolicyStatement({ actions: TABLE_WRITE, resources: [table.tableArn] }));
    }
  }

  /** `other` is the queue a redrive moves messages into. */
  private grantQueue(verbs: QueueAccess[], queue: Queue, other: Queue): void {
    const actions = new Set(verbs.flatMap((verb) => QUEUE_ACTIONS[verb]));
    if (actions.size > 0)
      this.role.addToPolicy(
        new PolicyStatement({ actions: [...actions].sort(), resources: [queue.queueArn] }),
      );
    if (verbs.includes("redrive")) {
      this.role.addToPolicy(
        new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [other.queueArn] }),
      );
    }
  }
}
