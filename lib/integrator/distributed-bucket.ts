import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { tableDefinition } from "#lib/store/table.ts";
import { sleep } from "./backoff.ts";
import { DEFAULT_MARGIN, effectiveRate, type Limiter, type RateLimitSettings } from "./limiter.ts";

/**
 * A token bucket shared by every process through one DynamoDB item
 * (`pk = "RATELIMIT#<bucketName>"`, `sk = "BUCKET"`), so the whole Lambda fleet stays under
 * integrator.io's account-wide limit.
 *
 * The item holds `tokens`, `updatedAt` (epoch ms), `version` and `pausedUntil` (epoch ms).
 * A process that has callers waiting leases up to `maxLease` tokens (never more than it has
 * waiters) with one conditional UpdateItem: it computes the refill since `updatedAt`
 * (`min(capacity, tokens + rate × elapsed)`), subtracts its lease and writes the result on
 * condition that `version` is unchanged. A lost race returns the current item
 * (`ReturnValuesOnConditionCheckFailure`), so a retry costs one call. Because every lease is a
 * serialised token-bucket step, all processes together are charged at most
 * `capacity + rate × t` over any window of length t.
 *
 * Leased tokens are spent at once by the waiters that asked for them; tokens left over (a
 * waiter aborted) are dropped after `leaseTtlMs`, never returned, so a token is always used
 * within `leaseTtlMs` of the moment it was charged.
 *
 * Clocks: each writer uses its own clock for the refill, and `updatedAt` never moves backwards
 * (`max(updatedAt, now)`). A writer whose clock runs behind gets no refill until it catches up;
 * one running ahead by d can add at most `rate × d` once. Lambda hosts are NTP-synchronised
 * (skew well below the 2% margin at 300/s); see lib/integrator/README.md.
 *
 * A 429 calls `pauseUntil(now + Retry-After)`: the item gets `pausedUntil`, `tokens = 0` and
 * `updatedAt = pausedUntil`, so every process holds off and then restarts from an empty bucket.
 */
export interface DistributedTokenBucketOptions extends RateLimitSettings {
  /** Any DynamoDB client (a DocumentClient works too); the bucket sends low-level commands. */
  client: DynamoDBClient | DynamoDBDocumentClient;
  tableName: string;
  /** Bucket item name: processes with the same name share a limit (default `integrator`). */
  bucketName?: string;
  /** Fraction of the server's bucket to enforce (default 0.98). */
  margin?: number;
  /** Most tokens one lease takes (default 10). */
  maxLease?: number;
  /** Leased tokens not handed out within this many ms of their charge are dropped (default 100). */
  leaseTtlMs?: number;
  /** Clock in epoch ms (default `Date.now`). */
  now?: () => number;
  random?: () => number;
}

export interface DistributedBucketStats {
  /** Successful lease writes. */
  leases: number;
  tokensLeased: number;
  /** Leases that lost a race (conditional check failed) and were retried. */
  conflicts: number;
  /** Leased tokens dropped unused (expired lease or a pause). */
  tokensDropped: number;
}

export interface DistributedTokenBucket extends Limiter {
  stats(): DistributedBucketStats;
}

interface BucketState {
  tokens: number;
  updatedAt: number;
  version: number;
  pausedUntil: number;
}

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  detach(): void;
}

const EPSILON = 1e-9;

/** The key of a bucket's item in the single table. */
export function bucketKey(bucketName: string): Record<string, AttributeValue> {
  return {
    [tableDefinition.partitionKey]: { S: `RATELIMIT#${bucketName}` },
    [tableDefinition.sortKey]: { S: "BUCKET" },
  };
}

function numberAttribute(item: Record<string, AttributeValue>, name: string): number | undefined {
  const value = item[name];
  return value !== undefined && "N" in value && value.N !== undefined ? Number(value.N) : undefined;
}

function decode(item: Record<string, AttributeValue> | undefined): BucketState | null {
  if (item === undefined) return null;
  const tokens = numberAttribute(item, "tokens");
  const updatedAt = numberAttribute(item, "updatedAt");
  const version = numberAttribute(item, "version");
  if (tokens === undefined || updatedAt === undefined || version === undefined) return null;
  return { tokens, updatedAt, version, pausedUntil: numberAttribute(item, "pausedUntil") ?? 0 };
}

function isConditionalCheckFailure(
  error: unknown,
): error is Error & { Item?: Record<string, AttributeValue> } {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/**
 * Creates the fleet-wide limiter.
 *
 * @example
 * const limiter = createDistributedTokenBucket({ ...config.rateLimit, client: dynamo, tableName: config.tableName });
 */
export function createDistributedTokenBucket(options: DistributedTokenBucketOptions): DistributedTokenBucket {
  const { capacity, refillPerSecond } = effectiveRate(options, options.margin ?? DEFAULT_MARGIN);
  const key = bucketKey(options.bucketName ?? "integrator");
  const maxLease = Math.max(1, Math.min(options.maxLease ?? 10, Math.floor(capacity)));
  const leaseTtlMs = options.leaseTtlMs ?? 100;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  // Low-level commands go through either client type: only the command's own serde runs.
  const client = options.client as DynamoDBClient;

  const queue: Waiter[] = [];
  /** Tokens this process holds: leased, not handed out yet. */
  let held = 0;
  let heldUntil = 0;
  let pausedUntil = 0;
  /** Last item state seen (our write or a lost race's current item); undefined = unknown. */
  let state: BucketState | null | undefined;
  let pumping = false;
  let idle = new AbortController();
  const stats: DistributedBucketStats = { leases: 0, tokensLeased: 0, conflicts: 0, tokensDropped: 0 };

  function dropHeld(): void {
    stats.tokensDropped += held;
    held = 0;
  }

  function takeHeld(): boolean {
    const t = now();
    if (held > 0 && t > heldUntil) dropHeld();
    if (held === 0 || t < pausedUntil) return false;
    held -= 1;
    return true;
  }

  function grantHeld(): void {
    while (queue.length > 0 && takeHeld()) {
      const waiter = queue.shift();
      waiter?.detach();
      waiter?.resolve();
    }
  }

  function rejectAll(reason: unknown): void {
    for (const waiter of queue.splice(0)) {
      waiter.detach();
      waiter.reject(reason);
    }
  }

  /** Sleeps, but wakes early when the last waiter leaves. */
  async function idleSleep(ms: number): Promise<void> {
    try {
      await sleep(ms, idle.signal);
    } catch {
      idle = new AbortController();
    }
  }

  async function readState(): Promise<BucketState | null> {
    const result = await client.send(
      new GetItemCommand({ TableName: options.tableName, Key: key, ConsistentRead: true }),
    );
    return decode(result.Item);
  }

  /** One lease attempt: charge the item for `want` tokens, or sleep until they should be there. */
  async function leaseOnce(): Promise<void> {
    const want = Math.min(maxLease, queue.length);
    const t = now();
    const current = state ?? null;
    if (current && current.pausedUntil > t) {
      pausedUntil = Math.max(pausedUntil, current.pausedUntil);
      return;
    }
    const base = current ?? { tokens: capacity, updatedAt: t, version: 0, pausedUntil: 0 };
    const at = Math.max(t, base.updatedAt);
    const available = Math.min(
      capacity,
      base.tokens + (Math.max(0, t - base.updatedAt) / 1000) * refillPerSecond,
    );
    if (available + EPSILON < want) {
      // Sleep until our (possibly stale) view says `want` tokens are there; jitter spreads the
      // processes that wait on the same item so they don't all write in the same millisecond.
      const waitMs = ((want - available) / refillPerSecond) * 1000;
      await idleSleep(waitMs * (1 + 0.2 * random()) + (at - t));
      return;
    }
    const next: BucketState = {
      tokens: Math.max(0, available - want),
      updatedAt: at,
      version: base.version + 1,
      pausedUntil: base.pausedUntil,
    };
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: options.tableName,
          Key: key,
          UpdateExpression: "SET tokens = :tokens, updatedAt = :updatedAt, version = :next",
          ConditionExpression: current ? "version = :version" : "attribute_not_exists(version)",
          ExpressionAttributeValues: {
            ":tokens": { N: String(next.tokens) },
            ":updatedAt": { N: String(next.updatedAt) },
            ":next": { N: String(next.version) },
            ...(current ? { ":version": { N: String(current.version) } } : {}),
          },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      stats.conflicts += 1;
      state = error.Item ? decode(error.Item) : await readState();
      return;
    }
    state = next;
    stats.leases += 1;
    stats.tokensLeased += want;
    held += want;
    heldUntil = t + leaseTtlMs;
  }

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      for (;;) {
        grantHeld();
        if (queue.length === 0) return;
        const t = now();
        if (pausedUntil > t) {
          await idleSleep(pausedUntil - t);
          continue;
        }
        try {
          await leaseOnce();
        } catch (error) {
          // DynamoDB itself failed (after the SDK's own retries): fail the waiting calls rather
          // than send unmetered; the next acquire tries again.
          state = undefined;
          rejectAll(error);
        }
      }
    } finally {
      pumping = false;
    }
  }

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (queue.length === 0 && takeHeld()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          if (queue.length === 0) idle.abort();
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          resolve,
          reject,
          detach: () => signal?.removeEventListener("abort", onAbort),
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(waiter);
        void pump();
      });
    },

    async pauseUntil(epochMs) {
      if (epochMs > pausedUntil) {
        pausedUntil = epochMs;
        dropHeld();
      }
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: options.tableName,
            Key: key,
            UpdateExpression: "SET pausedUntil = :until, tokens = :zero, updatedAt = :until ADD version :one",
            ConditionExpression: "attribute_not_exists(pausedUntil) OR pausedUntil < :until",
            ExpressionAttributeValues: {
              ":until": { N: String(epochMs) },
              ":zero": { N: "0" },
              ":one": { N: "1" },
            },
          }),
        );
      } catch (error) {
        // Someone already paused the fleet at least as long.
        if (!isConditionalCheckFailure(error)) throw error;
      }
      state = undefined;
    },

    stats: () => ({ ...stats }),
  };
}
