/**
 * Errors of the integrator.io client. Every one carries the request's `method` and `path`
 * (the URL path only: never the host, the query string or a token), so it can be logged as is.
 */

/** One entry of integrator.io's error body `{"errors":[{code, message, field?}]}`. */
export interface IntegratorErrorDetail {
  code: string;
  message: string;
  field?: string;
}

export interface IntegratorErrorInit {
  method: string;
  path: string;
  status?: number;
  errors?: IntegratorErrorDetail[];
  cause?: unknown;
}

/** integrator.io answered with an error status (4xx, or 5xx once retries are spent), or the call failed. */
export class IntegratorError extends Error {
  override name = "IntegratorError";
  /** HTTP status, when integrator.io answered at all. */
  readonly status: number | undefined;
  /** integrator.io's stable error codes (`invalid_user`, `rate_limited`...), in the order given. */
  readonly codes: string[];
  readonly errors: IntegratorErrorDetail[];
  readonly method: string;
  /** URL path without host or query, e.g. `/v1/connectors/abc/licenses`. */
  readonly path: string;

  constructor(message: string, init: IntegratorErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.errors = init.errors ?? [];
    this.codes = this.errors.map((e) => e.code);
    this.method = init.method;
    this.path = init.path;
  }

  /** True when integrator.io reported `code` (e.g. `err.hasCode("invalid_user")`). */
  hasCode(code: string): boolean {
    return this.codes.includes(code);
  }
}

/** 429 from integrator.io after the client's rate-limit retries were spent. */
export class RateLimitedError extends IntegratorError {
  override name = "RateLimitedError";
  /** What the last `Retry-After` asked for, in milliseconds. */
  readonly retryAfterMs: number;
  constructor(message: string, init: IntegratorErrorInit & { retryAfterMs: number }) {
    super(message, init);
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** No answer within the per-attempt timeout (after the retries an idempotent call is allowed). */
export class IntegratorTimeoutError extends IntegratorError {
  override name = "IntegratorTimeoutError";
  readonly timeoutMs: number;
  constructor(message: string, init: IntegratorErrorInit & { timeoutMs: number }) {
    super(message, init);
    this.timeoutMs = init.timeoutMs;
  }
}

/** The connection failed (reset, refused, DNS...) and retries were spent or not allowed. */
export class IntegratorNetworkError extends IntegratorError {
  override name = "IntegratorNetworkError";
  /** The system error code (`ECONNRESET`, `ECONNREFUSED`, `UND_ERR_SOCKET`...) when known. */
  readonly networkCode: string | undefined;
  constructor(message: string, init: IntegratorErrorInit & { networkCode?: string | undefined }) {
    super(message, init);
    this.networkCode = init.networkCode;
  }
}

/**
 * A non-idempotent call (POST) may or may not have taken effect: the request may have reached
 * integrator.io but no usable answer came back (timeout, reset connection, 5xx). The client never
 * retries it; the caller must find out (e.g. list the connector's licenses for that email) before
 * trying again. `cause` holds the underlying error; `status` is set when a 5xx was received.
 */
export class OutcomeUnknownError extends IntegratorError {
  override name = "OutcomeUnknownError";
}

/** integrator.io answered 2xx but the body did not match the resource's schema. */
export class IntegratorResponseError extends IntegratorError {
  override name = "IntegratorResponseError";
}
