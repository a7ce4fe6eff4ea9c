import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import { HttpApi, HttpMethod, HttpRoute, HttpRouteKey } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { AttributeType, Billing, TableV2 } from "aws-cdk-lib/aws-dynamodb";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { functionTable, type FunctionName } from "../lib/functions.ts";
import { queueDefinition } from "../lib/queue/definition.ts";
import { routes } from "../lib/routes.ts";
import { tableDefinition } from "../lib/store/table.ts";

export interface LicensingStackProps extends StackProps {
  /** Keep the table when the stack is deleted (default true). */
  retainData?: boolean;
}

const key = (name: string) => ({ name, type: AttributeType.STRING });

/** The production stack: table, queues, functions and the HTTP API, all from the shared definitions. */
export class LicensingStack extends Stack {
  readonly table: TableV2;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly api: HttpApi;
  readonly functions: Partial<Record<FunctionName, NodejsFunction>> = {};

  constructor(scope: Construct, id: string, props: LicensingStackProps = {}) {
    super(scope, id, props);
    const retain = props.retainData ?? true;

    this.table = new TableV2(this, "Table", {
      partitionKey: key(tableDefinition.partitionKey),
      sortKey: key(tableDefinition.sortKey),
      billing: Billing.onDemand(),
      timeToLiveAttribute: tableDefinition.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      globalSecondaryIndexes: tableDefinition.globalSecondaryIndexes.map((g) => ({
        indexName: g.indexName,
        partitionKey: key(g.partitionKey),
        sortKey: key(g.sortKey),
      })),
    });

    this.deadLetterQueue = new Queue(this, "DeadLetterQueue", {
      queueName: queueDefinition.deadLetterQueueName,
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(queueDefinition.retentionSeconds),
    });
    this.queue = new Queue(this, "EventQueue", {
      queueName: queueDefinition.queueName,
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(queueDefinition.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: queueDefinition.maxReceiveCount },
    });

    const environment = {
      TABLE_NAME: this.table.tableName,
      QUEUE_URL: this.queue.queueUrl,
      DLQ_URL: this.deadLetterQueue.queueUrl,
      NODE_OPTIONS: "--enable-source-maps",
    };
    for (const [name, definition] of Object.entries(functionTable) as [FunctionName, (typeof functionTable)[FunctionName]][]) {
      this.functions[name] = new NodejsFunction(this, `${pascal(name)}Function`, {
        entry: definition.entry,
        handler: "handler",
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        timeout: Duration.seconds(definition.timeoutSeconds),
        memorySize: definition.memoryMb,
        environment,
        bundling: {
          format: OutputFormat.ESM,
          minify: true,
          sourceMap: true,
          target: "node22",
          mainFields: ["module", "main"],
          banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
          externalModules: ["@aws-sdk/*"],
          forceDockerBundling: false,
        },
      });
    }

    this.api = new HttpApi(this, "HttpApi", { createDefaultStage: true });
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    const integrationFor = (name: FunctionName) => {
      let integration = integrations.get(name);
      const fn = this.functions[name];
      if (!fn) throw new Error(`no function ${name}`);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${pascal(name)}Integration`, fn);
        integrations.set(name, integration);
      }
      return integration;
    };
    for (const route of routes) {
      new HttpRoute(this, `Route${pascal(route.method.toLowerCase())}${pascal(route.path)}`, {
        httpApi: this.api,
        routeKey: HttpRouteKey.with(route.path, HttpMethod[route.method]),
        integration: integrationFor(route.function),
      });
    }
    new HttpRoute(this, "RouteDefault", {
      httpApi: this.api,
      routeKey: HttpRouteKey.DEFAULT,
      integration: integrationFor("fallback"),
    });

    this.table.grantReadData(this.functions.health as NodejsFunction);
    this.queue.grant(this.functions.health as NodejsFunction, "sqs:GetQueueAttributes");

    new CfnOutput(this, "ApiUrl", { value: this.api.apiEndpoint });
  }
}

function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
}
