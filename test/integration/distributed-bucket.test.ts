import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bucketKey,
  createDistributedTokenBucket,
  type DistributedTokenBucketOptions,
} from "#lib/integrator/distributed-bucket.ts";
import { effectiveRate } from "#lib/integrator/limiter.ts";
import {
  createTable,
  type DynamoDbLocal,
  localCredentials,
  localRegion,
  startDynamoDbLocal,
} from "#local/dynamodb-local.ts";
import { freePort } from "#local/net.ts";
import { seededRandom, worstWindowExcess } from "#test/unit/integrator/seeded-random.ts";
import { runFleet } from "../../bench/throttle.ts";

const tableName = "integrator-licensing";
let dynamo: DynamoDbLocal;
let sequence = 0;
const freshBucket = () => `test-${process.pid}-${sequence++}`;

/** Each limiter instance gets its own client, as separate Lambdas would. */
const documentClient = (endpoint = dynamo.endpoint) =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials }),
  );

function bucket(
  options: Partial<DistributedTokenBucketOptions> & { capacity: number; refillPerSecond: number },
) {
  return createDistributedTokenBucket({ client: documentClient(), tableName, ...options });
}

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ port: 0 });
  await createTable(dynamo.endpoint, tableName);
});
afterAll(async () => {
  await dynamo.stop();
});

/**
 * The guarantees, checked on what the processes did:
 * 1. the leases (each token at the moment the shared bucket had it) never exceed
 *    capacity + rate × window, over every window;
 * 2. no process hands out a token before its lease made it usable;
 * 3. so, counted from the start, grants never exceed capacity + rate × elapsed.
 */
function expectWithinLimit(
  processes: { grants: number[]; leases: [number, number][] }[],
  limit: { capacity: number; refillPerSecond: number },
  startedAt: number,
): void {
  const leaseTimes = processes.flatMap((p) =>
    p.leases.flatMap(([at, tokens]) => Array<number>(tokens).fill(at)),
  );
  // Tolerance: a thousandth of a token (decimal arithmetic on epoch-ms numbers in DynamoDB).
  expect(worstWindowExcess(leaseTimes, limit.capacity, limit.refillPerSecond)).toBeLessThanOrEqual(1e-3);
  for (const p of processes) {
    const grants = [...p.grants].sort((a, b) => a - b);
    const usable = p.leases.flatMap(([at, tokens]) => Array<number>(tokens).fill(at)).sort((a, b) => a - b);
    grants.forEach((grantedAt, k) => {
      expect(grantedAt).toBeGreaterThanOrEqual(Math.floor(usable[k] ?? Number.POSITIVE_INFINITY));
    });
  }
  const all = processes.flatMap((p) => p.grants).sort((a, b) => a - b);
  all.forEach((grantedAt, k) => {
    expect(k + 1).toBeLessThanOrEqual(
      limit.capacity + (limit.refillPerSecond * (grantedAt - startedAt)) / 1000 + 1e-3,
    );
  });
}

/** Seeded random bursts of acquires for `durationMs`; resolves with every grant time once all are granted. */
async function randomArrivals(
  limiter: { acquire(): Promise<void> },
  seed: number,
  durationMs: number,
): Promise<number[]> {
  const random = seededRandom(seed);
  const grants: number[] = [];
  const pending: Promise<void>[] = [];
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const burst = Math.floor(random() * 4);
    for (let i = 0; i < burst; i++) pending.push(limiter.acquire().then(() => void grants.push(Date.now())));
    await new Promise((resolve) => setTimeout(resolve, random() * 200));
  }
  await Promise.all(pending);
  return grants;
}

describe("distributed token bucket (DynamoDB Local)", () => {
  it("lives on the single table's RATELIMIT#<name> / BUCKET item and starts full", async () => {
    const name = freshBucket();
    const limiter = bucket({ capacity: 20, refillPerSecond: 5, bucketName: name, maxLease: 5 });
    const startedAt = Date.now();
    await Promise.all(Array.from({ length: 19 }, () => limiter.acquire()));
    const item = await documentClient().send(
      new GetItemCommand({ TableName: tableName, Key: bucketKey(name), ConsistentRead: true }),
    );
    expect(item.Item?.pk).toEqual({ S: `RATELIMIT#${name}` });
    expect(item.Item?.sk).toEqual({ S: "BUCKET" });
    // GCRA: tokens left = capacity − (tat − now) × rate; 19.6 − 19 = 0.6 plus what refilled since.
    const { capacity, refillPerSecond } = effectiveRate({ capacity: 20, refillPerSecond: 5 });
    const tat = Number(item.Item?.tat?.N);
    const left = capacity - ((tat - Date.now()) / 1000) * refillPerSecond;
    expect(left).toBeGreaterThan(0.5);
    expect(left).toBeLessThan(0.6 + ((Date.now() - startedAt) / 1000) * refillPerSecond + 0.01);
    expect(limiter.stats()).toMatchObject({ tokensLeased: 19, tokensReturned: 0, tokensDropped: 0 });
  });

  it("independent instances sharing one item stay under capacity + rate × t (seeded random arrivals)", async () => {
    const rate = { capacity: 8, refillPerSecond: 16 };
    const limit = effectiveRate(rate);
    for (const seed of [11, 12]) {
      const name = freshBucket();
      const processes = Array.from({ length: 3 }, () => {
        const leases: [number, number][] = [];
        const limiter = bucket({
          ...rate,
          bucketName: name,
          maxLease: 4,
          leaseTtlMs: 5000, // nothing goes back, so every lease is a token used
          onLease: ({ usableFrom, tokens }) => void leases.push([usableFrom, tokens]),
        });
        return { limiter, leases };
      });
      const startedAt = Date.now();
      const grants = await Promise.all(
        processes.map((p, i) => randomArrivals(p.limiter, seed * 10 + i, 1500)),
      );
      const results = processes.map((p, i) => ({ grants: grants[i] ?? [], leases: p.leases }));
      // Demand (~45/s) is well over the limit, so the bucket is what shapes the grants.
      expect(results.flatMap((r) => r.grants).length).toBeGreaterThan(
        limit.capacity + limit.refillPerSecond * 1.5,
      );
      expectWithinLimit(results, limit, startedAt);
    }
  }, 60_000);

  it("separate processes sharing one item stay under capacity + rate × t", async () => {
    const rate = { capacity: 8, refillPerSecond: 16 };
    const limit = effectiveRate(rate);
    const name = freshBucket();
    const startedAt = Date.now();
    const results = await runFleet(
      [21, 22, 23].map((seed) => ({
        limiter: "distributed" as const,
        rate,
        dynamodb: { endpoint: dynamo.endpoint, tableName, bucketName: name, maxLease: 4, leaseTtlMs: 5000 },
        workload: { kind: "arrivals" as const, seed, maxBurst: 3, maxGapMs: 200 },
      })),
      { seconds: 1.5 },
    );
    expect(results.flatMap((r) => r.grants).length).toBeGreaterThan(
      limit.capacity + limit.refillPerSecond * 1.5,
    );
    for (const r of results) expect(r.bucket).toMatchObject({ tokensReturned: 0, tokensDropped: 0 });
    expectWithinLimit(results, limit, startedAt);
  }, 60_000);

  it("a 429 pause written by one process holds every process until it ends", async () => {
    const name = freshBucket();
    const first = bucket({ capacity: 100, refillPerSecond: 100, bucketName: name });
    const second = bucket({ capacity: 100, refillPerSecond: 100, bucketName: name });
    await Promise.all([first.acquire(), second.acquire()]);
    const pausedUntil = Date.now() + 700;
    await first.pauseUntil(pausedUntil);
    const item = await documentClient().send(
      new GetItemCommand({ TableName: tableName, Key: bucketKey(name), ConsistentRead: true }),
    );
    expect(Number(item.Item?.pausedUntil?.N)).toBe(pausedUntil);
    await second.acquire();
    // Empty at the end of the pause: the first token comes one refill step later.
    expect(Date.now()).toBeGreaterThanOrEqual(pausedUntil);
  });

  it("an aborted wait rejects, and the tokens leased for it go back to the item", async () => {
    const name = freshBucket();
    const limiter = bucket({ capacity: 1, refillPerSecond: 2, bucketName: name, leaseTtlMs: 50 });
    await limiter.acquire(); // the one token
    // The next token is ~510 ms away: the lease reserves it, then the caller gives up.
    await expect(limiter.acquire(AbortSignal.timeout(100))).rejects.toMatchObject({ name: "TimeoutError" });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(limiter.stats()).toMatchObject({ tokensLeased: 2, tokensReturned: 1, tokensDropped: 0 });
    // A fresh instance finds the token back in the bucket: granted without waiting for a refill.
    const other = bucket({ capacity: 1, refillPerSecond: 2, bucketName: name });
    const before = Date.now();
    await other.acquire();
    expect(Date.now() - before).toBeLessThan(400);
  });

  it("fails the waiting calls when DynamoDB cannot be reached, instead of sending unmetered", async () => {
    const port = await freePort();
    const unreachable = createDistributedTokenBucket({
      client: new DynamoDBClient({
        endpoint: `http://127.0.0.1:${port}`,
        region: localRegion,
        credentials: localCredentials,
        maxAttempts: 1,
      }),
      tableName,
      capacity: 10,
      refillPerSecond: 10,
    });
    await expect(unreachable.acquire()).rejects.toThrow();
  });
});
