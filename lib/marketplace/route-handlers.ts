import { badRequest, HttpError, notFound } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { PageCursors } from "#lib/http/page-cursor.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { type CheckoutDeps, createCheckoutSession } from "./checkout.ts";
import { CheckoutRequestError, CheckoutUnavailableError, ListingsUnavailableError } from "./errors.ts";
import { cacheableJson } from "./http-cache.ts";
import type { Listings } from "./listings.ts";
import { type CheckoutRequest, DEFAULT_TEMPLATE_PAGE, type TemplateQuery } from "./schemas.ts";

export interface MarketplaceServices {
  listings: Listings;
  checkout: CheckoutDeps;
  cursors: PageCursors;
}

/** The marketplace function's route handlers, by route key; the shared HTTP stack has validated the input. */
export function marketplaceRouteHandlers({
  listings,
  checkout,
  cursors,
}: MarketplaceServices): Record<string, RouteHandler> {
  const handlers: Record<string, RouteHandler> = {
    "GET /marketplace/connectors": async ({ headers }) =>
      cacheableJson({ data: await listings.connectors() }, headers),
    "GET /marketplace/connectors/{key}": async ({
      params,
      headers,
    }: RouteInput<unknown, unknown, { key: string }>) => {
      const listing = await listings.connector(params.key);
      if (!listing) throw notFound(`No connector ${JSON.stringify(params.key)} is listed.`);
      return cacheableJson(listing, headers);
    },
    "GET /marketplace/templates": async ({ query, headers }: RouteInput<unknown, TemplateQuery>) => {
      const scope = { list: "templates", filters: { application: query.application, q: query.q } };
      const cursor = cursors.read(scope, query.cursor);
      const page = await listings.templates({
        ...query,
        cursor,
        limit: query.limit ?? DEFAULT_TEMPLATE_PAGE,
      });
      const nextCursor = cursors.issue(scope, page.nextCursor);
      return cacheableJson({ data: page.items, ...(nextCursor ? { nextCursor } : {}) }, headers);
    },
    "GET /marketplace/templates/{id}": async ({
      params,
      headers,
    }: RouteInput<unknown, unknown, { id: string }>) => {
      const listing = await listings.template(params.id);
      if (!listing) throw notFound(`No template ${JSON.stringify(params.id)} is listed.`);
      return cacheableJson(listing, headers);
    },
    "POST /checkout/sessions": async ({ body }: RouteInput<CheckoutRequest>) => ({
      status: 201,
      body: await createCheckoutSession(checkout, body),
    }),
  };
  return Object.fromEntries(
    Object.entries(handlers).map(([key, handle]) => [key, withMarketplaceErrors(handle)]),
  );
}

/** The marketplace's errors as HTTP errors; anything else stays a 500 without internals. */
function withMarketplaceErrors(handle: RouteHandler): RouteHandler {
  return async (input) => {
    try {
      return await handle(input);
    } catch (error) {
      if (error instanceof CheckoutRequestError) throw badRequest(error.message, error.problems);
      if (error instanceof ListingsUnavailableError) {
        throw new HttpError(503, "listings_unavailable", error.message, {
          headers: { "retry-after": "30" },
          cause: error,
        });
      }
      if (error instanceof CheckoutUnavailableError) {
        const reason = error.cause instanceof Error ? `: ${error.cause.message}` : "";
        throw new HttpError(502, "checkout_unavailable", `${error.message}${reason}`, { cause: error });
      }
      throw error;
    }
  };
}
