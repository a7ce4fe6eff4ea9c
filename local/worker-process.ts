/**
 * A Lambda "execution environment" for queue-triggered functions: the poller forks this process,
 * sends it SQS events over IPC and gets the handler's result back, so a test can kill the worker
 * mid-batch exactly as Lambda would lose one. Its environment is the function's configuration.
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { countDynamoDbCalls, dynamoDbCallCounts } from "./dynamodb-calls.ts";

type Invoke = { id: number; event: SQSEvent };
type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

const entry = process.argv[2];
if (!entry) throw new Error("usage: worker-process <function entry> [--count-dynamodb-calls]");
const counting = process.argv.includes("--count-dynamodb-calls");
// Before the function's module makes its clients: a benchmark counts this process's DynamoDB calls.
if (counting) countDynamoDbCalls("worker");
const module = (await import(pathToFileURL(resolve(entry)).href)) as { handler: Handler };

function context(id: number): Context {
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "provision-worker",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:local:000000000000:function:provision-worker",
    memoryLimitInMB: "512",
    awsRequestId: `local-${process.pid}-${id}`,
    logGroupName: "/aws/lambda/provision-worker",
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

// Every message back carries this process's CPU time so far (µs, `process.cpuUsage()`) and, when
// counted, its DynamoDB calls so far, which the poller sums for benchmarks; nothing else changes.
process.on("message", (message: Invoke) => {
  module
    .handler(message.event, context(message.id))
    .then((result) =>
      process.send?.({
        id: message.id,
        ok: true,
        result: result ?? { batchItemFailures: [] },
        cpu: process.cpuUsage(),
        ...(counting ? { dynamodb: dynamoDbCallCounts() } : {}),
      }),
    )
    .catch((error: unknown) =>
      process.send?.({
        id: message.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        cpu: process.cpuUsage(),
        ...(counting ? { dynamodb: dynamoDbCallCounts() } : {}),
      }),
    );
});
// The poller's process is gone (a crash, a kill): so is this execution environment.
process.on("disconnect", () => process.exit(0));
// Stopped (`QueuePoller.stop`): exit at once as before, through `process.exit` so that exit-time
// output such as a `--cpu-prof` profile is written.
process.on("SIGTERM", () => process.exit(0));
process.send?.({ ready: true, cpu: process.cpuUsage() });
