import { type ChildProcess, fork } from "node:child_process";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { addCounts, type DynamoDbCallCounts } from "./dynamodb-calls.ts";

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** The queue-triggered function module, e.g. `functions/provision-worker.ts`. */
  entry: string;
  /** The worker process's environment (its configuration). */
  env: Record<string, string | undefined>;
  /** Concurrent batches, one worker process each (Lambda's maxConcurrency). */
  concurrency?: number;
  batchSize?: number;
  /** Long-poll wait; short in tests so `stop()` is quick. */
  waitTimeSeconds?: number;
  /**
   * Lambda's function timeout: a batch still running after this long has its worker process
   * killed and fails as a whole. Unset: no limit. Keep it under the queue's visibility timeout, as
   * AWS does (60 s under 360 s), or a slow batch's messages are received again while it runs.
   */
  timeoutSeconds?: number;
  log?: (line: string) => void;
  /**
   * Every line the worker processes write, instead of inheriting this process's stdout/stderr
   * (tests that inspect every log line of a run).
   */
  output?: (line: string, stream: "stdout" | "stderr") => void;
  /** More Node options for the worker processes (profiling: `--cpu-prof`, `--cpu-prof-dir=…`). */
  nodeOptions?: string[];
  /** Benchmarks: the worker processes count their DynamoDB calls (`usage()`). */
  countDynamoDbCalls?: boolean;
}

const workerScript = fileURLToPath(new URL("./worker-process.ts", import.meta.url));

/** One worker process: a Lambda execution environment that handles one batch at a time. */
class WorkerSlot {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private pending = new Map<number, { resolve: (r: SQSBatchResponse) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  /** CPU µs (user + system) the current process had used when ready, and at its latest answer. */
  private readyCpuMicros = 0;
  private lastCpuMicros = 0;
  /** CPU µs spent on batches by this slot's earlier (exited) processes. */
  private retiredCpuMicros = 0;
  /** DynamoDB calls of the current process as of its latest answer, and of the exited ones. */
  private lastCalls: DynamoDbCallCounts = {};
  private retiredCalls: DynamoDbCallCounts = {};

  /** DynamoDB calls of this slot's worker processes (when they count them), as of their latest answers. */
  get dynamoDbCalls(): DynamoDbCallCounts {
    return addCounts(addCounts({}, this.retiredCalls), this.lastCalls);
  }

  constructor(private readonly options: PollerOptions) {}

  /**
   * CPU time this slot's worker processes spent after they were ready (module loading excluded:
   * locally that is tsx compiling TypeScript), in ms, as of each process's latest answer.
   */
  get cpuMs(): number {
    return (this.retiredCpuMicros + this.lastCpuMicros - this.readyCpuMicros) / 1000;
  }

  private spawn(): Promise<void> {
    const child = fork(
      workerScript,
      [this.options.entry, ...(this.options.countDynamoDbCalls ? ["--count-dynamodb-calls"] : [])],
      {
        execArgv: ["--import", "tsx", ...(this.options.nodeOptions ?? [])],
        env: this.options.env as NodeJS.ProcessEnv,
        stdio: [
          "ignore",
          this.options.output ? "pipe" : "inherit",
          this.options.output ? "pipe" : "inherit",
          "ipc",
        ],
      },
    );
    this.child = child;
    const output = this.options.output;
    if (output) {
      forwardLines(child.stdout, (line) => output(line, "stdout"));
      forwardLines(child.stderr, (line) => output(line, "stderr"));
    }
    this.ready = new Promise((resolve, reject) => {
      child.once("error", reject);
      child.on(
        "message",
        (message: {
          ready?: boolean;
          id?: number;
          ok?: boolean;
          result?: SQSBatchResponse;
          error?: string;
          cpu?: NodeJS.CpuUsage;
          dynamodb?: DynamoDbCallCounts;
        }) => {
          if (message.dynamodb) this.lastCalls = message.dynamodb;
          if (message.cpu) {
            const micros = message.cpu.user + message.cpu.system;
            if (message.ready) this.readyCpuMicros = micros;
            this.lastCpuMicros = micros;
          }
          if (message.ready) return resolve();
          const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
          if (!waiter || message.id === undefined) return;
          this.pending.delete(message.id);
          if (message.ok && message.result) waiter.resolve(message.result);
          else waiter.reject(new Error(message.error ?? "worker failed"));
        },
      );
      child.once("exit", (code, signal) => {
        if (this.child === child) this.child = undefined;
        this.retiredCpuMicros += this.lastCpuMicros - this.readyCpuMicros;
        this.readyCpuMicros = this.lastCpuMicros = 0;
        addCounts(this.retiredCalls, this.lastCalls);
        this.lastCalls = {};
        reject(new Error(`worker exited before ready (${signal ?? code})`));
        for (const waiter of this.pending.values())
          waiter.reject(new Error(`worker process died (${signal ?? code})`));
        this.pending.clear();
      });
    });
    return this.ready;
  }

  async invoke(event: SQSEvent): Promise<SQSBatchResponse> {
    if (!this.child) await this.spawn();
    else await this.ready;
    const child = this.child;
    if (!child) throw new Error("worker process not running");
    const id = this.nextId++;
    const timeoutSeconds = this.options.timeoutSeconds;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutSeconds === undefined
          ? undefined
          : setTimeout(() => {
              const waiter = this.pending.get(id);
              if (!waiter) return;
              this.pending.delete(id);
              waiter.reject(new Error(`worker timed out after ${timeoutSeconds} s`));
              child.kill("SIGKILL");
            }, timeoutSeconds * 1000);
      this.pending.set(id, {
        resolve: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      child.send({ id, event });
    });
  }

  /** Kills the worker process as a crash would (SIGKILL); the next batch starts a new one. */
  kill(): boolean {
    if (!this.child) return false;
    this.child.kill("SIGKILL");
    return true;
  }

  stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 2000).unref();
    });
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }
}

/** Calls `onLine` for every complete line of a stream (and the unterminated rest at its end). */
function forwardLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
  stream.on("end", () => {
    if (rest) onLine(rest);
    rest = "";
  });
}

/** An SQS message as the record Lambda's event source mapping hands the function. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
      ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Lambda's SQS event source mapping, locally: long-polls the queue, hands batches to worker
 * processes, deletes the records that succeeded and leaves `batchItemFailures` (or a whole failed
 * batch) to come back after the visibility timeout — and to the DLQ after maxReceiveCount.
 */
export class QueuePoller {
  private readonly slots: WorkerSlot[];
  private running = false;
  private loops: Promise<void>[] = [];
  private abort = new AbortController();
  private readonly queueArn: string;
  private recordsDone = 0;

  constructor(private readonly options: PollerOptions) {
    this.slots = Array.from({ length: options.concurrency ?? 2 }, () => new WorkerSlot(options));
    const name = options.queueUrl.split("/").pop() ?? "queue";
    this.queueArn = `arn:aws:sqs:local:000000000000:${name}`;
  }

  /** Starts polling; after `stop()` it starts again with fresh worker processes (a redeploy). */
  start(): void {
    if (this.running) return;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    this.running = true;
    this.loops = this.slots.map((slot) => this.loop(slot));
  }

  /** Kills one worker process in the middle of a batch, as a crash would; false when none is busy. */
  killWorker(): boolean {
    return this.slots.find((s) => s.busy)?.kill() ?? false;
  }

  /**
   * For benchmarks: records the worker processes handled successfully (deleted from the queue),
   * their CPU time in ms since each was ready (`process.cpuUsage()` as of its latest batch), and
   * their DynamoDB calls (with `countDynamoDbCalls`; else none).
   */
  usage(): { records: number; workerCpuMs: number; dynamodb: DynamoDbCallCounts } {
    return {
      records: this.recordsDone,
      workerCpuMs: this.slots.reduce((sum, s) => sum + s.cpuMs, 0),
      dynamodb: this.slots.reduce((sum, s) => addCounts(sum, s.dynamoDbCalls), {} as DynamoDbCallCounts),
    };
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.allSettled(this.loops);
    await Promise.all(this.slots.map((s) => s.stop()));
  }

  private async loop(slot: WorkerSlot): Promise<void> {
    const { sqs, queueUrl } = this.options;
    while (this.running) {
      let messages: Message[] = [];
      try {
        const output = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: this.options.batchSize ?? 10,
            WaitTimeSeconds: this.options.waitTimeSeconds ?? 1,
            MessageSystemAttributeNames: ["All"],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = output.Messages ?? [];
      } catch (error) {
        if (!this.running) return;
        this.options.log?.(`poller: receive failed: ${error instanceof Error ? error.message : error}`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (messages.length === 0) continue;
      const region = (await sqs.config.region()) ?? "us-east-1";
      const records = messages.map((m) => toSqsRecord(m, this.queueArn, region));
      let failed = new Set(records.map((r) => r.messageId));
      try {
        const result = await slot.invoke({ Records: records });
        failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      } catch (error) {
        this.options.log?.(
          `poller: batch of ${records.length} failed: ${error instanceof Error ? error.message : error}`,
        );
      }
      const done = records.filter((r) => !failed.has(r.messageId));
      this.recordsDone += done.length;
      if (done.length > 0) {
        await sqs
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
            }),
          )
          .catch((error: unknown) =>
            this.options.log?.(`poller: delete failed: ${error instanceof Error ? error.message : error}`),
          );
      }
    }
  }
}
