import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  bucketKey,
  createDistributedTokenBucket,
  type DistributedTokenBucketOptions,
} from "#lib/integrator/distributed-bucket.ts";
import { LANES } from "#lib/integrator/lanes.ts";
import { effectiveRate, type Limiter } from "#lib/integrator/limiter.ts";
import {
  createTable,
  type DynamoDbLocal,
  localCredentials,
  localRegion,
  startDynamoDbLocal,
} from "#local/dynamodb-local.ts";
import { freePort } from "#local/net.ts";
import { seededRandom } from "#test/unit/integrator/seeded-random.ts";
import { runFleet } from "../../bench/lib/fleet.ts";
import { worstWindowExcess } from "../../bench/lib/stats.ts";

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
  limiter: Pick<Limiter, "acquire">,
  seed: number,
  durationMs: number,
): Promise<number[]> {
  const random = seededRandom(seed);
  const grants: number[] = [];
  const pending: Promise<void>[] = [];
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const burst = Math.floor(random() * 4);
    for (let i = 0; i < burst; i++) {
      // Every lane in the mix: lanes change the order, never the limit.
      const lane = LANES[Math.floor(random() * LANES.length)] ?? "background";
      pending.push(limiter.acquire(lane).then(() => void grants.push(Date.now())));
    }
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
    await Promise.all(Array.from({ length: 19 }, () => limiter.acquire("background")));
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
      ([21, 22, 23] as const).map((seed, i) => ({
        limiter: "distributed" as const,
        lane: LANES[i] ?? "background",
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
    await Promise.all([first.acquire("background"), second.acquire("background")]);
    const pausedUntil = Date.now() + 700;
    await first.pauseUntil(pausedUntil);
    const item = await documentClient().send(
      new GetItemCommand({ TableName: tableName, Key: bucketKey(name), ConsistentRead: true }),
    );
    expect(Number(item.Item?.pausedUntil?.N)).toBe(pausedUntil);
    await second.acquire("background");
    // Empty at the end of the pause: the first token comes one refill step later.
    expect(Date.now()).toBeGreaterThanOrEqual(pausedUntil);
  });

  it("an aborted wait rejects, and the tokens leased for it go back to the item", async () => {
    const name = freshBucket();
    const limiter = bucket({ capacity: 1, refillPerSecond: 2, bucketName: name, leaseTtlMs: 50 });
    await limiter.acquire("interactive"); // the one token
    // The next token is ~510 ms away: an interactive lease reserves it (within its 1 s reach),
    // then the caller gives up.
    await expect(limiter.acquire("interactive", AbortSignal.timeout(100))).rejects.toMatchObject({
      name: "TimeoutError",
    });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(limiter.stats()).toMatchObject({ tokensLeased: 2, tokensReturned: 1, tokensDropped: 0 });
    // A fresh instance finds the token back in the bucket: granted without waiting for a refill.
    const other = bucket({ capacity: 1, refillPerSecond: 2, bucketName: name });
    const before = Date.now();
    await other.acquire("background");
    expect(Date.now() - before).toBeLessThan(400);
  });

  it("a lease from a full bucket is charged fullStartMs late, its token usable at once", async () => {
    const name = freshBucket();
    const limiter = bucket({ capacity: 20, refillPerSecond: 5, bucketName: name, fullStartMs: 300 });
    const before = Date.now();
    await limiter.acquire("background");
    const after = Date.now();
    const item = await documentClient().send(
      new GetItemCommand({ TableName: tableName, Key: bucketKey(name), ConsistentRead: true }),
    );
    const msPerToken = 1000 / effectiveRate({ capacity: 20, refillPerSecond: 5 }).refillPerSecond;
    const tat = Number(item.Item?.tat?.N);
    // One token plus the 300 ms whose refill integrator.io's full bucket would lose.
    expect(tat).toBeGreaterThanOrEqual(before + msPerToken + 300);
    expect(tat).toBeLessThanOrEqual(after + msPerToken + 300);
    expect(after - before).toBeLessThan(300);
  });

  it("a full lease that answers late is charged the time it may have landed late", async () => {
    const name = freshBucket();
    // The process's clock moves 400 ms while its first lease is out (a starved process): the
    // write carries the `t` read before it, but may have landed up to 400 ms later.
    let offset = 0;
    const real = documentClient();
    const starved = {
      send: async (command: Parameters<typeof real.send>[0]) => {
        const answer = await real.send(command);
        offset = 400;
        return answer;
      },
    } as unknown as DynamoDBDocumentClient;
    const limiter = createDistributedTokenBucket({
      client: starved,
      tableName,
      capacity: 20,
      refillPerSecond: 5,
      bucketName: name,
      fullStartMs: 50,
      maxLease: 5,
      now: () => Date.now() + offset,
    });
    const before = Date.now();
    await Promise.all(Array.from({ length: 5 }, () => limiter.acquire("background")));
    const after = Date.now();
    await vi.waitFor(() => expect(limiter.stats().lateCharges).toBe(1));
    const item = await real.send(
      new GetItemCommand({ TableName: tableName, Key: bucketKey(name), ConsistentRead: true }),
    );
    const lease = (5 * 1000) / effectiveRate({ capacity: 20, refillPerSecond: 5 }).refillPerSecond;
    // t + the lease + fullStartMs, then min(the lease, 400 − 50 ms) more once it answered.
    const tat = Number(item.Item?.tat?.N);
    expect(tat).toBeGreaterThanOrEqual(before + lease + 50 + 350);
    expect(tat).toBeLessThanOrEqual(after + lease + 50 + 350);
  });

  it("hands the tokens a process holds to its interactive waiters first", async () => {
    const limiter = bucket({ capacity: 1, refillPerSecond: 20, bucketName: freshBucket(), maxLease: 1 });
    await limiter.acquire("background");
    const order: string[] = [];
    const calls = (["bulk", "background", "interactive", "background", "interactive"] as const).map(
      (lane, i) => limiter.acquire(lane).then(() => order.push(`${lane}-${i}`)),
    );
    await Promise.all(calls);
    expect(order).toEqual(["interactive-2", "interactive-4", "background-1", "background-3", "bulk-0"]);
  });

  it("an interactive lease reaches past what background has reserved; background waits for room", async () => {
    const name = freshBucket();
    // 2 tokens, 4/s (250 ms a token): background may reserve 150 ms ahead, interactive 1 s.
    const limiter = bucket({ capacity: 2, refillPerSecond: 4, margin: 1, bucketName: name, maxLease: 1 });
    const leases: { lane: string; usableFrom: number }[] = [];
    const observed = bucket({
      capacity: 2,
      refillPerSecond: 4,
      margin: 1,
      bucketName: name,
      maxLease: 1,
      onLease: ({ lane, usableFrom }) => void leases.push({ lane, usableFrom }),
    });
    await Promise.all([limiter.acquire("background"), limiter.acquire("background")]); // empty now
    const startedAt = Date.now();
    await observed.acquire("interactive");
    const [interactive] = leases;
    // Its token is the next the bucket refills (~250 ms away): reserved at once, not polled for.
    expect(interactive?.lane).toBe("interactive");
    expect(interactive?.usableFrom).toBeGreaterThan(startedAt + 100);
    expect(observed.stats().conflicts).toBeLessThanOrEqual(1);
    // A background caller may not reserve that far: it holds off until the room is within 150 ms.
    await observed.acquire("background");
    const background = leases[1];
    expect(background?.lane).toBe("background");
    expect(background?.usableFrom).toBeGreaterThanOrEqual((interactive?.usableFrom ?? 0) + 240);
  });

  it("bulk takes at most its share of the refill while background keeps the bucket empty", async () => {
    const rate = { capacity: 10, refillPerSecond: 40 };
    const limit = effectiveRate(rate);
    const name = freshBucket();
    const leases: Record<string, [number, number][]> = { background: [], bulk: [] };
    const make = (lane: "background" | "bulk") =>
      bucket({
        ...rate,
        bucketName: name,
        maxLease: 2,
        bulkShare: 0.25,
        leaseTtlMs: 5000,
        onLease: ({ usableFrom, tokens }) => void leases[lane]?.push([usableFrom, tokens]),
      });
    const [first, second, bulk] = [make("background"), make("background"), make("bulk")];
    const startedAt = Date.now();
    const end = startedAt + 2500;
    const saturate = async (limiter: ReturnType<typeof make>, lane: "background" | "bulk") => {
      const loop = async () => {
        while (Date.now() < end) await limiter.acquire(lane);
      };
      await Promise.all(Array.from({ length: 6 }, loop));
    };
    await Promise.all([
      saturate(first, "background"),
      saturate(second, "background"),
      saturate(bulk, "bulk"),
    ]);
    // After the first fill: bulk's leases are spaced by tokens × T / share, so at most a quarter of
    // the refill (one lease of slack at each end of the window).
    const after = startedAt + (limit.capacity / limit.refillPerSecond) * 1000;
    const bulkTokens = (leases.bulk ?? []).filter(([at]) => at >= after).reduce((sum, [, n]) => sum + n, 0);
    const seconds = (end - after) / 1000;
    expect(bulkTokens).toBeLessThanOrEqual(0.25 * limit.refillPerSecond * seconds + 2 * 2);
    // ...and bulk is not starved: it gets a real part of it.
    expect(bulkTokens).toBeGreaterThan(0);
    // All lanes together still within capacity + rate × t.
    const all = [...(leases.background ?? []), ...(leases.bulk ?? [])].flatMap(([at, n]) =>
      Array<number>(n).fill(at),
    );
    expect(worstWindowExcess(all, limit.capacity, limit.refillPerSecond)).toBeLessThanOrEqual(1e-3);
  }, 20_000);

  it("bulk takes the whole refill when no other lane waits", async () => {
    const rate = { capacity: 10, refillPerSecond: 40 };
    const limit = effectiveRate(rate);
    const leases: [number, number][] = [];
    const bulk = bucket({
      ...rate,
      bucketName: freshBucket(),
      maxLease: 2,
      bulkShare: 0.25,
      bulkFloor: 2,
      leaseTtlMs: 5000,
      onLease: ({ usableFrom, tokens }) => void leases.push([usableFrom, tokens]),
    });
    const startedAt = Date.now();
    const end = startedAt + 2000;
    const loop = async () => {
      while (Date.now() < end) await bulk.acquire("bulk");
    };
    await Promise.all(Array.from({ length: 6 }, loop));
    const after = startedAt + (limit.capacity / limit.refillPerSecond) * 1000;
    const tokens = leases.filter(([at]) => at >= after && at <= end).reduce((sum, [, n]) => sum + n, 0);
    // Far above its 25% share: the bucket above the floor is bulk's while nobody else waits.
    expect(tokens).toBeGreaterThan(0.6 * limit.refillPerSecond * ((end - after) / 1000));
  }, 20_000);

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
    await expect(unreachable.acquire("background")).rejects.toThrow();
  });
});
