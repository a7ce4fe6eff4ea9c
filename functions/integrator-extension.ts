import { AsyncLocalStorage } from "node:async_hooks";
import type { Context } from "aws-lambda";
import { type DispatchOptions, deadlineFrom } from "#lib/extension/dispatch.ts";
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
  // Each invocation's deadline, for the route it reaches (the local gateway runs several at once).
  const invocation = new AsyncLocalStorage<DispatchOptions>();
  const http = httpFunction(
    extensionRoutes(deps, () => invocation.getStore() ?? {}),
    {
      logger: deps.logger,
      tokens: { system: deps.systemToken },
    },
  );
  return async (event: HttpEvent | unknown, context: Context): Promise<HttpResult | unknown> => {
    // The call's own work ends a second before the function's timeout (itself under API Gateway's
    // 29 s): a slow integrator.io call answers a `timeout` error, not a 503 or a Lambda timeout.
    const options: DispatchOptions =
      typeof context?.getRemainingTimeInMillis === "function"
        ? { deadline: deadlineFrom(context.getRemainingTimeInMillis()) }
        : {};
    try {
      if (isHttpApiEvent(event)) return await invocation.run(options, () => http(event, context));
      // httpFunction adds Lambda's context to the logger itself; a direct invocation adds it here.
      addLambdaContext(deps.logger, context);
      return await invokeFromLambda(event, context, deps, options);
    } finally {
      // Only the shared client counts here (retries, 429s): most calls have nothing to publish.
      if (deps.metrics.metrics.hasStoredMetrics()) deps.metrics.flush();
    }
  };
};

export const handler = lambdaHandler(createDeps, makeHandler);
