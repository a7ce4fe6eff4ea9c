import { httpFunction } from "#lib/http/http-function.ts";
import { type PageCursors, pageCursorsOf } from "#lib/http/page-cursor.ts";
import { marketplaceRouteHandlers } from "#lib/marketplace/route-handlers.ts";
import { createMarketplaceContext, type MarketplaceContext } from "#lib/marketplace/wiring.ts";
import { createLogger } from "#lib/observability/logger.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";

export type Deps = MarketplaceContext & { corsAllowedOrigins: string[]; cursors: PageCursors };

export const createDeps = async (environment: Environment): Promise<Deps> => ({
  ...(await createMarketplaceContext(
    environment,
    "marketplace",
    createLogger("marketplace", environment.config),
    "interactive",
  )),
  corsAllowedOrigins: environment.config.corsAllowedOrigins,
  cursors: pageCursorsOf(environment.secrets),
});

/**
 * Buyers' routes — connector and template listings (cached, ETag), Stripe Checkout for an
 * edition. Public only: it holds no admin token (the admin's listings sync is in functions/admin.ts).
 */
export const makeHandler = (deps: Deps) =>
  httpFunction(marketplaceRouteHandlers(deps), {
    logger: deps.logger,
    corsAllowedOrigins: deps.corsAllowedOrigins,
  });

export const handler = lambdaHandler(createDeps, makeHandler);
