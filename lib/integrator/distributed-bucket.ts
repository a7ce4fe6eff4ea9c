import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { tableDefinition } from "#lib/store/table.ts";
import { type Lane, LaneQueues } from "./lanes.ts";
import { DEFAULT_MARGIN, effectiveRate, type Limiter, type RateLimitSettings } from "./limiter.ts";

/**
 * A token bucket shared by every process through one DynamoDB item
 * (`pk = "RATELIMIT#<bucketName>"`, `sk = "BUCKET"`), so the whole Lambda fleet stays under
 * integrator.io's account-wide limit.
 *
 * **State.** The item stores the bucket in GCRA form (the "generic cell rate algorithm", an
 * exact token bucket): `tat`, the epoch ms at which the bucket is full again. With
 * T = 1000 / rate ms per token and B = capacity × T, the bucket holds
 * `min(capacity, (t + B − tat) / T)` tokens at time t, and taking n tokens moves `tat` to
 * `max(tat, t) + n·T`. (`tokens` and `updatedAt` of a classic bucket are one number here:
 * the refill is the elapsed time itself.)
 *
 * **Leases.** A process with callers waiting leases up to `maxLease` tokens (never more than it
 * has waiters; one lease in flight per process) with one conditional UpdateItem, no prior read
 * and no version:
 * - bucket not full (`tat ≥ t`): `SET tat = tat + n·T IF tat >= t AND tat <= t + B + ahead − n·T`;
 * - bucket full or no item (`tat < t`): `SET tat = t + n·T IF tat < t OR attribute_not_exists(tat)`.
 * Which one to send is a guess from the last `tat` seen: a busy fleet moves `tat` forward all the
 * time, so a `tat` only a little behind (two round trips) is taken as "not full".
 * DynamoDB serialises the updates, so concurrent processes never lose a race while tokens last,
 * and each update is one token-bucket step. The tokens become usable at `newTat − B` (when the
 * bucket has them): at once while the bucket has tokens, otherwise a short reservation (at most
 * `maxAheadMs`) the process sleeps out. That keeps one write per lease and no polling when the
 * fleet runs at the limit. A refused condition returns the current `tat`
 * (`ReturnValuesOnConditionCheckFailure`), from which the process knows what to do next.
 * Together all processes are charged at most `capacity + rate × w` over any window w.
 *
 * **Unused tokens.** Leased tokens are handed out as soon as they are usable; any not handed out
 * within `leaseTtlMs` of that (a waiter aborted) go back to the item (`SET tat = tat − n·T`,
 * which is exactly "never taken"; only within the same `epoch`, which a refill to the brim or a
 * pause ends, since a full bucket would have lost them). So no process sits on tokens, and a
 * frozen Lambda never wakes up holding any. A token is used within `leaseTtlMs` + the lease's
 * DynamoDB round trip of the moment the bucket had it.
 *
 * **Clocks.** Each writer uses its own clock `t`; `tat` only moves back by returned tokens. A
 * writer whose clock runs ahead by d can get at most `rate × d` extra once (it sees the bucket
 * refilled early); one behind waits longer. Lambda hosts are NTP-synchronised to milliseconds,
 * well inside the 2% margin (20 tokens = 68 ms at 294/s).
 *
 * **Lanes** (lib/integrator/lanes.ts). A process serves its waiters highest lane first and leases
 * for the first lane its held tokens leave waiting. Lanes differ in how far ahead they may
 * reserve: `interactive` up to `maxAheadMs`, `background` and `bulk` only `backgroundAheadMs`. So
 * however busy the fleet, an interactive lease finds room at once and its tokens are usable
 * within about `backgroundAheadMs` + n·T + one or two round trips (interactive callers can still
 * queue behind each other, up to `maxAheadMs`). A `bulk` lease also sets `bulkTat = t + n·T / s`
 * (s = `bulkShare`) and is allowed only once the previous one's `bulkTat` has passed, unless the
 * bucket keeps `bulkFloor` tokens after it. Waiting lanes keep the bucket near empty, so while
 * they wait bulk gets at most s of the refill; over any window w, bulk takes at most
 * s × rate × w + (capacity − bulkFloor) + `maxLease` (the bucket above the floor, which bulk may
 * drain whenever the others leave it full). An idle lane's share thus goes to the others.
 *
 * **Starting from a full bucket.** integrator.io's bucket is full then too, and stays full — its
 * refill lost — until our first calls reach it: a round trip, a TLS handshake, a cold process
 * later. A burst that starts from a full bucket would otherwise meet a 429 a second or two on,
 * once the 2% margin is spent. So a "full" lease sets `tat = t + n·T + fullStartMs`: its tokens are
 * usable at once, and the refill of those first `fullStartMs` is not counted on. It costs
 * `fullStartMs × rate` tokens (15 at 294/s) each time the fleet starts from a full bucket, which
 * only happens after the fleet left it idle. And a full lease is written with the `t` its process
 * read before sending: one that answers later than `t + fullStartMs` (a starved process, a slow
 * network) may have landed later, when the bucket had already given that refill to nobody, so
 * `tat` would be up to a lease short. Such a lease is charged the difference at once
 * (`SET tat = tat + late`, within its epoch); until that write lands, the fleet may be ahead by
 * at most that lease.
 *
 * **429.** `pauseUntil(now + Retry-After)` sets `tat = pausedUntil + B` (empty at
 * `pausedUntil`, refilling from then) and `pausedUntil`, so every process holds off. Reservations
 * other processes already hold (≤ `maxLease` each) are not recalled.
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
  /** Leased tokens not handed out within this many ms of becoming usable go back (default 100). */
  leaseTtlMs?: number;
  /** How far ahead of the bucket an interactive lease may reserve tokens, in ms (default 1000). */
  maxAheadMs?: number;
  /**
   * A lease that finds the bucket full is charged as if taken this many ms later (default 50):
   * integrator.io's bucket stays full, and loses its refill, until our first calls reach it.
   */
  fullStartMs?: number;
  /**
   * How far ahead background and bulk leases may reserve, in ms (default 150): the longest an
   * interactive call waits behind them, besides its own lease's round trip.
   */
  backgroundAheadMs?: number;
  /** Share of the refill the bulk lane may take while other lanes wait (default 0.2). */
  bulkShare?: number;
  /** Bulk may exceed its share while the bucket keeps this many tokens (default 10% of capacity). */
  bulkFloor?: number;
  /** Clock in epoch ms (default `Date.now`). */
  now?: () => number;
  random?: () => number;
  /** Observes every lease: `tokens` usable from `usableFrom` (epoch ms, the bucket's own schedule). */
  onLease?(lease: { tokens: number; usableFrom: number; lane: Lane }): void;
}

export interface DistributedBucketStats {
  /** Successful lease writes. */
  leases: number;
  tokensLeased: number;
  /** Lease writes refused by their condition (stale view of the item): retried. */
  conflicts: number;
  /** Leased tokens not used in time, given back to the item. */
  tokensReturned: number;
  /** Leased tokens thrown away (a 429 pause, or a failed give-back). */
  tokensDropped: number;
  /** Full-bucket leases that answered late and were charged the difference (see chargeLate). */
  lateCharges: number;
}

export interface DistributedTokenBucket extends Limiter {
  stats(): DistributedBucketStats;
}

/** The key of a bucket's item in the single table. */
export function bucketKey(bucketName: string): Record<string, AttributeValue> {
  return {
    [tableDefinition.partitionKey]: { S: `RATELIMIT#${bucketName}` },
    [tableDefinition.sortKey]: { S: "BUCKET" },
  };
}

function numberOf(item: Record<string, AttributeValue> | undefined, name: string): number | undefined {
  const value = item?.[name];
  return value !== undefined && "N" in value && value.N !== undefined ? Number(value.N) : undefined;
}

const tatOf = (item: Record<string, AttributeValue> | undefined) => numberOf(item, "tat");

function isConditionalCheckFailure(
  error: unknown,
): error is Error & { Item?: Record<string, AttributeValue> } {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

const num = (value: number): AttributeValue => ({ N: String(value) });

interface Batch {
  /** Tokens of this lease not handed out yet. */
  count: number;
  /** Usable from (epoch ms, when the bucket has them) ... */
  from: number;
  /** ... until (then they go back to the item). */
  until: number;
  /** The item's `epoch` at the lease: a give-back is valid only within it. */
  epoch: number;
}

/** The shared bucket as an operator reads it (the admin overview). */
export interface BucketSnapshot {
  /** Tokens in the bucket now (0 while paused or reserved ahead). */
  tokens: number;
  /** The enforced limits: integrator.io's × share × margin. */
  capacity: number;
  refillPerSecond: number;
  /** When a 429 paused the fleet until a moment still ahead, that moment (epoch ms). */
  pausedUntil: number | undefined;
}

/**
 * The bucket's state at `nowMs` from its item (`tat`, `pausedUntil`): `min(capacity, (t + B − tat) / T)`
 * tokens, never below 0; a bucket without an item (or with `tat` passed) is full.
 */
export function bucketSnapshot(
  item: Record<string, AttributeValue> | undefined,
  settings: RateLimitSettings & { margin?: number },
  nowMs: number,
): BucketSnapshot {
  const { capacity, refillPerSecond } = effectiveRate(settings, settings.margin ?? DEFAULT_MARGIN);
  const tat = tatOf(item);
  // Short of full by the refill still owed until `tat` (the same as `(t + B − tat) / T`).
  const owed = tat === undefined ? 0 : (Math.max(0, tat - nowMs) * refillPerSecond) / 1000;
  const tokens = Math.max(0, capacity - owed);
  const pausedUntil = numberOf(item, "pausedUntil");
  return {
    // Whole tokens, past the float error of ms ↔ tokens.
    tokens: Math.floor(tokens + 1e-6),
    capacity,
    refillPerSecond,
    pausedUntil: pausedUntil !== undefined && pausedUntil > nowMs ? pausedUntil : undefined,
  };
}

/** Reads the shared bucket's item (one consistent GetItem) as `bucketSnapshot` describes it. */
export async function readBucket(
  options: Pick<DistributedTokenBucketOptions, "client" | "tableName" | "bucketName" | "margin"> &
    RateLimitSettings,
  nowMs: number = Date.now(),
): Promise<BucketSnapshot> {
  const client = options.client as DynamoDBClient;
  const result = await client.send(
    new GetItemCommand({
      TableName: options.tableName,
      Key: bucketKey(options.bucketName ?? "integrator"),
      ConsistentRead: true,
    }),
  );
  return bucketSnapshot(result.Item, options, nowMs);
}

/**
 * Creates the fleet-wide limiter. Build one per process (module scope of the Lambda) and share
 * it between every integrator.io client of the process.
 *
 * @example
 * const limiter = createDistributedTokenBucket({ ...config.rateLimit, client: dynamo, tableName: config.tableName });
 */
export function createDistributedTokenBucket(options: DistributedTokenBucketOptions): DistributedTokenBucket {
  const { capacity, refillPerSecond } = effectiveRate(options, options.margin ?? DEFAULT_MARGIN);
  const msPerToken = 1000 / refillPerSecond;
  const burstMs = capacity * msPerToken;
  const key = bucketKey(options.bucketName ?? "integrator");
  const maxLease = Math.max(1, Math.min(options.maxLease ?? 10, Math.floor(capacity)));
  const leaseTtlMs = options.leaseTtlMs ?? 100;
  const maxAheadMs = options.maxAheadMs ?? 1000;
  const fullStartMs = options.fullStartMs ?? 50;
  const backgroundAheadMs = Math.min(options.backgroundAheadMs ?? 150, maxAheadMs);
  const bulkShare = options.bulkShare ?? 0.2;
  if (!(bulkShare > 0 && bulkShare <= 1)) throw new RangeError("bulkShare must be in (0, 1]");
  const floorMs = Math.min(options.bulkFloor ?? capacity / 10, capacity - maxLease) * msPerToken;
  const aheadOf = (lane: Lane) => (lane === "interactive" ? maxAheadMs : backgroundAheadMs);
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  // Low-level commands go through either client type: only the command's own serde runs.
  const client = options.client as DynamoDBClient;
  const tableName = options.tableName;

  const queue = new LaneQueues(() => service());
  let batches: Batch[] = [];
  // One lease in flight at a time: a second one measured slower (it races the first on a stale
  // view of the item) and costs writes.
  let leasing = false;
  /** Per lane, no new lease before this (a reservation that would reach too far ahead). */
  const holdOffUntil: Record<Lane, number> = { interactive: 0, background: 0, bulk: 0 };
  let pausedUntil = 0;
  /** Last `tat` seen (our write or a refused condition's current item); undefined = unknown. */
  let tat: number | undefined;
  /** Last `bulkTat` seen: before it, a bulk lease needs a bucket above `bulkFloor`. */
  let bulkTat: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let serviceQueued = false;
  let roundTripMs = 0;
  const stats: DistributedBucketStats = {
    leases: 0,
    tokensLeased: 0,
    conflicts: 0,
    tokensReturned: 0,
    tokensDropped: 0,
    lateCharges: 0,
  };

  const held = () => batches.reduce((sum, batch) => sum + batch.count, 0);

  function takeHeld(t: number): boolean {
    if (t < pausedUntil) return false;
    let best: Batch | undefined;
    for (const batch of batches) {
      if (batch.count > 0 && batch.from <= t && t <= batch.until && (!best || batch.until < best.until))
        best = batch;
    }
    if (!best) return false;
    best.count -= 1;
    return true;
  }

  function wakeAt(at: number): void {
    if (at >= timerAt) return;
    if (timer !== undefined) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
        service();
      },
      Math.max(0, Math.ceil(at - now())),
    );
  }

  /** Hands out usable tokens, gives back stale ones, starts leases, and sets the next wake-up. */
  function service(): void {
    const t = now();
    while (queue.size > 0 && takeHeld(t)) queue.grantNext();
    for (const batch of batches) {
      if (batch.count > 0 && t > batch.until) {
        void giveBack(batch.count, batch.epoch);
        batch.count = 0;
      }
    }
    batches = batches.filter((batch) => batch.count > 0);

    let next = Number.POSITIVE_INFINITY;
    for (const batch of batches) next = Math.min(next, batch.from > t ? batch.from : batch.until + 1);
    // Held tokens go to the highest lanes first: lease for the first lane they leave waiting.
    const uncovered = queue.firstUncovered(held());
    if (uncovered) {
      const { lane, waiting } = uncovered;
      if (t < pausedUntil) {
        next = Math.min(next, pausedUntil);
      } else if (t < holdOffUntil[lane]) {
        next = Math.min(next, holdOffUntil[lane]);
      } else {
        // With tokens reserved for later, lease again only for a whole batch: waiters trickling
        // in would otherwise each get a lease, and DynamoDB a write per token. They wait anyway.
        const reserved = batches.some((batch) => batch.from > t);
        // Interactive callers never wait for a whole batch: the reach is what bounds their wait.
        if (!leasing && (lane === "interactive" || !reserved || waiting >= maxLease))
          void lease(Math.min(maxLease, waiting), lane);
      }
    }
    if (next === Number.POSITIVE_INFINITY) {
      if (timer !== undefined && queue.size === 0 && batches.length === 0) {
        clearTimeout(timer);
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
      }
      return;
    }
    wakeAt(next);
  }

  async function readTat(): Promise<number | undefined> {
    const result = await client.send(
      new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
    );
    return tatOf(result.Item);
  }

  /** Gives leased tokens nobody used back to the item (not across an epoch, not while paused). */
  async function giveBack(count: number, epoch: number): Promise<void> {
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: "SET tat = tat - :decrement",
          // Only while the bucket has not been refilled to the brim (or paused) since the lease:
          // tokens that a full bucket would have lost must not come back.
          ConditionExpression: "epoch = :epoch AND (attribute_not_exists(pausedUntil) OR pausedUntil < :t)",
          ExpressionAttributeValues: {
            ":decrement": num(count * msPerToken),
            ":epoch": num(epoch),
            ":t": num(now()),
          },
        }),
      );
      stats.tokensReturned += count;
      tat = undefined;
    } catch {
      // Losing them is safe (they were charged): only throughput suffers.
      stats.tokensDropped += count;
    }
  }

  /**
   * Moves `tat` on by `ms` for a full lease that may have landed that late (only within its
   * epoch: a bucket refilled to the brim since has nothing left to correct).
   */
  async function chargeLate(ms: number, epoch: number): Promise<void> {
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: "SET tat = tat + :late",
          ConditionExpression: "epoch = :epoch",
          ExpressionAttributeValues: { ":late": num(ms), ":epoch": num(epoch) },
        }),
      );
      stats.lateCharges += 1;
    } catch {
      // A new epoch (the bucket refilled) or DynamoDB failing: nothing to correct, or nothing we can.
    }
  }

  /** Smoothed DynamoDB round trip of a lease (EWMA), in ms. */
  function observeRoundTrip(ms: number): void {
    roundTripMs = roundTripMs === 0 ? ms : 0.8 * roundTripMs + 0.2 * ms;
  }

  /**
   * When a lease of `increment` ms for `lane` fits, from the last item seen: within the lane's
   * reach ahead of the bucket and, for bulk over its share, above `bulkFloor`.
   */
  function fitsAt(lane: Lane, increment: number, seenTat: number): number {
    const withinReach = seenTat + increment - burstMs - aheadOf(lane);
    if (lane !== "bulk" || bulkTat === undefined) return withinReach;
    const aboveFloor = seenTat + increment + floorMs - burstMs;
    return Math.max(withinReach, Math.min(bulkTat, aboveFloor));
  }

  /** The conditional UpdateItem of one lease (see the header: full / not full, and bulk's share). */
  function leaseCommand(lane: Lane, t: number, increment: number, full: boolean): UpdateItemCommand {
    const bulk = lane === "bulk";
    const values: Record<string, AttributeValue> = { ":t": num(t) };
    const set: string[] = [];
    const conditions: string[] = [];
    if (full) {
      // A full bucket starts a new epoch (see giveBack); nobody is waiting, so bulk may take it.
      // Charged as if taken `fullStartMs` later (the tokens are usable now): see the header.
      set.push("tat = :next");
      conditions.push("(attribute_not_exists(tat) OR tat < :t)");
      values[":next"] = num(t + increment + fullStartMs);
    } else {
      set.push("tat = tat + :increment");
      conditions.push("tat >= :t AND tat <= :limit");
      values[":increment"] = num(increment);
      values[":limit"] = num(t + burstMs + aheadOf(lane) - increment);
      if (bulk) {
        conditions.push("(attribute_not_exists(bulkTat) OR bulkTat <= :t OR tat <= :floor)");
        values[":floor"] = num(t + burstMs - floorMs - increment);
      }
    }
    if (bulk) {
      // Never earlier than a share-mode lease already set it (a lease above the floor is extra).
      set.push("bulkTat = :bulkNext");
      values[":bulkNext"] = num(Math.max(bulkTat ?? 0, t + increment / bulkShare));
    }
    return new UpdateItemCommand({
      TableName: tableName,
      Key: key,
      UpdateExpression: `SET ${set.join(", ")}${full ? " ADD epoch :one" : ""}`,
      ConditionExpression: conditions.join(" AND "),
      ExpressionAttributeValues: full ? { ...values, ":one": num(1) } : values,
      ReturnValues: "ALL_NEW",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    });
  }

  /** Remembers what an item says of the bucket (a lease's new item or a refused one's current). */
  function observe(item: Record<string, AttributeValue> | undefined): void {
    tat = tatOf(item);
    bulkTat = numberOf(item, "bulkTat");
  }

  /** One lease attempt for `want` tokens of `lane`; whatever happens, `service` runs again after it. */
  async function lease(want: number, lane: Lane): Promise<void> {
    leasing = true;
    try {
      const increment = want * msPerToken;
      const t = now();
      if (tat !== undefined) {
        // Not yet room for this lease: wait until it fits. Jitter spreads the processes waiting
        // for the same room so they don't all write at once.
        const at = fitsAt(lane, increment, tat);
        if (at > t) {
          holdOffUntil[lane] = Math.max(holdOffUntil[lane], at + Math.min(0.1 * (at - t), 50) * random());
          return;
        }
      }
      // Our view of `tat` is one round trip old and other processes only move it forward: while
      // it is within two round trips of now, the fleet is busy and the bucket most likely not full.
      const full = tat === undefined || tat < t - 2 * roundTripMs;
      let item: Record<string, AttributeValue> | undefined;
      const sentAt = now();
      try {
        item = (await client.send(leaseCommand(lane, t, increment, full))).Attributes;
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        observeRoundTrip(now() - sentAt);
        stats.conflicts += 1;
        if (error.Item) observe(error.Item);
        else tat = await readTat();
        return;
      }
      const answeredAt = now();
      observeRoundTrip(answeredAt - sentAt);
      const newTat = tatOf(item) ?? t + increment;
      const seenTat = tat;
      observe(item);
      // A full lease that took long to answer may have landed well after `t`: the bucket was
      // charged from `t`, so up to a lease of tokens would be forgiven. Charge the difference.
      if (full) {
        const late = Math.min(increment, answeredAt - t - fullStartMs);
        if (late > 0) void chargeLate(late, numberOf(item, "epoch") ?? 0);
      }
      tat = Math.max(seenTat ?? newTat, newTat);
      stats.leases += 1;
      stats.tokensLeased += want;
      // Usable once the bucket has them (now, unless this lease reserved ahead). The TTL counts
      // from when we could first hand them out: a slow answer from DynamoDB is network delay like
      // any other (the margin covers it); holding tokens back is what the TTL bounds.
      const from = Math.max(t, newTat - burstMs);
      batches.push({
        count: want,
        from,
        until: Math.max(from, now()) + leaseTtlMs,
        epoch: numberOf(item, "epoch") ?? 0,
      });
      options.onLease?.({ tokens: want, usableFrom: from, lane });
    } catch (error) {
      // DynamoDB itself failed (after the SDK's own retries): fail the waiting calls rather than
      // send unmetered; the next acquire tries again.
      tat = undefined;
      queue.rejectAll(error);
    } finally {
      leasing = false;
      service();
    }
  }

  return {
    acquire(lane, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (queue.size === 0 && takeHeld(now())) return Promise.resolve();
      const waiting = queue.wait(lane, signal);
      // Calls started in the same tick share one lease rather than a lease each.
      if (!serviceQueued) {
        serviceQueued = true;
        queueMicrotask(() => {
          serviceQueued = false;
          service();
        });
      }
      return waiting;
    },

    async pauseUntil(epochMs) {
      if (epochMs > pausedUntil) {
        pausedUntil = epochMs;
        stats.tokensDropped += held();
        batches = [];
      }
      // Empty at `epochMs`: the bucket is full again only a whole burst later.
      const emptyTat = epochMs + burstMs;
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: "SET tat = :tat, pausedUntil = :until ADD epoch :one",
            ConditionExpression: "attribute_not_exists(tat) OR tat < :tat",
            ExpressionAttributeValues: { ":tat": num(emptyTat), ":until": num(epochMs), ":one": num(1) },
          }),
        );
        tat = emptyTat;
      } catch (error) {
        // The bucket is already emptier than that (another 429 paused the fleet longer).
        if (!isConditionalCheckFailure(error)) throw error;
        tat = undefined;
      } finally {
        service();
      }
    },

    stats: () => ({ ...stats }),
  };
}
