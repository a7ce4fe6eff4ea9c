import type { Logger } from "@aws-lambda-powertools/logger";
import { httpFunction } from "#lib/http/http-function.ts";
import { cacheableJson } from "#lib/marketplace/http-cache.ts";
import { createLogger } from "#lib/observability/logger.ts";
import { type OpenApiDocument, openApiDocument } from "#lib/openapi/document.ts";
import { API_INFO } from "#lib/openapi/info.ts";
import { routes } from "#lib/routes.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";

export interface Deps {
  logger: Logger;
}

export const createDeps = ({ config }: Environment): Deps => ({ logger: createLogger("openapi", config) });

/** GET /openapi.json: generated from the route table on the first request of a cold start, then reused. */
export const makeHandler = (deps: Deps) => {
  let document: OpenApiDocument | undefined;
  return httpFunction(
    {
      "GET /openapi.json": async ({ headers }) => {
        document ??= openApiDocument(routes, API_INFO);
        return cacheableJson(document, headers, "public, max-age=300");
      },
    },
    { logger: deps.logger },
  );
};

export const handler = lambdaHandler(createDeps, makeHandler);
