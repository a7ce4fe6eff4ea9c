import type { Logger } from "@aws-lambda-powertools/logger";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "#lib/aws.ts";
import { httpFunction } from "#lib/http/http-function.ts";
import { createLogger } from "#lib/observability/logger.ts";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";

export interface Deps {
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
  tableName: string;
  queueUrl: string;
  logger: Logger;
}

export const createDeps = ({ config }: Environment): Deps => ({
  dynamo: createDocumentClient(config),
  sqs: createSqsClient(config),
  tableName: config.tableName,
  queueUrl: config.queueUrl,
  logger: createLogger("health", config),
});

const settle = (probe: Promise<unknown>) =>
  probe.then(
    () => "ok" as const,
    () => "failing" as const,
  );

export const makeHandler = (deps: Deps) =>
  httpFunction(
    {
      "GET /health": async () => {
        const timeout = AbortSignal.timeout(3000);
        const [dynamodb, queue] = await Promise.all([
          settle(
            deps.dynamo.send(new DescribeTableCommand({ TableName: deps.tableName }), {
              abortSignal: timeout,
            }),
          ),
          settle(
            deps.sqs.send(
              new GetQueueAttributesCommand({ QueueUrl: deps.queueUrl, AttributeNames: ["QueueArn"] }),
              { abortSignal: timeout },
            ),
          ),
        ]);
        const healthy = dynamodb === "ok" && queue === "ok";
        return {
          status: healthy ? 200 : 503,
          body: { status: healthy ? "ok" : "degraded", checks: { dynamodb, queue } },
        };
      },
    },
    { logger: deps.logger },
  );

export const handler = lambdaHandler(createDeps, makeHandler);
