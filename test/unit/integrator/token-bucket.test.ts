import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { effectiveRate, type Limiter } from "#lib/integrator/limiter.ts";
import { createTokenBucket } from "#lib/integrator/token-bucket.ts";
import { worstWindowExcess } from "../../../bench/lib/stats.ts";
import { seededRandom } from "./seeded-random.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Starts `n` acquisitions and records when each resolves. */
function acquireMany(limiter: Pick<Limiter, "acquire">, n: number) {
  const grantedAt: number[] = [];
  const done = Array.from({ length: n }, (_, i) =>
    limiter.acquire("background").then(() => {
      grantedAt[i] = Date.now();
    }),
  );
  return { grantedAt, done: Promise.all(done) };
}

describe("effectiveRate", () => {
  it("keeps a 2% margin and applies the share to capacity and refill", () => {
    expect(effectiveRate({ capacity: 1000, refillPerSecond: 300 })).toEqual({
      capacity: 980,
      refillPerSecond: 294,
    });
    const half = effectiveRate({ capacity: 1000, refillPerSecond: 300, share: 0.5 });
    expect(half.capacity).toBeCloseTo(490);
    expect(half.refillPerSecond).toBeCloseTo(147);
    expect(() => effectiveRate({ capacity: 1000, refillPerSecond: 300, share: 0 })).toThrow(RangeError);
  });
});

describe("createTokenBucket", () => {
  it("starts full at capacity × margin and then admits at refill × margin", async () => {
    const bucket = createTokenBucket({ capacity: 100, refillPerSecond: 50 }); // 98 tokens, 49/s
    const { grantedAt, done } = acquireMany(bucket, 98 + 49);
    await vi.advanceTimersByTimeAsync(0);
    const start = Date.now();
    expect(grantedAt.filter((t) => t !== undefined)).toHaveLength(98);
    await vi.advanceTimersByTimeAsync(999);
    expect(grantedAt.filter((t) => t !== undefined).length).toBe(98 + 48);
    await vi.advanceTimersByTimeAsync(30);
    await done;
    expect(grantedAt.at(-1)).toBeGreaterThanOrEqual(start + 1000);
  });

  it("grants in arrival order", async () => {
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 10, margin: 1 });
    const order: number[] = [];
    const all = [0, 1, 2, 3].map((i) => bucket.acquire("background").then(() => order.push(i)));
    await vi.advanceTimersByTimeAsync(400);
    await Promise.all(all);
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it("serves the interactive lane first, then background, then bulk; FIFO within a lane", async () => {
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 10, margin: 1 });
    await bucket.acquire("background"); // empties it: everyone below waits
    const order: string[] = [];
    const calls = (
      [
        ["bulk", "bulk-1"],
        ["background", "background-1"],
        ["bulk", "bulk-2"],
        ["interactive", "interactive-1"],
        ["background", "background-2"],
        ["interactive", "interactive-2"],
      ] as const
    ).map(([lane, name]) => bucket.acquire(lane).then(() => order.push(name)));
    await vi.advanceTimersByTimeAsync(700);
    await Promise.all(calls);
    expect(order).toEqual([
      "interactive-1",
      "interactive-2",
      "background-1",
      "background-2",
      "bulk-1",
      "bulk-2",
    ]);
  });

  it("an aborted wait rejects with the signal's reason and spends nothing", async () => {
    const bucket = createTokenBucket({ capacity: 1, refillPerSecond: 1, margin: 1 });
    await bucket.acquire("background");
    const controller = new AbortController();
    const waiting = bucket.acquire("background", controller.signal);
    const next = bucket.acquire("background");
    let nextDone = false;
    void next.then(() => {
      nextDone = true;
    });
    controller.abort(new Error("caller gave up"));
    await expect(waiting).rejects.toThrow("caller gave up");
    await vi.advanceTimersByTimeAsync(1000);
    expect(nextDone).toBe(true); // the aborted waiter's token went to the next one
    await expect(bucket.acquire("background", AbortSignal.abort(new Error("already")))).rejects.toThrow(
      "already",
    );
  });

  it("pauseUntil holds every caller until then and restarts from an empty bucket", async () => {
    const bucket = createTokenBucket({ capacity: 10, refillPerSecond: 10, margin: 1 });
    const pausedUntil = Date.now() + 2000;
    await bucket.pauseUntil(pausedUntil);
    expect(bucket.available()).toBe(0);
    const { grantedAt, done } = acquireMany(bucket, 3);
    await vi.advanceTimersByTimeAsync(1999);
    expect(grantedAt.filter((t) => t !== undefined)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(400);
    await done;
    // Empty at the end of the pause: one token per 100 ms after it.
    expect(grantedAt[0]).toBeGreaterThanOrEqual(pausedUntil + 100);
    expect(grantedAt[2]).toBeGreaterThanOrEqual(pausedUntil + 300);
    // A shorter pause does not shorten the longer one.
    await bucket.pauseUntil(Date.now() + 5000);
    await bucket.pauseUntil(Date.now() + 1000);
    const late = acquireMany(bucket, 1);
    await vi.advanceTimersByTimeAsync(4000);
    expect(late.grantedAt[0]).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1200);
    await late.done;
  });

  it("never admits more than capacity + refill × window, for random arrival patterns", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const capacity = 5 + Math.floor(random() * 20);
      const refillPerSecond = 5 + Math.floor(random() * 50);
      const bucket = createTokenBucket({ capacity, refillPerSecond });
      const effective = effectiveRate({ capacity, refillPerSecond });
      const grants: number[] = [];
      const pending: Promise<void>[] = [];
      for (let step = 0; step < 200; step++) {
        const burst = Math.floor(random() * 6);
        for (let i = 0; i < burst; i++)
          pending.push(bucket.acquire("background").then(() => void grants.push(Date.now())));
        await vi.advanceTimersByTimeAsync(Math.floor(random() * 40));
      }
      await vi.advanceTimersByTimeAsync(120_000);
      await Promise.all(pending);
      expect(grants.length).toBe(pending.length);
      expect(worstWindowExcess(grants, effective.capacity, effective.refillPerSecond)).toBeLessThanOrEqual(
        1e-6,
      );
    }
  });
});
