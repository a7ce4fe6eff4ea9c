import type { Logger } from "@aws-lambda-powertools/logger";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "#lib/aws.ts";
import { httpFunction } from "#lib/http/http-function.ts";
import { createLogger } from "#lib/observability/logger.ts";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";
import type { SecretSource } from "#lib/secrets.ts";

export interface Deps {
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
  tableName: string;
  queueUrl: string;
  logger: Logger;
  /** The vendor-set secrets this function reads (lib/functions.ts): which are not configured yet. */
  secrets?: Pick<SecretSource, "notConfigured">;
}

export const createDeps = ({ config, secrets }: Environment): Deps => ({
  secrets,
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
        // A secret still holding its placeholder (or of the wrong form) is named: the stack is not
        // configured yet, e.g. {"STRIPE_SECRET_KEY": "not_configured"}.
        const unset = Object.fromEntries(
          (deps.secrets?.notConfigured() ?? []).map((name) => [name, "not_configured" as const]),
        );
        const healthy = dynamodb === "ok" && queue === "ok" && Object.keys(unset).length === 0;
        return {
          status: healthy ? 200 : 503,
          body: { status: healthy ? "ok" : "degraded", checks: { dynamodb, queue, ...unset } },
        };
      },
    },
    { logger: deps.logger },
  );

export const handler = lambdaHandler(createDeps, makeHandler);
