import { HttpError } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { Listings } from "#lib/marketplace/listings.ts";

/**
 * `POST /admin/listings/sync`: refreshes the marketplace listings now. It lives in the admin
 * function, which holds the admin token, so the public marketplace function holds none. A sync
 * that cannot read integrator.io or Stripe leaves the stored listings as they were: 502.
 */
export function listingsRoutes(listings: Pick<Listings, "sync">): Record<string, RouteHandler> {
  return {
    "POST /admin/listings/sync": async () => {
      try {
        return { status: 200, body: await listings.sync() };
      } catch (error) {
        if (error instanceof HttpError) throw error;
        throw new HttpError(
          502,
          "listings_unavailable",
          "integrator.io or Stripe did not answer; the listings served are unchanged. Try again shortly.",
          { cause: error },
        );
      }
    },
  };
}
