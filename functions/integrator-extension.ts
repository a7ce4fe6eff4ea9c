import type { Context } from "aws-lambda";
import { extensionRoutes } from "#lib/extension/http-routes.ts";
import { invokeFromLambda, isHttpApiEvent } from "#lib/extension/lambda-invoke.ts";
import { createExtensionDeps, type ExtensionDeps } from "#lib/extension/wiring.ts";
import { httpFunction } from "#lib/http/http-function.ts";
import type { HttpEvent, HttpResult } from "#lib/http/types.ts";
import { addLambdaContext } from "#lib/observability/logger.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";

export type Deps = ExtensionDeps;

export const createDeps = (environment: Environment): Promise<Deps> => createExtensionDeps(environment);

/**
 * The vendor's integrator.io stack, both kinds (docs/architecture.md §3):
 * - HTTP server stack: `POST /integrator/function` (system token) and `GET /integrator/healthCheck`
 *   through API Gateway;
 * - Lambda stack: integrator.io invokes this function directly with the options as payload and
 *   `{_connectorId, type, function}` in the ClientContext; a refusal is thrown as
 *   `{"statusCode":422,"errors":[...]}`.
 */
export const makeHandler = (deps: Deps) => {
  const http = httpFunction(extensionRoutes(deps), {
    logger: deps.logger,
    tokens: { system: deps.systemToken },
  });
  return async (event: HttpEvent | unknown, context: Context): Promise<HttpResult | unknown> => {
    try {
      if (isHttpApiEvent(event)) return await http(event, context);
      // httpFunction adds Lambda's context to the logger itself; a direct invocation adds it here.
      addLambdaContext(deps.logger, context);
      return await invokeFromLambda(event, context, deps);
    } finally {
      // Only the shared client counts here (retries, 429s): most calls have nothing to publish.
      if (deps.metrics.metrics.hasStoredMetrics()) deps.metrics.flush();
    }
  };
};

export const handler = lambdaHandler(createDeps, makeHandler);
