import type { z } from "zod/mini";
import type { installsQuery } from "#lib/extension/install-schemas.ts";
import type { InstallRecord, Installs } from "#lib/extension/installs.ts";
import { badRequest } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { type Catalog, connectorById, connectorByKey } from "#lib/licensing/catalog.ts";
import { InvalidCursorError } from "#lib/store/dynamo.ts";
import type { Licenses } from "#lib/store/licenses.ts";

export interface InstallRoutesDeps {
  installs: Installs;
  catalog: Catalog;
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
      try {
        const page = await deps.installs.list({
          connectorIds: connectorIds(deps.catalog, query.connector),
          email: query.email,
          cursor: query.cursor,
          ...(query.limit !== undefined ? { limit: query.limit } : {}),
        });
        return {
          status: 200,
          body: { data: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) },
        };
      } catch (error) {
        if (error instanceof InvalidCursorError) throw badRequest("cursor is not one this API returned");
        throw error;
      }
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
