import type { Logger } from "@aws-lambda-powertools/logger";
import { httpFunction } from "#lib/http/http-function.ts";
import { pageAssetsOnce } from "#lib/http/static-page.ts";
import { cacheableJson } from "#lib/marketplace/http-cache.ts";
import { createLogger } from "#lib/observability/logger.ts";
import { type DocsAsset, type DocsFile, docsRoutes } from "#lib/openapi/docs-assets.ts";
import { type OpenApiDocument, openApiDocument } from "#lib/openapi/document.ts";
import { API_INFO } from "#lib/openapi/info.ts";
import { routes } from "#lib/routes.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";

export interface Deps {
  logger: Logger;
  /** The reference page's files (GET /docs); none, or none built: 503. */
  docsAssets?: () => Promise<Map<DocsFile, DocsAsset> | undefined>;
}

export const createDeps = ({ config }: Environment): Deps => {
  return {
    logger: createLogger("openapi", config),
    // Read on the first request for one, then kept: they change only with a deploy.
    docsAssets: pageAssetsOnce(config.docsAssetsDir),
  };
};

/**
 * GET /openapi.json: generated from the route table on the first request of a cold start, then
 * reused; GET /docs: the page that renders it (lib/openapi/docs-assets.ts).
 */
export const makeHandler = (deps: Deps) => {
  let document: OpenApiDocument | undefined;
  return httpFunction(
    {
      "GET /openapi.json": async ({ headers }) => {
        document ??= openApiDocument(routes, API_INFO);
        return cacheableJson(document, headers, "public, max-age=300");
      },
      ...docsRoutes(deps.docsAssets ?? (async () => undefined)),
    },
    { logger: deps.logger },
  );
};

export const handler = lambdaHandler(createDeps, makeHandler);
