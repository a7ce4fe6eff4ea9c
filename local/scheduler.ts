/** Runs scheduled functions every `intervalMs`, like EventBridge Scheduler; one run at a time each. */
export class LocalScheduler {
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<unknown>>();

  constructor(
    private readonly jobs: { name: string; run: () => Promise<unknown> }[],
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    for (const job of this.jobs) {
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        const run = job
          .run()
          .catch((error: unknown) =>
            this.log(`scheduler: ${job.name} failed: ${error instanceof Error ? error.message : error}`),
          )
          .finally(() => {
            busy = false;
            this.running.delete(run);
          });
        this.running.add(run);
      }, this.intervalMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.running]);
  }
}
