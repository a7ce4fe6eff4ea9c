import type { RouteHandler } from "#lib/http/http-function.ts";
import type { Listings } from "#lib/marketplace/listings.ts";

/**
 * `POST /admin/listings/sync`: refreshes the marketplace listings now. It lives in the admin
 * function, which holds the admin token, so the public marketplace function holds none.
 */
export function listingsRoutes(listings: Pick<Listings, "sync">): Record<string, RouteHandler> {
  return {
    "POST /admin/listings/sync": async () => ({ status: 200, body: await listings.sync() }),
  };
}
