/** Retry timing: capped exponential backoff with full jitter, `Retry-After`, abortable sleep. */

export interface BackoffPolicy {
  /** Delay ceiling of the first retry, in ms. */
  baseDelayMs: number;
  /** Upper bound of any single delay, in ms. */
  maxDelayMs: number;
}

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): a uniform delay in
 * `[0, min(maxDelayMs, baseDelayMs × 2^(retry-1)))` for the `retry`-th retry (1-based).
 */
export function fullJitterDelay(
  retry: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` as milliseconds from `nowMs`: integer seconds (what integrator.io sends) or an
 * HTTP date. Missing or unreadable → `fallbackMs`. Never negative.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number, fallbackMs = 1000): number {
  if (header === null || header === undefined || header.trim() === "") return fallbackMs;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.max(0, Math.ceil(Number(value) * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? fallbackMs : Math.max(0, date - nowMs);
}

/** Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
