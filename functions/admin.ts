import type { Context } from "aws-lambda";
import { catalogRoutes } from "#lib/admin/catalog-routes.ts";
import { customerRoutes } from "#lib/admin/customer-routes.ts";
import { type AdminDeps, createAdminDeps } from "#lib/admin/deps.ts";
import { eventRoutes } from "#lib/admin/event-routes.ts";
import { installRoutes, installsByCustomer } from "#lib/admin/installs-routes.ts";
import { listingsRoutes } from "#lib/admin/listings-routes.ts";
import { operatorRoutes } from "#lib/admin/operator-routes.ts";
import { overviewRoutes } from "#lib/admin/overview-routes.ts";
import { reconcileRoutes } from "#lib/admin/reconcile-routes.ts";
import { Installs } from "#lib/extension/installs.ts";
import { httpFunction } from "#lib/http/http-function.ts";
import type { HttpEvent, HttpResult } from "#lib/http/types.ts";
import { ListingStore } from "#lib/marketplace/listing-store.ts";
import { Listings } from "#lib/marketplace/listings.ts";
import { createLogger } from "#lib/observability/logger.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";

/**
 * `installStore`: the stack's install records (`GET /admin/installs`, and installs in the customer
 * view); `listings`: the marketplace listings, refreshed by `POST /admin/listings/sync`.
 */
export type Deps = AdminDeps & { installStore?: Installs; listings?: Pick<Listings, "sync"> };

export const createDeps = async (environment: Environment): Promise<Deps> => {
  const deps = await createAdminDeps(environment, createLogger("admin", environment.config));
  const { table } = deps.ctx;
  const installStore = new Installs(table);
  // The sync reads integrator.io and Stripe through the admin's own clients; its retries and
  // 429s land in the admin's metrics, flushed after every request.
  const listings = new Listings({
    store: new ListingStore(table),
    sources: { catalog: deps.ctx.catalog, stripe: deps.ctx.stripe.sdk, integrator: deps.ctx.integrator },
    logger: deps.logger,
  });
  return { ...deps, installStore, installs: installsByCustomer(installStore, deps.ctx.licenses), listings };
};

/**
 * The staff's admin API (root `ADMIN_TOKEN`, operators' tokens, console sessions): one route
 * group per lib/admin/*-routes.ts module.
 * A new group is one more line here and its entries in lib/routes.ts.
 */
export const makeHandler = (deps: Deps) => {
  const handle = httpFunction(
    {
      ...customerRoutes(deps),
      ...eventRoutes(deps),
      ...reconcileRoutes(deps),
      ...overviewRoutes(deps),
      ...catalogRoutes(deps),
      ...(deps.installStore
        ? installRoutes({ installs: deps.installStore, catalog: deps.ctx.catalog, cursors: deps.cursors })
        : {}),
      ...(deps.listings ? listingsRoutes(deps.listings) : {}),
      ...operatorRoutes(deps.operators, { access: deps.access, cursors: deps.cursors, logger: deps.logger }),
    },
    { logger: deps.logger, admin: deps.access },
  );
  return async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    try {
      return await handle(event, context);
    } finally {
      if (deps.ctx.metrics.metrics.hasStoredMetrics()) deps.ctx.metrics.flush();
    }
  };
};

export const handler = lambdaHandler(createDeps, makeHandler);
