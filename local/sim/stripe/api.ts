import type { EventOrigin } from "./events.ts";
import type { JsonObject } from "./model.ts";
import type { Params } from "./params.ts";
import type { Simulator } from "./simulator.ts";

/** One Stripe API call, after authentication and decoding (`expand[]` is applied by the server). */
export interface ApiRequest {
  sim: Simulator;
  params: Params;
  /** Path parameters, e.g. `{ id: "cus_123" }` for `/v1/customers/:id`. */
  path: Record<string, string>;
  /** Recorded on the events the call causes. */
  origin: EventOrigin;
}

export type ApiHandler = (request: ApiRequest) => JsonObject;

export interface ApiRoute {
  method: "GET" | "POST" | "DELETE";
  /** `/v1/customers/:id` */
  path: string;
  handler: ApiHandler;
}

/** The keys every list endpoint accepts. */
export const LIST_KEYS = ["limit", "starting_after", "ending_before"] as const;

/** The path parameter `name` (the router guarantees it is there). */
export function pathParam(request: ApiRequest, name: string): string {
  return request.path[name] ?? "";
}
