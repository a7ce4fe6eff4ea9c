import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queueDefinition } from "#lib/queue/definition.ts";
import { QueuePoller } from "#local/poller.ts";
import { type LocalQueues, startLocalQueues } from "#local/queues.ts";

let queues: LocalQueues;
let sqs: SQSClient;
let poller: QueuePoller | undefined;

beforeAll(async () => {
  queues = await startLocalQueues({ visibilityTimeoutSeconds: 1 });
  sqs = new SQSClient({
    endpoint: queues.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
});
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});
afterAll(async () => {
  sqs.destroy();
  await queues.stop();
});

function startPoller(logFile: string) {
  poller = new QueuePoller({
    sqs,
    queueUrl: queues.queueUrl,
    entry: resolve("test/helpers/echo-worker.ts"),
    env: { ...process.env, ECHO_WORKER_LOG: logFile },
    concurrency: 1,
    waitTimeSeconds: 1,
  });
  poller.start();
  return poller;
}

const seen = (file: string) =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: string; receiveCount: string; batch: number })
    : [];

async function until<T>(probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("timed out");
}

const send = (group: string, body: object, dedupe: string) =>
  sqs.send(
    new SendMessageCommand({
      QueueUrl: queues.queueUrl,
      MessageBody: JSON.stringify(body),
      MessageGroupId: group,
      MessageDeduplicationId: dedupe,
    }),
  );

describe("local SQS event source mapping", () => {
  it("hands batches to the worker process and deletes what succeeded", async () => {
    const log = join(mkdtempSync(join(tmpdir(), "poller-")), "seen.log");
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.queueUrl,
        Entries: Array.from({ length: 5 }, (_, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify({ id: `ok-${i}` }),
          MessageGroupId: `group-${i}`,
          MessageDeduplicationId: `ok-${i}`,
        })),
      }),
    );
    startPoller(log);
    const records = await until(() => (seen(log).length >= 5 ? seen(log) : undefined));
    expect(records.map((r) => r.id).sort()).toEqual(["ok-0", "ok-1", "ok-2", "ok-3", "ok-4"]);
    await poller?.stop();
    poller = undefined;
    // Deleted: nothing comes back after the visibility timeout.
    await new Promise((r) => setTimeout(r, 1500));
    const left = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    expect(left.Messages ?? []).toEqual([]);
  });

  it("returns only the batch item failures, which reach the DLQ after maxReceiveCount", async () => {
    const log = join(mkdtempSync(join(tmpdir(), "poller-")), "seen.log");
    await send("g-fail", { id: "bad", fail: true }, "bad-1");
    await send("g-good", { id: "good" }, "good-1");
    startPoller(log);
    await until(
      () =>
        seen(log).filter((r) => r.id === "bad").length >= queueDefinition.maxReceiveCount ? true : undefined,
      30_000,
    );
    const dlq = await (async () => {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queues.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        if (out.Messages?.length) return out.Messages;
      }
      return [];
    })();
    expect(dlq.map((m) => JSON.parse(m.Body ?? "{}").id)).toEqual(["bad"]);
    const attempts = seen(log);
    expect(attempts.filter((r) => r.id === "good")).toHaveLength(1);
    expect(attempts.filter((r) => r.id === "bad").map((r) => r.receiveCount)).toEqual([
      "1",
      "2",
      "3",
      "4",
      "5",
    ]);
  }, 60_000);

  it("redelivers a batch whose worker process was killed mid-batch", async () => {
    const log = join(mkdtempSync(join(tmpdir(), "poller-")), "seen.log");
    await send("g-slow", { id: "slow", sleepMs: 1500 }, "slow-1");
    const running = startPoller(log);
    // As soon as the worker holds the batch, kill it as a crash would.
    await until(() => (running.killWorker() ? true : undefined));
    const records = await until(() => (seen(log).length >= 1 ? seen(log) : undefined), 20_000);
    expect(records[0]?.id).toBe("slow");
    // The killed attempt never finished; the message came back after the visibility timeout.
    expect(Number(records[0]?.receiveCount)).toBeGreaterThanOrEqual(2);
  }, 30_000);
});
