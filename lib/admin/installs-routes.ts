import type { z } from "zod/mini";
import type { installsQuery } from "#lib/extension/install-schemas.ts";
import type { InstallRecord, Installs } from "#lib/extension/installs.ts";
import { badRequest } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { PageCursors } from "#lib/http/page-cursor.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { type Catalog, connectorById, connectorByKey } from "#lib/licensing/catalog.ts";
import { normalizeEmail } from "#lib/licensing/license.ts";
import type { Licenses } from "#lib/store/licenses.ts";

export interface InstallRoutesDeps {
  installs: Installs;
  catalog: Catalog;
  cursors: PageCursors;
}

/** The `_connectorId`s a `connector` filter names (a catalog key or an id); every catalog connector without one. */
function connectorIds(catalog: Catalog, connector: string | undefined): string[] {
  if (connector === undefined) return catalog.connectors.map((entry) => entry.connectorId);
  const found = connectorByKey(catalog, connector) ?? connectorById(catalog, connector);
  if (!found) throw badRequest(`Unknown connector ${connector}: give a catalog key or a _connectorId.`);
  return [found.connectorId];
}

/** `GET /admin/installs?connector=&email=&cursor=&limit=`: install records, newest first, a page at a time. */
export function installRoutes(deps: InstallRoutesDeps): Record<string, RouteHandler> {
  return {
    "GET /admin/installs": async ({ query }: RouteInput<unknown, z.infer<typeof installsQuery>>) => {
      const email = query.email === undefined ? undefined : normalizeEmail(query.email);
      const scope = { list: "installs", filters: { connector: query.connector, email } };
      const cursor = deps.cursors.read(scope, query.cursor);
      const page = await deps.installs.list({
        connectorIds: connectorIds(deps.catalog, query.connector),
        email,
        cursor,
        ...(query.limit !== undefined ? { limit: query.limit } : {}),
      });
      const nextCursor = deps.cursors.issue(scope, page.nextCursor);
      return { status: 200, body: { data: page.items, ...(nextCursor ? { nextCursor } : {}) } };
    },
  };
}

/**
 * The installs of a customer for the admin customer view (`GET /admin/customers/{customerId}`):
 * found by the emails of the customer's licenses.
 */
export function installsByCustomer(installs: Installs, licenses: Pick<Licenses, "forCustomer">) {
  return {
    async forCustomer(customerId: string): Promise<InstallRecord[]> {
      const emails = (await licenses.forCustomer(customerId)).map((license) => license.email);
      return emails.length === 0 ? [] : installs.forEmails(emails);
    },
  };
}
