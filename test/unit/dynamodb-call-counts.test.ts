import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { addCounts, countDynamoDbCalls, dynamoDbCallCounts } from "#local/dynamodb-calls.ts";

// Nothing answers on port 1: every call fails after being counted, once (no SDK retries).
const options = {
  endpoint: "http://127.0.0.1:1",
  region: "us-east-1",
  maxAttempts: 1,
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
};

describe("benchmark DynamoDB call counts (local/dynamodb-calls.ts)", () => {
  it("counts each call by operation and caller, the rate-limit item's as the limiter's, and nothing else", async () => {
    countDynamoDbCalls("worker");
    const client = new DynamoDBClient(options);
    const documents = DynamoDBDocumentClient.from(client);
    const sqs = new SQSClient(options);
    const calls: Promise<unknown>[] = [
      documents.send(new PutCommand({ TableName: "t", Item: { pk: "CUSTOMER#c1", sk: "PROFILE" } })),
      documents.send(
        new QueryCommand({
          TableName: "t",
          KeyConditionExpression: "pk = :p",
          ExpressionAttributeValues: { ":p": "x" },
        }),
      ),
      documents.send(
        new QueryCommand({
          TableName: "t",
          KeyConditionExpression: "pk = :p",
          ExpressionAttributeValues: { ":p": "y" },
        }),
      ),
      client.send(
        new GetItemCommand({
          TableName: "t",
          Key: { pk: { S: "RATELIMIT#integrator" }, sk: { S: "BUCKET" } },
        }),
      ),
      sqs.send(new GetQueueUrlCommand({ QueueName: "q" })),
    ];
    await Promise.allSettled(calls);
    expect(dynamoDbCallCounts()).toEqual({
      worker: { PutItem: 1, Query: 2 },
      limiter: { GetItem: 1 },
    });
    expect(addCounts({ worker: { Query: 1 } }, dynamoDbCallCounts())).toEqual({
      worker: { PutItem: 1, Query: 3 },
      limiter: { GetItem: 1 },
    });
  });
});
