import { type BackoffPolicy, fullJitterDelay, parseRetryAfter, sleep } from "./backoff.ts";
import {
  IntegratorError,
  type IntegratorErrorDetail,
  IntegratorNetworkError,
  IntegratorResponseError,
  IntegratorTimeoutError,
  OutcomeUnknownError,
  RateLimitedError,
} from "./errors.ts";
import type { Lane } from "./lanes.ts";
import type { Limiter } from "./limiter.ts";
import { errorBodySchema } from "./schemas.ts";
import type { Transport, TransportResponse } from "./transport.ts";

/** How calls are retried (docs/architecture.md §4). */
export interface RetryPolicy extends BackoffPolicy {
  /**
   * Attempts of an idempotent call that fail with 5xx, a network error or a timeout before the
   * error is thrown (so `maxAttempts - 1` retries). 429s do not count here.
   */
  maxAttempts: number;
  /** 429s one call waits out (each for its `Retry-After`) before it fails with `RateLimitedError`. */
  maxRateLimitedRetries: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  // 200 ms doubling to 5 s: five attempts span ~6 s at worst, well inside a Lambda's budget.
  baseDelayMs: 200,
  maxDelayMs: 5000,
  // 10 × Retry-After (≥ 1 s) before giving up: the worker's SQS retry takes over after that.
  maxRateLimitedRetries: 10,
};

/** Per-attempt timeout default: integrator.io answers in well under a second; 10 s means it is stuck. */
export const DEFAULT_TIMEOUT_MS = 10_000;

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface RetryEvent {
  method: HttpMethod;
  path: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  /** Wait before the next attempt, in ms. */
  delayMs: number;
  reason: "rate_limited" | "server_error" | "network" | "timeout";
  status?: number;
}

export interface RateLimitedEvent {
  method: HttpMethod;
  path: string;
  retryAfterMs: number;
}

/** A request about to go out, and how long it waited for the limiter's token. */
export interface SendEvent {
  method: HttpMethod;
  path: string;
  waitedMs: number;
}

/**
 * Metric hooks (emit `IntegratorCalls` / `LimiterWaitMs` / `IntegratorRetries` /
 * `IntegratorRateLimited`). `onSend` fires before every request sent, retries included; `onRetry`
 * before every retry, 429s included; `onRateLimited` on every 429 received. They must not throw.
 */
export interface IntegratorHooks {
  onSend?(event: SendEvent): void;
  onRetry?(event: RetryEvent): void;
  onRateLimited?(event: RateLimitedEvent): void;
}

export interface HttpContext {
  limiter: Limiter;
  lane: Lane;
  timeoutMs: number;
  retry: RetryPolicy;
  hooks: IntegratorHooks;
  /** How requests go out: `nodeTransport` (./transport.ts) by default, or any `fetch`. */
  fetch: Transport;
  random: () => number;
}

export interface HttpRequest {
  method: HttpMethod;
  /** Absolute URL. */
  url: string;
  token: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  /** Case-insensitive `get(name)`, as `Headers`. */
  headers: TransportResponse["headers"];
  /** Parsed JSON body, or undefined when empty. */
  body: unknown;
}

const IDEMPOTENT: ReadonlySet<HttpMethod> = new Set(["GET", "PUT", "DELETE"]);

/**
 * The system error code of a failed request (`ECONNREFUSED`, `ECONNRESET`, `UND_ERR_SOCKET`...):
 * node:http's errors carry it themselves, undici's fetch wraps it in a TypeError's `cause`.
 */
export function networkCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    // Happy-eyeballs connects fail with an AggregateError of one error per address.
    if (current instanceof AggregateError) {
      const inner = current.errors.map(networkCode).find((c) => c !== undefined);
      if (inner) return inner;
    }
    current = current.cause;
  }
  return undefined;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function errorDetails(body: unknown): IntegratorErrorDetail[] {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) return [];
  return parsed.data.errors.map((e) => ({
    code: e.code,
    message: e.message ?? "",
    ...(e.field === undefined ? {} : { field: e.field }),
  }));
}

function statusMessage(
  method: string,
  path: string,
  status: number,
  errors: IntegratorErrorDetail[],
): string {
  const first = errors[0];
  const detail = first ? ` ${errors.map((e) => e.code).join(", ")}: ${first.message}` : "";
  return `integrator.io ${method} ${path} answered ${status}${detail}`;
}

/**
 * Sends one logical call: waits for the limiter before every attempt, retries as docs/architecture.md §4 says,
 * and returns the 2xx response or throws an `IntegratorError`. A caller abort rejects with the
 * signal's reason.
 */
export async function send(ctx: HttpContext, request: HttpRequest): Promise<HttpResponse> {
  const { method, signal } = request;
  const path = new URL(request.url).pathname;
  const idempotent = IDEMPOTENT.has(method);
  const headers: Record<string, string> = {
    accept: "application/json",
    ...request.headers,
    authorization: `Bearer ${request.token}`,
  };
  const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
  if (payload !== undefined) headers["content-type"] = "application/json";

  let attempt = 0; // requests sent
  let failures = 0; // 5xx, network errors and timeouts so far
  let rateLimited = 0; // 429s so far
  for (;;) {
    attempt += 1;
    const waitFrom = performance.now();
    await ctx.limiter.acquire(ctx.lane, signal);
    ctx.hooks.onSend?.({ method, path, waitedMs: performance.now() - waitFrom });

    // One controller per attempt, aborted by the per-attempt timer or by the caller's signal
    // (cheaper than AbortSignal.any of two signals, same behaviour).
    const attemptAbort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attemptAbort.abort();
    }, ctx.timeoutMs);
    const onCallerAbort = () => attemptAbort.abort(signal?.reason);
    if (signal) {
      if (signal.aborted) onCallerAbort();
      else signal.addEventListener("abort", onCallerAbort, { once: true });
    }
    let status: number;
    let responseHeaders: HttpResponse["headers"];
    let text: string;
    try {
      const response = await ctx.fetch(request.url, {
        method,
        headers,
        body: payload,
        signal: attemptAbort.signal,
      });
      status = response.status;
      responseHeaders = response.headers;
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const code = networkCode(error);
      const failure = timedOut
        ? new IntegratorTimeoutError(`integrator.io ${method} ${path} timed out after ${ctx.timeoutMs} ms`, {
            method,
            path,
            timeoutMs: ctx.timeoutMs,
            cause: error,
          })
        : new IntegratorNetworkError(`integrator.io ${method} ${path} failed: ${code ?? "network error"}`, {
            method,
            path,
            networkCode: code,
            cause: error,
          });
      // A refused connection never reached integrator.io: safe to retry even a POST.
      if (!idempotent && code !== "ECONNREFUSED") {
        throw new OutcomeUnknownError(
          `integrator.io ${method} ${path}: outcome unknown (${timedOut ? "timeout" : (code ?? "network error")})`,
          { method, path, cause: failure },
        );
      }
      failures += 1;
      if (failures >= ctx.retry.maxAttempts) throw failure;
      const delayMs = fullJitterDelay(failures, ctx.retry, ctx.random);
      ctx.hooks.onRetry?.({ method, path, attempt, delayMs, reason: timedOut ? "timeout" : "network" });
      await sleep(delayMs, signal);
      continue;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onCallerAbort);
    }

    const parsed = parseJson(text);
    if (status >= 200 && status < 300) {
      if (!parsed.ok) {
        throw new IntegratorResponseError(
          `integrator.io ${method} ${path} answered ${status} with a body that is not JSON`,
          {
            method,
            path,
            status,
          },
        );
      }
      return { status, headers: responseHeaders, body: parsed.value };
    }

    const errors = parsed.ok ? errorDetails(parsed.value) : [];
    const init = { method, path, status, errors };
    if (status === 429) {
      rateLimited += 1;
      const retryAfterMs = parseRetryAfter(responseHeaders.get("retry-after"), Date.now());
      const retryAt = Date.now() + retryAfterMs;
      // Everyone sharing the limiter holds off until then, this call included.
      const pausing = ctx.limiter.pauseUntil(retryAt);
      ctx.hooks.onRateLimited?.({ method, path, retryAfterMs });
      await pausing;
      if (rateLimited > ctx.retry.maxRateLimitedRetries) {
        throw new RateLimitedError(statusMessage(method, path, status, errors), { ...init, retryAfterMs });
      }
      ctx.hooks.onRetry?.({ method, path, attempt, delayMs: retryAfterMs, reason: "rate_limited", status });
      await sleep(retryAt - Date.now(), signal);
      continue;
    }
    if (status >= 500) {
      const failure = new IntegratorError(statusMessage(method, path, status, errors), init);
      if (!idempotent) {
        throw new OutcomeUnknownError(
          `integrator.io ${method} ${path}: outcome unknown (answered ${status})`,
          {
            ...init,
            cause: failure,
          },
        );
      }
      failures += 1;
      if (failures >= ctx.retry.maxAttempts) throw failure;
      const delayMs = fullJitterDelay(failures, ctx.retry, ctx.random);
      ctx.hooks.onRetry?.({ method, path, attempt, delayMs, reason: "server_error", status });
      await sleep(delayMs, signal);
      continue;
    }
    throw new IntegratorError(statusMessage(method, path, status, errors), init);
  }
}
