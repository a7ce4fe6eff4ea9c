import type { RouteHandler } from "#lib/http/http-function.ts";
import type { AdminDeps } from "./deps.ts";
import { overview } from "./overview.ts";

/** The overview of the console's first page: licenses by state, failures, DLQ, last run, rate limit. */
export function overviewRoutes(deps: AdminDeps): Record<string, RouteHandler> {
  return {
    "GET /admin/overview": async () => ({ body: await overview(deps) }),
  };
}
