/** An error meant for the HTTP caller: status, a stable code, a message safe to show, optional details. */
export class HttpError extends Error {
  override name = "HttpError";
  readonly status: number;
  readonly code: string;
  readonly details: unknown[] | undefined;
  readonly headers: Record<string, string>;
  /** Whether the caller sees the message: by default a 4xx's only (a 5xx's might hold internals). */
  readonly expose: boolean;

  constructor(
    status: number,
    code: string,
    message: string,
    options: {
      details?: unknown[];
      headers?: Record<string, string>;
      cause?: unknown;
      expose?: boolean;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.expose = options.expose ?? status < 500;
  }
}

export const badRequest = (message: string, details?: unknown[]) =>
  new HttpError(400, "invalid_request", message, details ? { details } : {});
export const notFound = (message = "Not found.") => new HttpError(404, "not_found", message);
export const conflict = (message: string) => new HttpError(409, "conflict", message);
