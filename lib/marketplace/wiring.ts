import type { Logger } from "@aws-lambda-powertools/logger";
import { createSharedIntegratorClient, createTable } from "#lib/engine/wiring.ts";
import type { Lane } from "#lib/integrator/lanes.ts";
import { loadCatalogFile } from "#lib/licensing/catalog-file.ts";
import { ProductMetrics } from "#lib/observability/metrics.ts";
import type { Environment } from "#lib/runtime.ts";
import { createStripe } from "#lib/stripe/client.ts";
import { stripeKeyOf } from "#lib/stripe/key.ts";
import { type CheckoutDeps, checkoutSessionStatus } from "./checkout.ts";
import { ListingStore } from "./listing-store.ts";
import { Listings } from "./listings.ts";
import { TrialClaims } from "./trial-claims.ts";

export interface MarketplaceContext {
  listings: Listings;
  checkout: CheckoutDeps;
  logger: Logger;
}

/**
 * What the marketplace and listings-sync functions share, built once per cold start: the catalog,
 * the listing store, the trial claims, the shared integrator.io client (vendor token, distributed
 * bucket) and Stripe. `lane`: `interactive` for the marketplace's requests (an empty cache fills
 * while the buyer waits), `bulk` for the scheduled sync.
 */
export async function createMarketplaceContext(
  environment: Environment,
  service: string,
  logger: Logger,
  lane: Lane,
): Promise<MarketplaceContext> {
  const { config, secrets } = environment;
  const table = createTable(config);
  const metrics = new ProductMetrics(service);
  // Refuses a key of the other mode than STRIPE_LIVEMODE, now and whenever a rotated one arrives.
  const stripe = createStripe(config, await stripeKeyOf(secrets, config, metrics));
  const catalog = await loadCatalogFile(config.catalogPath);
  const listings = new Listings({
    store: new ListingStore(table),
    sources: { catalog, stripe, integrator: createSharedIntegratorClient(environment, table, metrics, lane) },
    logger,
    // Only a sync calls integrator.io, so only a sync has 429s and retries to report.
    afterSync: () => {
      if (metrics.metrics.hasStoredMetrics()) metrics.flush();
    },
  });
  return {
    listings,
    checkout: {
      catalog,
      listings,
      trials: new TrialClaims(table, checkoutSessionStatus(stripe)),
      stripe,
      checkoutAllowedOrigins: config.checkoutAllowedOrigins,
      logger,
    },
    logger,
  };
}
