import { createHash } from "node:crypto";
import type { IntegratorClient } from "#lib/integrator/client.ts";
import { IntegratorError } from "#lib/integrator/errors.ts";
import type { Connector } from "#lib/integrator/schemas.ts";
import { type Catalog, catalogPriceRefs } from "#lib/licensing/catalog.ts";
import type { StripeSdk } from "#lib/stripe/client.ts";
import { connectorListing, templateListing } from "./listing.ts";
import type { ListingSnapshot, ListingStore } from "./listing-store.ts";
import { resolvePriceRefs } from "./prices.ts";
import type { ListingsSyncResult } from "./schemas.ts";

/** Where listings come from: the catalog, integrator.io (vendor token, shared client) and Stripe. */
export interface ListingSources {
  catalog: Catalog;
  integrator: Pick<IntegratorClient, "connectors" | "templates">;
  /** The client, built (and the SDK imported) at the first sync. */
  stripe: StripeSdk;
}

const sha256 = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("base64url");

/** The hash that tells a listing cache built from another catalog. */
export const catalogHash = (catalog: Catalog) => sha256(catalog);

/**
 * Reads integrator.io and Stripe once and builds every listing: one `GET /connectors/{id}` per
 * catalog connector, one `GET /templates`, and the catalog's prices. A connector integrator.io
 * does not know (404) and a price Stripe does not have are left out and named in `problems`;
 * any other failure throws, and the listings served stay as they were.
 */
export async function buildSnapshot(
  sources: ListingSources,
): Promise<{ snapshot: ListingSnapshot; problems: string[] }> {
  const { catalog, integrator } = sources;
  const [remotes, templates, prices] = await Promise.all([
    Promise.all(catalog.connectors.map((connector) => connectorOrMissing(integrator, connector.connectorId))),
    integrator.templates.list(),
    sources.stripe().then((stripe) =>
      resolvePriceRefs(
        stripe,
        catalogPriceRefs(catalog).map((match) => match.ref),
      ),
    ),
  ]);
  const problems: string[] = [];
  const connectors = catalog.connectors.flatMap((connector, index) => {
    const remote = remotes[index];
    if (!remote) {
      problems.push(`${connector.key}: integrator.io has no connector ${connector.connectorId}; not listed`);
      return [];
    }
    const built = connectorListing(connector, remote, prices);
    problems.push(...built.problems);
    return [built.listing];
  });
  const published = templates
    .flatMap((template) => templateListing(template) ?? [])
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    snapshot: {
      connectors,
      templates: published,
      hash: sha256({ connectors, published }),
      catalogHash: catalogHash(catalog),
    },
    problems,
  };
}

/** One sync: build the listings, then publish them as the served generation. */
export async function syncListings(
  sources: ListingSources,
  store: ListingStore,
  now: () => number = Date.now,
): Promise<ListingsSyncResult> {
  const startedAt = now();
  const { snapshot, problems } = await buildSnapshot(sources);
  const { pointer, changed } = await store.publish(snapshot, startedAt);
  return {
    generation: pointer.generation,
    changed,
    connectors: pointer.connectors,
    templates: pointer.templates,
    syncedAt: pointer.syncedAt,
    problems,
  };
}

async function connectorOrMissing(
  integrator: ListingSources["integrator"],
  connectorId: string,
): Promise<Connector | undefined> {
  try {
    return await integrator.connectors.get(connectorId);
  } catch (error) {
    if (error instanceof IntegratorError && error.status === 404) return undefined;
    throw error;
  }
}
