import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { corsHeaders } from "#lib/http/cors.ts";
import { lowerCaseHeaders } from "#lib/http/http-function.ts";
import { jsonResult } from "#lib/http/respond.ts";
import type { HttpEvent, HttpResult } from "#lib/http/types.ts";
import { createLogger } from "#lib/observability/logger.ts";
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

/** The `$default` route: CORS preflights of CORS routes, 405 for a known path, else 404, in JSON. */
export const makeHandler =
  (deps: Deps) =>
  async (event: HttpEvent, _context?: Context): Promise<HttpResult> => {
    const method = event.requestContext.http.method;
    const path = event.rawPath;
    const headers = lowerCaseHeaders(event.headers);
    if (method === "OPTIONS") {
      const match = matchRoute(headers["access-control-request-method"] ?? "GET", path);
      if (match.kind === "found" && match.route.cors) {
        return { statusCode: 204, headers: corsHeaders(headers.origin, deps.corsAllowedOrigins), body: "" };
      }
    }
    const match = matchRoute(method, path);
    if (match.kind === "method_not_allowed") {
      return jsonResult(
        405,
        {
          error: {
            code: "method_not_allowed",
            message: `${method} is not allowed on ${path}; allowed: ${match.allowed.join(", ")}.`,
          },
        },
        { allow: match.allowed.join(", ") },
      );
    }
    deps.logger.debug("no route", { method, path });
    return jsonResult(404, { error: { code: "not_found", message: `No route for ${method} ${path}.` } });
  };

export const handler = lambdaHandler(createDeps, makeHandler);
