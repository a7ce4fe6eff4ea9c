import type { Logger } from "@aws-lambda-powertools/logger";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import type { AdminAccess } from "../access/access.ts";
import { actingAs } from "../access/actor.ts";
import type { Principal } from "../access/roles.ts";
import { addLambdaContext } from "../observability/logger.ts";
import {
  answeringKey,
  type RouteDefinition,
  requiredRole,
  routeByKey,
  routeKey,
  takesBody,
} from "../routes.ts";
import { type SyncSecretValue, syncSecretValue } from "../secrets.ts";
import { assertSystemToken } from "./auth.ts";
import { assertBodyLimit, parseJsonBody, rawBodyOf, validate } from "./body.ts";
import { corsHeaders } from "./cors.ts";
import { HttpError } from "./errors.ts";
import { errorResult, routeResult, withoutBody } from "./respond.ts";
import type { HttpEvent, HttpResult, RouteInput, RouteOutput } from "./types.ts";

// biome-ignore lint/suspicious/noExplicitAny: each route handler declares the input its route's schemas validated
export type RouteHandler = (input: RouteInput<any, any, any>) => Promise<RouteOutput>;

export interface HttpFunctionOptions {
  logger: Logger;
  /** Who may call the `admin` routes: root, operators, console sessions (lib/access/access.ts). */
  admin?: Pick<AdminAccess, "authorize">;
  /** The token of the `system` auth kind, or how to read its current value. */
  tokens?: { system?: SyncSecretValue };
  corsAllowedOrigins?: string[];
  /** Route lookup by `routeKey` (`GET /x` for a HEAD); the project's table unless a test brings its own routes. */
  findRoute?: (routeKey: string) => RouteDefinition | undefined;
}

/** Path parameters that say what a request is about, and the log key each goes under. */
const CORRELATION_KEYS: Record<string, string> = {
  customerId: "customerId",
  eventId: "eventId",
  runId: "reconcileRunId",
  integrationId: "integrationId",
};

/** The correlation keys of a request's (validated) path parameters, for every log line it writes. */
export function correlationKeys(params: Record<string, string>): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const [param, key] of Object.entries(CORRELATION_KEYS)) {
    const value = params[param];
    if (typeof value === "string") keys[key] = value;
  }
  return keys;
}

/**
 * Builds the Lambda handler of an HTTP function from its route handlers (keyed by API Gateway
 * `routeKey`, e.g. `GET /health`). The shared middy stack, in order: Lambda's context into the
 * logger → find the route → body limit
 * (413) → auth (401/403) → JSON parsing where the route takes a body (400, 415; other routes ignore
 * one) → schema validation (400 with details) → the route handler → JSON response; any error is
 * mapped once, in the route's error format. `HEAD /x` runs `GET /x` and answers without the body.
 */
export function httpFunction(
  handlers: Record<string, RouteHandler>,
  options: HttpFunctionOptions,
): (event: HttpEvent, context: Context) => Promise<HttpResult> {
  const { logger } = options;
  const findRoute = (key: string) => (options.findRoute ?? routeByKey)(answeringKey(key));
  const correlated = [...Object.values(CORRELATION_KEYS), "actor"];
  const stack = middy<HttpEvent, HttpResult, Error, Context>()
    .before(async (request) => {
      // Lambda's context (request id, function name, cold start) in every line. Not Powertools'
      // injectLambdaContext middleware: it also resets the log level each invocation and may log
      // the event (tokens, signatures) when POWERTOOLS_LOGGER_LOG_EVENT is set.
      addLambdaContext(logger, request.context);
      logger.removeKeys(correlated);
      logger.appendKeys({ requestId: request.event.requestContext?.requestId });
    })
    .handler(async (event, context) => {
      const route = findRoute(event.routeKey);
      const handle = route && handlers[routeKey(route)];
      if (!route || !handle) throw new HttpError(404, "not_found", `No route for ${event.routeKey}.`);
      (context as Context & { route?: RouteDefinition }).route = route;
      const headers = lowerCaseHeaders(event.headers);
      const raw = rawBodyOf(event);
      assertBodyLimit(raw, route.bodyLimit);
      let principal: Principal | undefined;
      if (route.auth === "admin") {
        if (!options.admin) throw new HttpError(403, "forbidden", "Invalid admin token.");
        principal = await options.admin.authorize(event, headers, requiredRole(route));
        logger.appendKeys({ actor: principal.actor });
      }
      if (route.auth === "system") assertSystemToken(headers, syncSecretValue(options.tokens?.system));
      const body =
        takesBody(route) && !route.rawBody ? parseJsonBody(raw, headers["content-type"]) : undefined;
      const input: RouteInput = {
        body: validate(route.request.body, body, "body"),
        query: validate(route.request.query, event.queryStringParameters ?? {}, "query") as Record<
          string,
          string
        >,
        params: validate(route.request.params, event.pathParameters ?? {}, "path") as Record<string, string>,
        headers,
        rawBody: raw.toString("utf8"),
        requestId: event.requestContext?.requestId ?? context.awsRequestId,
        event,
        ...(principal ? { principal } : {}),
      };
      logger.appendKeys(correlationKeys(input.params));
      const output = principal ? await actingAs(principal.actor, () => handle(input)) : await handle(input);
      const cors = route.cors ? corsHeaders(headers.origin, options.corsAllowedOrigins ?? []) : {};
      return routeResult(output, cors);
    })
    .after(async () => {
      logger.removeKeys(correlated);
    })
    .onError(async (request) => {
      const route =
        (request.context as Context & { route?: RouteDefinition }).route ?? findRoute(request.event.routeKey);
      const error = asHttpError(request.error);
      if (!(error instanceof HttpError) || error.status >= 500) {
        logger.error("request failed", { routeKey: request.event.routeKey, error: describeError(error) });
      } else {
        logger.info("request refused", {
          routeKey: request.event.routeKey,
          status: error.status,
          code: error.code,
        });
      }
      const result = errorResult(error, route?.errorFormat ?? "api");
      if (route?.cors) {
        Object.assign(
          result.headers ?? {},
          corsHeaders(lowerCaseHeaders(request.event.headers).origin, options.corsAllowedOrigins ?? []),
        );
      }
      request.response = result;
      logger.removeKeys(correlated);
    });
  return async (event, context) => {
    const result = await stack(event, context);
    return event.routeKey.startsWith("HEAD ") ? withoutBody(result) : result;
  };
}

/**
 * A store's refusal of a cursor position (a signed cursor from before an index changed: the
 * signature holds, the position no longer reads) is the caller's 400 like any bad cursor.
 */
function asHttpError(error: Error | null): Error | null {
  // The Stripe SDK wraps a failed key read (lib/stripe/client.ts `keyReadingAuth`) as a connection
  // error: a key not configured yet (lib/secrets.ts NotConfiguredError, an HttpError) answers as itself.
  const wrapped = error as { raw?: { exception?: unknown }; detail?: unknown } | null;
  const inner = wrapped?.detail ?? wrapped?.raw?.exception;
  if (inner instanceof HttpError) return inner;
  if (error?.name !== "InvalidCursorError") return error;
  return new HttpError(400, "invalid_cursor", "cursor is not one this list can read any more", {
    details: [{ path: "query.cursor", message: "start again without a cursor" }],
    cause: error,
  });
}

export function lowerCaseHeaders(
  headers: Record<string, string | undefined> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined) out[name.toLowerCase()] = value;
  return out;
}

/** Error name and message only: never the request, its headers or a token. */
export function describeError(error: unknown): { name: string; message: string } {
  if (!(error instanceof Error)) return { name: "Unknown", message: String(error) };
  // A schema error's message is its issues as pretty-printed JSON: one line per issue instead.
  const issues = (error as { issues?: unknown }).issues;
  if (Array.isArray(issues) && issues.length > 0) {
    const message = issues
      .map((issue: { path?: PropertyKey[]; message?: string }) => {
        const path = (issue.path ?? []).map(String).join(".");
        return `${path || "(root)"}: ${issue.message ?? "invalid"}`;
      })
      .join("; ");
    return { name: error.name, message };
  }
  return { name: error.name, message: error.message };
}
