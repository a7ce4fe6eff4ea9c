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

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  detach(): void;
}

// Float refills (e.g. 294/s) land a hair under a whole token; treat that as whole.
const EPSILON = 1e-9;

/**
 * An in-process token bucket: starts full, refills continuously, grants waiters in FIFO order.
 * Use it where one process is the only caller (CLI, tests); the Lambda fleet uses
 * `createDistributedTokenBucket`.
 *
 * @example
 * const limiter = createTokenBucket(config.rateLimit); // 980 tokens, 294/s at share 1
 * await limiter.acquire(signal);
 */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { capacity, refillPerSecond } = effectiveRate(options, options.margin ?? DEFAULT_MARGIN);
  const now = options.now ?? Date.now;
  let tokens = capacity;
  let refilledAt = now();
  let pausedUntil = 0;
  const queue: Waiter[] = [];
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
    if (queue.length === 0) return;
    const t = now();
    const waitMs = Math.max(pausedUntil - t, ((1 - tokens) / refillPerSecond) * 1000, 1);
    timer = setTimeout(() => {
      timer = undefined;
      drain();
    }, Math.ceil(waitMs));
  }

  function drain(): void {
    while (queue.length > 0 && take()) {
      const waiter = queue.shift();
      waiter?.detach();
      waiter?.resolve();
    }
    schedule();
  }

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (queue.length === 0 && take()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          schedule();
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          resolve,
          reject,
          detach: () => signal?.removeEventListener("abort", onAbort),
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queue.push(waiter);
        if (queue.length === 1) schedule();
      });
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
