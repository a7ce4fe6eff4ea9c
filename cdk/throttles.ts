import type { FunctionName } from "../lib/functions.ts";
import { methodsOf, type RouteDefinition } from "../lib/routes.ts";

/** API Gateway's token bucket for one route: a steady rate (requests per second) and a burst. */
export interface Throttle {
  rateLimit: number;
  burstLimit: number;
}

/**
 * Who calls a route, which sizes its budget: Stripe's deliveries and integrator.io's stack calls
 * each get their own, larger one, so junk aimed at one route cannot throttle the others.
 */
export type RouteClass = "webhook" | "stack" | "admin" | "public";

/** Every route class's budget, and the stage default that `$default` (unknown paths) gets. */
export type RouteThrottles = Record<RouteClass | "default", Throttle>;

export const DEFAULT_ROUTE_THROTTLES: RouteThrottles = {
  // Stripe delivers in bursts (renewals at a period's end, bulk changes); the handler answers in milliseconds.
  webhook: { rateLimit: 200, burstLimit: 400 },
  // integrator.io's installs, settings and hooks of every integration of the vendor's connectors.
  stack: { rateLimit: 100, burstLimit: 200 },
  // Staff and the CLI, paging through lists.
  admin: { rateLimit: 25, burstLimit: 50 },
  // Buyers: listings (cached by ETag) and checkout, which costs a Stripe call each.
  public: { rateLimit: 20, burstLimit: 40 },
  // `$default` only answers 404 and 405.
  default: { rateLimit: 10, burstLimit: 20 },
};

/** The class of a route; `stackFunction` is the function that serves integrator.io's stack. */
export function routeClass(route: RouteDefinition, stackFunction: FunctionName): RouteClass {
  if (route.auth === "stripe") return "webhook";
  if (route.function === stackFunction) return "stack";
  if (route.auth === "admin") return "admin";
  return "public";
}

/**
 * A GET's HEAD route's budget: a fifth of the GET's (at least 1 request/s and a burst of 1, never
 * more than the GET's). HEAD runs the whole GET handler, and API Gateway throttles per route key,
 * so the two cannot share one bucket; a small one of HEAD's own keeps HEAD from doubling what an
 * expensive GET admits (GET and HEAD together: 1.2 times the GET's budget, from 5/s up).
 */
export function headThrottle(get: Throttle): Throttle {
  return {
    rateLimit: Math.min(get.rateLimit, Math.max(1, get.rateLimit / 5)),
    burstLimit: Math.min(get.burstLimit, Math.max(1, Math.ceil(get.burstLimit / 5))),
  };
}

/** The stage's route settings: each route key with its class's budget, a GET's HEAD with headThrottle's. */
export function routeSettings(
  routes: readonly RouteDefinition[],
  throttles: RouteThrottles,
  stackFunction: FunctionName,
): Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> {
  const setting = (throttle: Throttle) => ({
    ThrottlingRateLimit: throttle.rateLimit,
    ThrottlingBurstLimit: throttle.burstLimit,
  });
  return Object.fromEntries(
    routes.flatMap((route) => {
      const throttle = throttles[routeClass(route, stackFunction)];
      return methodsOf(route).map((method) => [
        `${method} ${route.path}`,
        setting(method === "HEAD" ? headThrottle(throttle) : throttle),
      ]);
    }),
  );
}

/** A throttle from context, `<rate>/<burst>` (e.g. `200/400`); anything else fails the synth. */
export function parseThrottle(name: string, value: string): Throttle {
  const match = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(value.trim());
  const rateLimit = Number(match?.[1]);
  const burstLimit = Number(match?.[2]);
  if (!match || rateLimit <= 0 || burstLimit <= 0) {
    throw new Error(`${name}: "${value}" is not <requests per second>/<burst>, e.g. 200/400`);
  }
  return { rateLimit, burstLimit };
}
