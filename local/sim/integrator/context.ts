import type { Principal } from "./auth.ts";
import type { Router } from "./router.ts";
import type { StackCaller } from "./stack-caller.ts";
import type { SimStore } from "./store.ts";

/** What a `/v1` handler gets besides its path parameters. */
export interface ApiContext {
  principal: Principal;
  url: URL;
  query: URLSearchParams;
  body: unknown;
  store: SimStore;
  stack: StackCaller;
}

export type ApiRouter = Router<ApiContext>;
