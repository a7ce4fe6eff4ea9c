import type { FunctionAccess, QueueAccess } from "#lib/functions.ts";

/**
 * What lib/functions.ts's `access` means in IAM, written out again here (not imported from cdk/)
 * so the tests check CDK's grants and the code's calls against the declaration, not against themselves.
 */
export const QUEUE_VERB_ACTIONS: Record<QueueAccess, string[]> = {
  send: ["sqs:SendMessage"],
  consume: ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"],
  attributes: ["sqs:GetQueueAttributes"],
};

/** The IAM actions `access` declares on the table, the queues and the bus (secrets and a queue trigger aside). */
export function declaredActions(access: FunctionAccess = {}): Set<string> {
  return new Set([
    ...(access.table?.actions ?? []).map((action) => `dynamodb:${action}`),
    ...[...(access.queue ?? []), ...(access.dlq ?? [])].flatMap((verb) => QUEUE_VERB_ACTIONS[verb]),
    ...(access.eventBus ? ["events:PutEvents"] : []),
  ]);
}

/** The IAM action of each AWS SDK command the code may send (document-client commands too). */
export const SDK_COMMAND_ACTIONS: Record<string, string> = {
  DescribeTableCommand: "dynamodb:DescribeTable",
  GetCommand: "dynamodb:GetItem",
  GetItemCommand: "dynamodb:GetItem",
  BatchGetCommand: "dynamodb:BatchGetItem",
  BatchGetItemCommand: "dynamodb:BatchGetItem",
  QueryCommand: "dynamodb:Query",
  ScanCommand: "dynamodb:Scan",
  PutCommand: "dynamodb:PutItem",
  PutItemCommand: "dynamodb:PutItem",
  UpdateCommand: "dynamodb:UpdateItem",
  UpdateItemCommand: "dynamodb:UpdateItem",
  DeleteCommand: "dynamodb:DeleteItem",
  DeleteItemCommand: "dynamodb:DeleteItem",
  BatchWriteCommand: "dynamodb:BatchWriteItem",
  BatchWriteItemCommand: "dynamodb:BatchWriteItem",
  SendMessageCommand: "sqs:SendMessage",
  ReceiveMessageCommand: "sqs:ReceiveMessage",
  DeleteMessageCommand: "sqs:DeleteMessage",
  DeleteMessageBatchCommand: "sqs:DeleteMessage",
  ChangeMessageVisibilityCommand: "sqs:ChangeMessageVisibility",
  ChangeMessageVisibilityBatchCommand: "sqs:ChangeMessageVisibility",
  GetQueueAttributesCommand: "sqs:GetQueueAttributes",
  PutEventsCommand: "events:PutEvents",
  GetSecretValueCommand: "secretsmanager:GetSecretValue",
};
