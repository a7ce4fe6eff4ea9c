import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { corsHeaders } from "#lib/http/cors.ts";
import { lowerCaseHeaders } from "#lib/http/http-function.ts";
import { jsonResult, withoutBody } from "#lib/http/respond.ts";
import type { HttpEvent, HttpResult } from "#lib/http/types.ts";
import { addLambdaContext, createLogger } from "#lib/observability/logger.ts";
import { matchRoute } from "#lib/routes.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";

export interface Deps {
  logger: Logger;
  corsAllowedOrigins: string[];
}

export const createDeps = ({ config }: Environment): Deps => ({
  logger: createLogger("fallback", config),
  corsAllowedOrigins: config.corsAllowedOrigins,
});

/**
 * The `$default` route: OPTIONS (CORS preflights) on a path with a CORS route, 405 with `Allow` for
 * a known path and another method, else 404, in JSON; a HEAD gets the same answer without the body.
 */
export const makeHandler =
  (deps: Deps) =>
  async (event: HttpEvent, context?: Context): Promise<HttpResult> => {
    addLambdaContext(deps.logger, context);
    const method = event.requestContext.http.method;
    const result = answer(deps, method, event.rawPath, lowerCaseHeaders(event.headers));
    return method === "HEAD" ? withoutBody(result) : result;
  };

function answer(deps: Deps, method: string, path: string, headers: Record<string, string>): HttpResult {
  const match = matchRoute(method, path);
  // "found" only when API Gateway's matching and the table's disagree: no route for it here either.
  if (match.kind !== "method_not_allowed") {
    deps.logger.debug("no route", { method, path });
    return jsonResult(404, { error: { code: "not_found", message: `No route for ${method} ${path}.` } });
  }
  const allow = match.allowed.join(", ");
  if (method === "OPTIONS" && match.allowed.includes("OPTIONS")) {
    const preflight = matchRoute(headers["access-control-request-method"] ?? "GET", path);
    const cors =
      preflight.kind === "found" && preflight.route.cors
        ? corsHeaders(headers.origin, deps.corsAllowedOrigins)
        : {};
    return { statusCode: 204, headers: { allow, ...cors }, body: "" };
  }
  return jsonResult(
    405,
    {
      error: {
        code: "method_not_allowed",
        message: `${method} is not allowed on ${path}; allowed: ${allow}.`,
      },
    },
    { allow },
  );
}

export const handler = lambdaHandler(createDeps, makeHandler);
