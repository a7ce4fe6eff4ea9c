import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** DynamoDB calls per operation (`GetItem`, `TransactWriteItems`…), per caller. */
export type DynamoDbCallCounts = Record<string, Record<string, number>>;

/** The document client's command names, as the DynamoDB operations they send. */
const DOCUMENT_OPERATIONS: Record<string, string> = {
  Get: "GetItem",
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  BatchGet: "BatchGetItem",
  BatchWrite: "BatchWriteItem",
  TransactGet: "TransactGetItems",
  TransactWrite: "TransactWriteItems",
};

const counts: DynamoDbCallCounts = {};
let installed = false;

/**
 * Benchmarks: counts every DynamoDB call this process makes from now on, by operation, as
 * `caller`'s — or `limiter`'s when it is about the shared rate-limit item (`RATELIMIT#…`, the
 * integrator.io limiter's). It wraps the SDK clients' `send` (the one every v3 client and the
 * document client share) and only counts: the call goes on unchanged. One call is one request
 * unless the SDK retries it inside (locally, no throttling: it does not).
 */
export function countDynamoDbCalls(caller: string): void {
  if (installed) return;
  installed = true;
  const base = Object.getPrototypeOf(DynamoDBClient.prototype) as {
    send(this: { config?: { serviceId?: string } }, command: unknown, ...rest: unknown[]): unknown;
  };
  const send = base.send;
  base.send = function (this: { config?: { serviceId?: string } }, command: unknown, ...rest: unknown[]) {
    if (this.config?.serviceId === "DynamoDB") {
      const name = (command as object).constructor.name.replace(/Command$/, "");
      const operation = DOCUMENT_OPERATIONS[name] ?? name;
      const key = (command as { input?: { Key?: unknown } }).input?.Key;
      const who = key !== undefined && JSON.stringify(key).includes("RATELIMIT#") ? "limiter" : caller;
      const byOperation = counts[who] ?? {};
      byOperation[operation] = (byOperation[operation] ?? 0) + 1;
      counts[who] = byOperation;
    }
    return send.call(this, command, ...rest);
  };
}

/** The counts so far (a copy). */
export function dynamoDbCallCounts(): DynamoDbCallCounts {
  return Object.fromEntries(Object.entries(counts).map(([caller, ops]) => [caller, { ...ops }]));
}

/** Adds `more` into `into` (counts of several processes). */
export function addCounts(into: DynamoDbCallCounts, more: DynamoDbCallCounts): DynamoDbCallCounts {
  for (const [caller, ops] of Object.entries(more)) {
    const byOperation = into[caller] ?? {};
    for (const [operation, n] of Object.entries(ops))
      byOperation[operation] = (byOperation[operation] ?? 0) + n;
    into[caller] = byOperation;
  }
  return into;
}
