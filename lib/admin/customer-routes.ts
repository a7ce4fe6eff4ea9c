import { badRequest } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { connectorByKey } from "#lib/licensing/catalog.ts";
import { normalizeEmail } from "#lib/licensing/license.ts";
import { fromPageCursor, pageLimit, toPageCursor, withCursor } from "./cursor.ts";
import { customerView, transferLicense } from "./customers.ts";
import type { AdminDeps } from "./deps.ts";
import type { LicenseListQuery } from "./schemas.ts";

/** Customers and their licenses: the view of one customer, the license list, and transfers. */
export function customerRoutes(deps: AdminDeps): Record<string, RouteHandler> {
  const { ctx } = deps;
  return {
    "GET /admin/customers/{customerId}": async ({
      params,
    }: RouteInput<unknown, Record<string, string>, { customerId: string }>) => ({
      body: await customerView(params.customerId, ctx, deps.installs),
    }),

    "GET /admin/licenses": async ({ query }: RouteInput<unknown, LicenseListQuery>) => {
      if (query.connector && !connectorByKey(ctx.catalog, query.connector)) {
        throw badRequest(`No connector ${query.connector} in the catalog.`, [
          { path: "query.connector", message: "unknown connector" },
        ]);
      }
      const cursor = fromPageCursor("licenses", query.cursor);
      const page = await withCursor(cursor, () =>
        ctx.licenses.list({
          ...(query.state ? { state: query.state } : {}),
          ...(query.email ? { email: normalizeEmail(query.email) } : {}),
          ...(query.connector ? { connectorKey: query.connector } : {}),
          limit: pageLimit(query.limit),
          ...(cursor ? { cursor } : {}),
        }),
      );
      const nextCursor = toPageCursor("licenses", page.nextCursor);
      return { body: { data: page.items, ...(nextCursor ? { nextCursor } : {}) } };
    },

    "POST /admin/customers/{customerId}/licenses/{connector}/transfer": async ({
      params,
      body,
      requestId,
    }: RouteInput<{ email: string }, Record<string, string>, { customerId: string; connector: string }>) => ({
      body: await transferLicense(params.customerId, params.connector, body.email, ctx, requestId),
    }),
  };
}
