import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Config } from "./config.ts";

/** Local services accept any credentials; DynamoDB Local wants them alphanumeric. */
const localCredentials = { accessKeyId: "local", secretAccessKey: "local" };

/** SDK client options: the local endpoint when one is configured, else AWS in the configured region. */
export function clientOptions(endpoint: string | undefined, config: Pick<Config, "awsRegion">) {
  return endpoint
    ? { endpoint, region: config.awsRegion, credentials: localCredentials }
    : { region: config.awsRegion };
}

/** The DynamoDB document client: DynamoDB Local when `DYNAMODB_ENDPOINT` is set, else AWS. */
export function createDocumentClient(
  config: Pick<Config, "dynamodbEndpoint" | "awsRegion">,
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientOptions(config.dynamodbEndpoint, config)), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
