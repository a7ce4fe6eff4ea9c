import type { Principal } from "./auth.ts";
import type { DeferCommit } from "./late-commits.ts";
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
  /**
   * Set when the `lateCommitRate` fault was drawn for this request: a license create hands its
   * commit to it instead of applying it (its answer is lost); every other handler ignores it.
   */
  deferCommit: DeferCommit | undefined;
}

export type ApiRouter = Router<ApiContext>;
