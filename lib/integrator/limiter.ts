import type { Lane } from "./lanes.ts";

/**
 * The port every integrator.io call goes through before it is sent. Two adapters:
 * `createTokenBucket` (one process) and `createDistributedTokenBucket` (every process sharing a
 * DynamoDB item, i.e. the whole Lambda fleet).
 */
export interface Limiter {
  /**
   * Resolves when one request of `lane` may be sent (one token is spent); higher lanes are served
   * first (lib/integrator/lanes.ts). Rejects with `signal.reason` if the signal aborts first; an
   * aborted wait spends nothing.
   */
  acquire(lane: Lane, signal?: AbortSignal): Promise<void>;
  /**
   * integrator.io answered 429: nobody sharing this limiter sends before `epochMs`
   * (now + `Retry-After`), and the bucket restarts empty from then.
   */
  pauseUntil(epochMs: number): Promise<void>;
}

/** integrator.io's account-wide bucket and the share of it this deployment may use (`config.rateLimit`). */
export interface RateLimitSettings {
  /** Bucket size (integrator.io: 1000). */
  capacity: number;
  /** Tokens per second (integrator.io: 300). */
  refillPerSecond: number;
  /** Fraction of the account's limit this deployment may use (0 < share ≤ 1; default 1). */
  share?: number;
}

/**
 * Default safety margin below the server's bucket: 2% covers timer and network jitter, so the
 * server's own bucket never runs dry before ours does.
 */
export const DEFAULT_MARGIN = 0.98;

/** The bucket a limiter actually enforces: capacity and refill × share × margin (capacity ≥ 1). */
export function effectiveRate(
  settings: RateLimitSettings,
  margin = DEFAULT_MARGIN,
): { capacity: number; refillPerSecond: number } {
  const factor = (settings.share ?? 1) * margin;
  if (!(factor > 0 && factor <= 1)) throw new RangeError("share × margin must be in (0, 1]");
  if (!(settings.capacity > 0 && settings.refillPerSecond > 0)) {
    throw new RangeError("capacity and refillPerSecond must be positive");
  }
  return {
    capacity: Math.max(1, settings.capacity * factor),
    refillPerSecond: settings.refillPerSecond * factor,
  };
}
