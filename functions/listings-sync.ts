import type { Context } from "aws-lambda";
import type { ListingsSyncResult } from "#lib/marketplace/schemas.ts";
import { createMarketplaceContext, type MarketplaceContext } from "#lib/marketplace/wiring.ts";
import { addLambdaContext, createLogger } from "#lib/observability/logger.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";

export type Deps = Pick<MarketplaceContext, "listings" | "logger">;

export const createDeps = async (environment: Environment): Promise<Deps> =>
  createMarketplaceContext(environment, "listings-sync", createLogger("listings-sync", environment.config));

/**
 * Scheduled (EventBridge): refreshes the stored marketplace listings from integrator.io and Stripe.
 * A failure throws, so the run shows as failed; the listings served stay as they were.
 */
export const makeHandler =
  (deps: Deps) =>
  async (_event: unknown, context?: Context): Promise<ListingsSyncResult> => {
    addLambdaContext(deps.logger, context);
    return deps.listings.sync();
  };

export const handler = lambdaHandler(createDeps, makeHandler);
