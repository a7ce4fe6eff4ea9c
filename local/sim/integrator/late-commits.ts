/**
 * A change a handler hands over instead of applying it, when the `lateCommitRate` fault is drawn
 * for its request: the server resets the connection first, then schedules the commit.
 */
export type DeferCommit = (commit: () => void) => void;

/**
 * The commits held back by the `lateCommitRate` fault, each on its own timer. `POST /_sim/reset`
 * and the end of the simulator cancel them all: nothing is committed after either.
 */
export class LateCommits {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Runs `commit` after `delayMs`, unless cancelled first. */
  schedule(delayMs: number, commit: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      commit();
    }, delayMs);
    this.timers.add(timer);
  }

  /** How many commits are still waiting. */
  get pending(): number {
    return this.timers.size;
  }

  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
