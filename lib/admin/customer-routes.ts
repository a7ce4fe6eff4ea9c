import { badRequest } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { connectorByKey } from "#lib/licensing/catalog.ts";
import { normalizeEmail } from "#lib/licensing/license.ts";
import { reconcileCustomerNow } from "./customer-reconcile.ts";
import { searchCustomers, searchKeys } from "./customer-search.ts";
import { customerView, transferLicense } from "./customers.ts";
import type { AdminDeps } from "./deps.ts";
import { pageLimit } from "./page-limit.ts";
import type { CustomerSearchQuery, LicenseListQuery } from "./schemas.ts";

/** Customers and their licenses: search, the view of one customer, reconciling one, the license list, and transfers. */
export function customerRoutes(deps: AdminDeps): Record<string, RouteHandler> {
  const { ctx } = deps;
  return {
    "GET /admin/customers/{customerId}": async ({
      params,
    }: RouteInput<unknown, Record<string, string>, { customerId: string }>) => ({
      body: await customerView(params.customerId, ctx, deps.installs),
    }),

    "GET /admin/customers": async ({ query }: RouteInput<unknown, CustomerSearchQuery>) => {
      // Cursors are good for the query as it is looked up (an email in any case is one query).
      const keys = searchKeys(query.q);
      const scope = { list: "customers", filters: { q: keys.kind === "email" ? keys.email : query.q } };
      const after = deps.cursors.read(scope, query.cursor);
      const page = await searchCustomers(query.q, after, pageLimit(query.limit, 20), ctx);
      const nextCursor = deps.cursors.issue(scope, page.next);
      return { body: { data: page.data, ...(nextCursor ? { nextCursor } : {}) } };
    },

    "POST /admin/customers/{customerId}/reconcile": async ({
      params,
      body,
      requestId,
    }: RouteInput<{ dryRun: boolean }, Record<string, string>, { customerId: string }>) => ({
      body: await reconcileCustomerNow(params.customerId, body.dryRun, ctx, deps.leases, requestId),
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
