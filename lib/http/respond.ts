import { HttpError } from "./errors.ts";
import type { ErrorFormat, HttpResult, RouteOutput } from "./types.ts";

const jsonHeaders = { "content-type": "application/json; charset=utf-8" };

export function jsonResult(status: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode: status,
    headers: { ...jsonHeaders, ...headers },
    body: body === undefined ? "" : JSON.stringify(body),
  };
}

/** A route handler's answer as API Gateway takes it: JSON, or text of its own content type. */
export function routeResult(output: RouteOutput, extraHeaders: Record<string, string> = {}): HttpResult {
  const status = output.status ?? 200;
  const result =
    output.contentType === undefined
      ? jsonResult(status, output.body, { ...extraHeaders, ...output.headers })
      : {
          statusCode: status,
          headers: { "content-type": output.contentType, ...extraHeaders, ...output.headers },
          body: typeof output.body === "string" ? output.body : "",
        };
  return output.cookies?.length ? { ...result, cookies: output.cookies } : result;
}

/**
 * The answer to a HEAD: the GET's status and headers, its `Content-Length` included, without the
 * body (RFC 9110 §9.3.2).
 */
export function withoutBody(result: HttpResult): HttpResult {
  const body = result.body ?? "";
  const length = Buffer.byteLength(body, result.isBase64Encoded ? "base64" : "utf8");
  return { ...result, headers: { ...result.headers, "content-length": String(length) }, body: "" };
}

/**
 * The one place an error becomes an HTTP response, in the route's error format. Only
 * `HttpError`s show their message (a 5xx's only when it says so: `expose`); anything else is a
 * 500 without internals.
 */
export function errorResult(error: unknown, format: ErrorFormat): HttpResult {
  const known = error instanceof HttpError ? error : undefined;
  const status = known?.status ?? 500;
  const code = known?.code ?? "internal_error";
  const message = known?.expose ? known.message : "Internal error.";
  const details = known && status < 500 ? known.details : undefined;
  const body =
    format === "integrator"
      ? { errors: [{ code, message }] }
      : { error: { code, message, ...(details ? { details } : {}) } };
  return jsonResult(status, body, known?.headers);
}
