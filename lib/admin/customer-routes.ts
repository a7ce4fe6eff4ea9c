import { badRequest } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { connectorByKey } from "#lib/licensing/catalog.ts";
import { normalizeEmail } from "#lib/licensing/license.ts";
import { customerView, transferLicense } from "./customers.ts";
import type { AdminDeps } from "./deps.ts";
import { pageLimit } from "./page-limit.ts";
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
      const email = query.email ? normalizeEmail(query.email) : undefined;
      const scope = {
        list: "licenses",
        filters: { state: query.state, email, connector: query.connector },
      };
      const cursor = deps.cursors.read(scope, query.cursor);
      const page = await ctx.licenses.list({
        ...(query.state ? { state: query.state } : {}),
        ...(email ? { email } : {}),
        ...(query.connector ? { connectorKey: query.connector } : {}),
        limit: pageLimit(query.limit),
        ...(cursor ? { cursor } : {}),
      });
      const nextCursor = deps.cursors.issue(scope, page.nextCursor);
      return { body: { data: page.items, ...(nextCursor ? { nextCursor } : {}) } };
    },

    "POST /admin/customers/{customerId}/licenses/{connector}/transfer": async ({
      params,
      body,
      requestId,
    }: RouteInput<{ email: string }, Record<string, string>, { customerId: string; connector: string }>) => ({
      body: await transferLicense(
        params.customerId,
        params.connector,
        body.email,
        ctx,
        deps.leases,
        requestId,
      ),
    }),
  };
}
