import { LaneQueues } from "./lanes.ts";
import { DEFAULT_MARGIN, effectiveRate, type Limiter, type RateLimitSettings } from "./limiter.ts";

export interface TokenBucketOptions extends RateLimitSettings {
  /** Fraction of the server's bucket to enforce (default 0.98; 1 = exactly the server's). */
  margin?: number;
  /** Clock in epoch ms (default `Date.now`; tests use fake timers). */
  now?: () => number;
}

export interface TokenBucket extends Limiter {
  /** Tokens available right now (after refill), for tests and metrics. */
  available(): number;
}

// Float refills (e.g. 294/s) land a hair under a whole token; treat that as whole.
const EPSILON = 1e-9;

/**
 * An in-process token bucket: starts full, refills continuously, grants waiters highest lane
 * first and in FIFO order within a lane. Use it where one process is the only caller (CLI, tests);
 * the Lambda fleet uses `createDistributedTokenBucket`, which also caps the bulk lane's share.
 *
 * @example
 * const limiter = createTokenBucket(config.rateLimit); // 980 tokens, 294/s at share 1
 * await limiter.acquire("interactive", signal);
 */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { capacity, refillPerSecond } = effectiveRate(options, options.margin ?? DEFAULT_MARGIN);
  const now = options.now ?? Date.now;
  let tokens = capacity;
  let refilledAt = now();
  let pausedUntil = 0;
  const queue = new LaneQueues(() => schedule());
  let timer: ReturnType<typeof setTimeout> | undefined;

  function refill(): void {
    const t = now();
    if (t > refilledAt) {
      tokens = Math.min(capacity, tokens + ((t - refilledAt) / 1000) * refillPerSecond);
      refilledAt = t;
    }
  }

  function take(): boolean {
    refill();
    if (now() < pausedUntil || tokens < 1 - EPSILON) return false;
    tokens = Math.max(0, tokens - 1);
    return true;
  }

  function schedule(): void {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (queue.size === 0) return;
    const t = now();
    const waitMs = Math.max(pausedUntil - t, ((1 - tokens) / refillPerSecond) * 1000, 1);
    timer = setTimeout(() => {
      timer = undefined;
      drain();
    }, Math.ceil(waitMs));
  }

  function drain(): void {
    while (queue.size > 0 && take()) queue.grantNext();
    schedule();
  }

  return {
    acquire(lane, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (queue.size === 0 && take()) return Promise.resolve();
      const waiting = queue.wait(lane, signal);
      if (queue.size === 1) schedule();
      return waiting;
    },
    async pauseUntil(epochMs) {
      if (epochMs <= pausedUntil) return;
      refill();
      pausedUntil = epochMs;
      // The server's bucket is empty now; ours restarts empty when the pause ends.
      tokens = 0;
      refilledAt = Math.max(refilledAt, epochMs);
      schedule();
    },
    available() {
      refill();
      return now() < pausedUntil ? 0 : tokens;
    },
  };
}
