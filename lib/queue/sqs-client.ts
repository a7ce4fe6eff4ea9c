import { SQSClient } from "@aws-sdk/client-sqs";
import { clientOptions } from "../aws.ts";
import type { Config } from "../config.ts";

/**
 * The SQS client: the local emulator when `SQS_ENDPOINT` is set, else AWS. Apart from lib/aws.ts
 * so that functions that never touch the queue don't load the SQS SDK at cold start.
 */
export function createSqsClient(config: Pick<Config, "sqsEndpoint" | "awsRegion">): SQSClient {
  return new SQSClient(clientOptions(config.sqsEndpoint, config));
}
