import type { Logger } from "@aws-lambda-powertools/logger";
import { ListingsUnavailableError } from "./errors.ts";
import type { ListingStore, TemplateFilter } from "./listing-store.ts";
import type { ConnectorListing, ListingsSyncResult, TemplateListing } from "./schemas.ts";
import { catalogHash, type ListingSources, syncListings } from "./sync.ts";

/** How long after a failed inline fill the next request may try again. */
const INLINE_RETRY_MS = 30_000;
/** At most one refresh for a price missing from the listings per this long, across every process. */
export const PRICE_REFRESH_INTERVAL_MS = 60_000;
/**
 * How long a checkout waits on that refresh: a full sync may take the listings-sync function's
 * 120 s, the marketplace function has 29 s for the whole request.
 */
export const PRICE_REFRESH_WAIT_MS = 10_000;

export interface ListingsDeps {
  store: ListingStore;
  sources: ListingSources;
  logger: Logger;
  /** Called after every sync attempt (the function flushes its metrics here). */
  afterSync?: () => void;
  now?: () => number;
  /** How long `refreshForMissingPrice` waits on the sync (default `PRICE_REFRESH_WAIT_MS`). */
  refreshWaitMs?: number;
}

/**
 * The listings as served: read from the stored generation, filled by a sync on the first request
 * when nothing is stored, and refreshed when the stored one was built from another catalog (a
 * deploy changed it) — if that refresh fails, the stored listings are served meanwhile.
 */
export class Listings {
  private running: Promise<ListingsSyncResult> | undefined;
  /** When an inline fill last failed: requests meanwhile do not each retry it against integrator.io. */
  private failedAt = Number.NEGATIVE_INFINITY;
  private readonly catalogHash: string;

  constructor(private readonly deps: ListingsDeps) {
    this.catalogHash = catalogHash(deps.sources.catalog);
  }

  /** Syncs now; concurrent calls in this process share one run. */
  sync(): Promise<ListingsSyncResult> {
    this.running ??= syncListings(this.deps.sources, this.deps.store, this.deps.now)
      .then((result) => {
        this.deps.logger.info("listings synced", { ...result, problems: result.problems.length });
        for (const problem of result.problems) this.deps.logger.warn("listing problem", { problem });
        return result;
      })
      .finally(() => {
        this.running = undefined;
        this.deps.afterSync?.();
      });
    return this.running;
  }

  /**
   * Refreshes the listings because checkout found a price missing from them — unless another
   * request (in any process) did within `PRICE_REFRESH_INTERVAL_MS`, so a flood of checkouts for
   * a price Stripe does not have costs one sync a minute. A sync already running here is waited
   * for. Waits `refreshWaitMs` at most: a sync still running then goes on in the background (the
   * next request here waits on it; once the interval has passed, any process may start another),
   * and this answers false at once. True when the listings were refreshed; a failed refresh is
   * logged and answers false.
   */
  async refreshForMissingPrice(): Promise<boolean> {
    let refresh: Promise<unknown>;
    try {
      if (this.running) refresh = this.running;
      else if (await this.deps.store.claimPriceRefresh(PRICE_REFRESH_INTERVAL_MS)) refresh = this.sync();
      else return false;
    } catch (error) {
      this.logRefreshFailure(error);
      return false;
    }
    // A failure is logged whenever it comes, also after this request stopped waiting.
    const settled = refresh.then(
      () => "done" as const,
      (error: unknown) => {
        this.logRefreshFailure(error);
        return "failed" as const;
      },
    );
    const waitMs = this.deps.refreshWaitMs ?? PRICE_REFRESH_WAIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), waitMs);
    });
    const outcome = await Promise.race([settled, late]).finally(() => clearTimeout(timer));
    if (outcome === "late")
      this.deps.logger.warn("listings refresh for a missing price still running; answering without it", {
        waitedMs: waitMs,
      });
    return outcome === "done";
  }

  private logRefreshFailure(error: unknown): void {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.deps.logger.error("listings refresh for a missing price failed", { error: reason });
  }

  async connectors(): Promise<ConnectorListing[]> {
    return this.deps.store.connectors(await this.generation());
  }

  async connector(key: string): Promise<ConnectorListing | undefined> {
    return this.deps.store.connector(await this.generation(), key);
  }

  async templates(filter: TemplateFilter): Promise<{ items: TemplateListing[]; nextCursor?: string }> {
    return this.deps.store.templates(await this.generation(), filter);
  }

  async template(id: string): Promise<TemplateListing | undefined> {
    return this.deps.store.template(await this.generation(), id);
  }

  /** The generation to read. @throws ListingsUnavailableError when none is stored and filling failed. */
  private async generation(): Promise<string> {
    const pointer = await this.deps.store.current();
    if (pointer && pointer.catalogHash === this.catalogHash) return pointer.generation;
    const now = (this.deps.now ?? Date.now)();
    if (now - this.failedAt >= INLINE_RETRY_MS) {
      try {
        return (await this.sync()).generation;
      } catch (error) {
        this.failedAt = now;
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.deps.logger.error("listings sync failed", { error: reason });
      }
    }
    if (pointer) return pointer.generation;
    throw new ListingsUnavailableError("Listings are not available yet; try again shortly.");
  }
}
