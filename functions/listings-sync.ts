import type { Context } from "aws-lambda";
import type { ListingsSyncResult } from "#lib/marketplace/schemas.ts";
import { createMarketplaceContext, type MarketplaceContext } from "#lib/marketplace/wiring.ts";
import { addLambdaContext, createLogger } from "#lib/observability/logger.ts";
import { ProductMetrics } from "#lib/observability/metrics.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";
import { configuredFor, type SecretSource } from "#lib/secrets.ts";

/** `secrets`: which of the sync's secrets are not configured yet (absent: all are, as in tests). */
export type Deps = Pick<MarketplaceContext, "listings" | "logger"> & {
  secrets?: Pick<SecretSource, "notConfigured">;
  metrics?: ProductMetrics;
};

export const createDeps = async (environment: Environment): Promise<Deps> => ({
  ...(await createMarketplaceContext(
    environment,
    "listings-sync",
    createLogger("listings-sync", environment.config),
    "bulk",
  )),
  secrets: environment.secrets,
  metrics: new ProductMetrics("listings-sync"),
});

/**
 * Scheduled (EventBridge): refreshes the stored marketplace listings from integrator.io and Stripe.
 * A failure throws, so the run shows as failed; the listings served stay as they were. A secret it
 * needs not configured yet skips the run (one warning, `NotConfigured`).
 */
export const makeHandler =
  (deps: Deps) =>
  async (_event: unknown, context?: Context): Promise<ListingsSyncResult | undefined> => {
    addLambdaContext(deps.logger, context);
    // Before the secrets are set: one warning and NotConfigured, the listings served stay as they were.
    const { secrets, metrics } = deps;
    const out = { logger: deps.logger, metrics: metrics ?? new ProductMetrics("listings-sync") };
    if (secrets && !configuredFor("listings sync", secrets, ["STRIPE_SECRET_KEY", "INTEGRATOR_TOKEN"], out))
      return undefined;
    return deps.listings.sync();
  };

export const handler = lambdaHandler(createDeps, makeHandler);
