/**
 * Priority lanes of the shared limiter. Every call names the lane of the work it serves:
 * - `interactive`: someone is waiting on the answer — integrator.io's own calls to the stack
 *   (install, uninstall, settings), admin API (and so console) actions, a marketplace request;
 * - `background`: the provisioning worker turning Stripe events into licenses;
 * - `bulk`: sweeps that can run slower — reconcile runs, the listings sync.
 * The limiters serve the lanes in this order, and the distributed bucket also keeps bulk to its
 * share of the refill while the others wait (lib/integrator/README.md).
 */
export const LANES = ["interactive", "background", "bulk"] as const;
export type Lane = (typeof LANES)[number];

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  detach(): void;
}

/**
 * The callers waiting for a token, one FIFO queue per lane, served highest lane first. An aborted
 * wait leaves the queue at once and rejects with `signal.reason`.
 */
export class LaneQueues {
  private readonly queues: Record<Lane, Waiter[]> = { interactive: [], background: [], bulk: [] };

  /** `onAbort` runs after a waiter leaves by aborting (the owner reschedules). */
  constructor(private readonly onAbort: () => void) {}

  get size(): number {
    return this.queues.interactive.length + this.queues.background.length + this.queues.bulk.length;
  }

  count(lane: Lane): number {
    return this.queues[lane].length;
  }

  /** Waits in `lane` until `grantNext` reaches this waiter. */
  wait(lane: Lane, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const queue = this.queues[lane];
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = queue.indexOf(waiter);
        if (index >= 0) queue.splice(index, 1);
        reject(signal?.reason);
        this.onAbort();
      };
      const waiter: Waiter = { resolve, reject, detach: () => signal?.removeEventListener("abort", onAbort) };
      signal?.addEventListener("abort", onAbort, { once: true });
      queue.push(waiter);
    });
  }

  /** Resolves the first waiter of the highest lane that has one; false when nobody waits. */
  grantNext(): boolean {
    for (const lane of LANES) {
      const waiter = this.queues[lane].shift();
      if (waiter) {
        waiter.detach();
        waiter.resolve();
        return true;
      }
    }
    return false;
  }

  /**
   * The first lane with waiters that `covered` tokens (handed out highest lane first) would not
   * serve, and how many of its waiters they leave uncovered.
   */
  firstUncovered(covered: number): { lane: Lane; waiting: number } | undefined {
    let left = covered;
    for (const lane of LANES) {
      const waiting = this.queues[lane].length - left;
      if (waiting > 0) return { lane, waiting };
      left = -waiting;
    }
    return undefined;
  }

  rejectAll(reason: unknown): void {
    for (const lane of LANES) {
      for (const waiter of this.queues[lane].splice(0)) {
        waiter.detach();
        waiter.reject(reason);
      }
    }
  }
}
