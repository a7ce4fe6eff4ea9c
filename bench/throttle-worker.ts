/**
 * A child process that shares a limiter with its siblings and spends tokens: used by
 * `bench/throttle.ts` (license GETs against the simulator) and by the distributed-bucket tests
 * (seeded random arrivals, no HTTP). Protocol over IPC:
 * parent → `{type:"config", ...WorkerConfig}`; worker → `{type:"ready"}`;
 * parent → `{type:"start", startAt, endAt}`; worker → `{type:"result", ...WorkerResult}`, then exits.
 */
import { setMaxListeners } from "node:events";
import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import Bottleneck from "bottleneck";
import { createIntegratorClient } from "#lib/integrator/client.ts";
import {
  createDistributedTokenBucket,
  type DistributedBucketStats,
} from "#lib/integrator/distributed-bucket.ts";
import type { Lane } from "#lib/integrator/lanes.ts";
import type { Limiter, RateLimitSettings } from "#lib/integrator/limiter.ts";
import { createTokenBucket } from "#lib/integrator/token-bucket.ts";
import { localCredentials, localRegion } from "#local/dynamodb-local.ts";

export type LimiterKind = "distributed" | "token-bucket" | "bottleneck" | "none";

export interface WorkerConfig {
  limiter: LimiterKind;
  /** The lane every call of this process names. */
  lane: Lane;
  rate: RateLimitSettings;
  /** Margin of our limiters (default: the library's 0.98). */
  margin?: number;
  dynamodb?: {
    endpoint: string;
    tableName: string;
    bucketName: string;
    maxLease?: number;
    leaseTtlMs?: number;
    bulkShare?: number;
  };
  workload:
    | {
        kind: "requests";
        baseUrl: string;
        token: string;
        connectorId: string;
        licenseId: string;
        /** Calls in flight, each starting the next as soon as it ends (closed loop)... */
        concurrency: number;
        /** ... or, when set, one call started every 1/perSecond s whatever the others do (open loop). */
        perSecond?: number;
      }
    | { kind: "arrivals"; seed: number; maxBurst: number; maxGapMs: number };
}

export interface WorkerResult {
  /** Epoch ms of every token granted (arrivals, and every attempt of requests). */
  grants: number[];
  ok: number;
  /** Epoch ms of every successful request (requests) — empty for arrivals. */
  okAt: number[];
  rateLimited: number;
  /** CPU time of this process during the run (user + system), in ms. */
  cpuMs: number;
  /** Epoch ms of every 429 received. */
  rateLimitedAt: number[];
  failed: number;
  /** ms each acquire waited. */
  waits: number[];
  bucket?: DistributedBucketStats;
  /** Every lease of the distributed bucket: [usableFrom epoch ms, tokens]. */
  leases: [number, number][];
  firstError?: string;
}

type Message = ({ type: "config" } & WorkerConfig) | { type: "start"; startAt: number; endAt: number };

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface BuiltLimiter {
  limiter: Limiter;
  stats?: () => DistributedBucketStats;
  /** First call of a fresh SDK client (credentials, connection): not part of the measurement. */
  warmUp?: () => Promise<unknown>;
}

const leases: [number, number][] = [];

function buildLimiter(config: WorkerConfig): BuiltLimiter {
  switch (config.limiter) {
    case "distributed": {
      if (!config.dynamodb) throw new Error("distributed needs dynamodb settings");
      const client = DynamoDBDocumentClient.from(
        new DynamoDBClient({
          endpoint: config.dynamodb.endpoint,
          region: localRegion,
          credentials: localCredentials,
        }),
      );
      const bucket = createDistributedTokenBucket({
        ...config.rate,
        client,
        tableName: config.dynamodb.tableName,
        bucketName: config.dynamodb.bucketName,
        onLease: (lease) => void leases.push([lease.usableFrom, lease.tokens]),
        ...(config.margin === undefined ? {} : { margin: config.margin }),
        ...(config.dynamodb.maxLease === undefined ? {} : { maxLease: config.dynamodb.maxLease }),
        ...(config.dynamodb.leaseTtlMs === undefined ? {} : { leaseTtlMs: config.dynamodb.leaseTtlMs }),
        ...(config.dynamodb.bulkShare === undefined ? {} : { bulkShare: config.dynamodb.bulkShare }),
      });
      const { tableName } = config.dynamodb;
      // The same kind of conditional update the bucket sends, on another item: warms the SDK's
      // serde and DynamoDB Local's JIT so the run measures the limiter, not a cold start.
      const warmUp = async () => {
        for (let i = 0; i < 5; i++) {
          await client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: { pk: { S: `WARMUP#${process.pid}` }, sk: { S: "BUCKET" } },
              UpdateExpression: "SET tat = :next",
              ConditionExpression: "attribute_not_exists(tat) OR tat < :next",
              ExpressionAttributeValues: { ":next": { N: String(Date.now() + i) } },
              ReturnValues: "UPDATED_NEW",
              ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            }),
          );
        }
      };
      return { limiter: bucket, stats: bucket.stats, warmUp };
    }
    case "token-bucket":
      return {
        limiter: createTokenBucket({
          ...config.rate,
          ...(config.margin === undefined ? {} : { margin: config.margin }),
        }),
      };
    case "bottleneck": {
      // Bottleneck's reservoir refreshed in 100 ms steps at the full rate, capped at the capacity.
      const bottleneck = new Bottleneck({
        reservoir: config.rate.capacity,
        reservoirIncreaseAmount: config.rate.refillPerSecond / 10,
        reservoirIncreaseInterval: 100,
        reservoirIncreaseMaximum: config.rate.capacity,
      });
      return {
        limiter: {
          acquire: () => bottleneck.schedule(() => Promise.resolve()),
          pauseUntil: async () => {},
        },
      };
    }
    case "none":
      return { limiter: { acquire: async () => {}, pauseUntil: async () => {} } };
  }
}

/** Wraps a limiter to record how long each acquire waited. */
function timed(limiter: Limiter, waits: number[], grants: number[]): Limiter {
  return {
    async acquire(lane, signal) {
      const started = performance.now();
      await limiter.acquire(lane, signal);
      waits.push(performance.now() - started);
      grants.push(Date.now());
    },
    pauseUntil: (epochMs) => limiter.pauseUntil(epochMs),
  };
}

async function runRequests(
  config: WorkerConfig & { workload: { kind: "requests" } },
  limiter: Limiter,
  startAt: number,
  endAt: number,
  result: WorkerResult,
): Promise<void> {
  const { workload } = config;
  const client = createIntegratorClient({
    baseUrl: workload.baseUrl,
    token: workload.token,
    limiter: timed(limiter, result.waits, result.grants),
    lane: config.lane,
    retry: { maxRateLimitedRetries: Number.POSITIVE_INFINITY },
    hooks: {
      onRateLimited: () => {
        result.rateLimited += 1;
        result.rateLimitedAt.push(Date.now());
      },
    },
  });
  await sleep(startAt - Date.now());
  const stop = AbortSignal.timeout(Math.max(1, endAt - Date.now()));
  // Every in-flight call listens on this one signal.
  setMaxListeners(0, stop);
  const call = async () => {
    try {
      await client.licenses.get(workload.connectorId, workload.licenseId, { signal: stop });
      const at = Date.now();
      if (at <= endAt) {
        result.ok += 1;
        result.okAt.push(at);
      }
    } catch (error) {
      if (stop.aborted) return;
      result.failed += 1;
      result.firstError ??= error instanceof Error ? error.message : String(error);
    }
  };
  if (workload.perSecond !== undefined) {
    const calls: Promise<void>[] = [];
    for (let k = 0; startAt + (k * 1000) / workload.perSecond < endAt; k++) {
      await sleep(startAt + (k * 1000) / workload.perSecond - Date.now());
      if (stop.aborted) break;
      calls.push(call());
    }
    await Promise.all(calls);
    return;
  }
  const loop = async () => {
    while (!stop.aborted) await call();
  };
  await Promise.all(Array.from({ length: workload.concurrency }, loop));
}

async function runArrivals(
  config: WorkerConfig & { workload: { kind: "arrivals" } },
  limiter: Limiter,
  startAt: number,
  endAt: number,
  result: WorkerResult,
): Promise<void> {
  const random = seededRandom(config.workload.seed);
  await sleep(startAt - Date.now());
  const pending: Promise<void>[] = [];
  while (Date.now() < endAt) {
    const burst = Math.floor(random() * (config.workload.maxBurst + 1));
    for (let i = 0; i < burst; i++) {
      pending.push(
        limiter.acquire(config.lane).then(() => {
          result.grants.push(Date.now());
        }),
      );
    }
    await sleep(random() * config.workload.maxGapMs);
  }
  // Liveness: every request made is eventually admitted.
  await Promise.all(pending);
  result.ok = result.grants.length;
}

let prepared: { config: WorkerConfig; built: BuiltLimiter } | undefined;

async function prepare(config: WorkerConfig): Promise<void> {
  const built = buildLimiter(config);
  await built.warmUp?.();
  if (config.workload.kind === "requests") {
    // Warm the connection pool without spending a token of the simulator's bucket.
    await fetch(new URL("/_sim/stats", config.workload.baseUrl)).then((response) => response.text());
  }
  prepared = { config, built };
}

async function run(start: { startAt: number; endAt: number }): Promise<WorkerResult> {
  if (!prepared) throw new Error("start before config");
  const { config, built } = prepared;
  const result: WorkerResult = {
    grants: [],
    ok: 0,
    okAt: [],
    rateLimited: 0,
    rateLimitedAt: [],
    failed: 0,
    waits: [],
    leases,
    cpuMs: 0,
  };
  const cpuBefore = process.cpuUsage();
  if (config.workload.kind === "requests") {
    await runRequests(
      { ...config, workload: config.workload },
      built.limiter,
      start.startAt,
      start.endAt,
      result,
    );
  } else {
    await runArrivals(
      { ...config, workload: config.workload },
      built.limiter,
      start.startAt,
      start.endAt,
      result,
    );
  }
  if (built.stats) result.bucket = built.stats();
  const cpu = process.cpuUsage(cpuBefore);
  result.cpuMs = (cpu.user + cpu.system) / 1000;
  return result;
}

process.on("message", (message: Message) => {
  const step =
    message.type === "config"
      ? prepare(message).then(() => process.send?.({ type: "ready" }))
      : run(message).then((result) => process.send?.({ type: "result", ...result }, () => process.exit(0)));
  step.catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});
