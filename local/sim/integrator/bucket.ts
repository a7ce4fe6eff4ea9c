import { rateLimited } from "./errors.ts";

export interface RateLimitSettings {
  capacity: number;
  refillPerSecond: number;
}

/**
 * integrator.io's per-account leaky bucket: `capacity` tokens, refilled continuously at
 * `refillPerSecond`; each request takes one. Over it the request is refused with the whole
 * seconds (rounded up) until one token is back.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly settings: RateLimitSettings,
    now: number,
  ) {
    this.tokens = settings.capacity;
    this.updatedAt = now;
  }

  /** Takes one token; answers how many seconds to wait when there is none. */
  take(now: number): { admitted: true } | { admitted: false; retryAfterSeconds: number } {
    const elapsedSeconds = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(
      this.settings.capacity,
      this.tokens + elapsedSeconds * this.settings.refillPerSecond,
    );
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { admitted: true };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - this.tokens) / this.settings.refillPerSecond));
    return { admitted: false, retryAfterSeconds };
  }
}

/** One bucket per account (the vendor account, each user account), all full at first. */
export class AccountBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  private current: RateLimitSettings;

  constructor(settings: RateLimitSettings) {
    this.current = { ...settings };
  }

  get settings(): RateLimitSettings {
    return { ...this.current };
  }

  /** Throws the `rate_limited` error (429, `Retry-After`) when `accountId`'s bucket is empty. */
  take(accountId: string, now = Date.now()): void {
    let bucket = this.buckets.get(accountId);
    if (!bucket) {
      bucket = new TokenBucket(this.current, now);
      this.buckets.set(accountId, bucket);
    }
    const outcome = bucket.take(now);
    if (!outcome.admitted) throw rateLimited(outcome.retryAfterSeconds);
  }

  /** New capacity and refill rate; every bucket starts full again. */
  configure(settings: RateLimitSettings): void {
    this.current = { ...settings };
    this.buckets.clear();
  }

  refillAll(): void {
    this.buckets.clear();
  }
}
