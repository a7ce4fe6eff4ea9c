import { AccountBuckets, type RateLimitSettings } from "./bucket.ts";
import { type Faults, NO_FAULTS } from "./faults.ts";
import { newId } from "./ids.ts";
import { LateCommits } from "./late-commits.ts";
import { OneTimeTokens } from "./one-time-tokens.ts";
import { StackCaller } from "./stack-caller.ts";
import { Stats } from "./stats.ts";
import { SimStore } from "./store.ts";

/** Everything one running simulator holds: its data and its knobs. */
export class SimRuntime {
  readonly store = new SimStore(newId());
  readonly stats = new Stats();
  readonly buckets: AccountBuckets;
  readonly oneTimeTokens: OneTimeTokens;
  readonly stack: StackCaller;
  /** License creates held back by the `lateCommitRate` fault. */
  readonly lateCommits = new LateCommits();
  faults: Faults = { ...NO_FAULTS };

  constructor(
    readonly vendorToken: string,
    rateLimit: RateLimitSettings,
    oneTimeTokenTtlMs: number | undefined,
    signal: AbortSignal,
  ) {
    this.buckets = new AccountBuckets(rateLimit);
    this.oneTimeTokens = new OneTimeTokens(oneTimeTokenTtlMs);
    this.stack = new StackCaller({
      store: this.store,
      oneTimeTokens: this.oneTimeTokens,
      signal,
      faults: () => this.faults,
    });
    // A stopped simulator commits nothing more (and leaves no timer behind).
    signal.addEventListener("abort", () => this.lateCommits.cancelAll(), { once: true });
  }

  /**
   * `POST /_sim/reset`: account data, pending late commits, faults and stats go; connectors,
   * templates, stacks and the limit stay.
   */
  reset(): void {
    this.lateCommits.cancelAll();
    this.store.reset();
    this.oneTimeTokens.clear();
    this.faults = { ...NO_FAULTS };
    this.stats.reset();
    this.buckets.refillAll();
  }
}
