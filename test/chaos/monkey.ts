/**
 * The misbehaviour of a chaos run, on a schedule drawn from the seeded PRNG: Stripe delivering
 * duplicates, out of order (within and across customers) and late; integrator.io answering 5xx,
 * dropping answers after applying the change, committing license creates late (the answer lost
 * before the license exists, the license there a moment later), and 429 bursts from a small
 * bucket; the worker process killed mid-batch; one restart of the poller. `stop()` clears every
 * fault (a late commit already scheduled still lands).
 */
import type { QueuePoller } from "#local/poller.ts";
import type { Rng } from "./prng.ts";

export interface MonkeyOptions {
  /** Fraction of deliveries Stripe sends twice. */
  duplicateRate: number;
  /** Fraction of integrator.io requests answered 5xx (not applied). */
  errorRate: number;
  /** Fraction of integrator.io requests applied whose answer is lost (connection reset). */
  dropResponseRate: number;
  /**
   * Fraction of license creates (neither 429'd nor 5xx'd) whose connection is reset before the
   * license exists, the license being committed `lateCommitMs` later: a late commit.
   */
  lateCommitRate: number;
  /**
   * How late a late commit lands (ms), drawn uniformly in this range at every reshuffle. Must stay
   * well under the stack's late-commit window (run.ts), or the engine creates again first.
   */
  lateCommitMs: [number, number];
  /** Pause between two worker kills, drawn uniformly in this range (ms). */
  killEveryMs: [number, number];
  /** Pause between two 429 bursts, and how long a burst lasts (ms). */
  burstEveryMs: [number, number];
  burstLengthMs: [number, number];
  /** How often the delivery reorder window / delay and the 5xx status change (ms). */
  reshuffleEveryMs: number;
}

export const DEFAULT_MONKEY: MonkeyOptions = {
  duplicateRate: 0.1,
  errorRate: 0.2,
  dropResponseRate: 0.05,
  lateCommitRate: 0.05,
  // From under the engine's second look (1 s after the lost answer) to well past it: some late
  // commits are adopted by the attempt that lost the answer, the rest by a later one.
  lateCommitMs: [300, 3_000],
  killEveryMs: [2_000, 9_000],
  burstEveryMs: [8_000, 25_000],
  burstLengthMs: [2_000, 6_000],
  reshuffleEveryMs: 7_000,
};

/** integrator.io's real limit, restored after each burst. */
const REAL_LIMIT = { capacity: 1000, refillPerSecond: 300 };

export interface MonkeyCounts {
  /** Worker processes killed mid-batch. */
  workerKills: number;
  pollerRestarts: number;
  /** 429 bursts (the simulator's bucket lowered for a while). */
  rateLimitBursts: number;
  /** integrator.io requests while faults were on, and the 429s among them (the simulator's counts). */
  requestsUnderFaults: number;
  rateLimited: number;
  /**
   * Injected 5xx and dropped answers: the simulator draws them per request without counting, so
   * these are the expected numbers (requests × rate; a 429'd request is never failed by the 5xx draw).
   */
  injected5xxExpected: number;
  droppedExpected: number;
  /** License creates (`POST /v1/connectors/:id/licenses`) while faults were on, and the 429s among them. */
  licenseCreatesUnderFaults: number;
  licenseCreatesRateLimited: number;
  /**
   * Late commits, likewise expected: creates neither 429'd nor 5xx'd × rate (an upper bound: a
   * create for an email without an integrator.io account is refused and never committed).
   */
  lateCommitsExpected: number;
}

interface Counter {
  requests: number;
  rateLimited: number;
}

interface Stats extends Counter {
  byRoute?: Record<string, Counter>;
}

/** The simulator's route (in `/_sim/stats`) of a license create. */
const LICENSE_CREATE = "POST /v1/connectors/:connectorId/licenses";

export interface MonkeyTargets {
  integratorOrigin: string;
  stripeUrl: string;
  poller: QueuePoller;
  log(line: string): void;
}

async function put(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`PUT ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function stats(origin: string): Promise<Stats> {
  const response = await fetch(`${origin}/_sim/stats`);
  return (await response.json()) as Stats;
}

export class ChaosMonkey {
  private running = false;
  private timers = new Set<NodeJS.Timeout>();
  private busy = new Set<Promise<unknown>>();
  private before: Stats = { requests: 0, rateLimited: 0 };
  private restarted = false;
  readonly counts: MonkeyCounts = {
    workerKills: 0,
    pollerRestarts: 0,
    rateLimitBursts: 0,
    requestsUnderFaults: 0,
    rateLimited: 0,
    injected5xxExpected: 0,
    droppedExpected: 0,
    licenseCreatesUnderFaults: 0,
    licenseCreatesRateLimited: 0,
    lateCommitsExpected: 0,
  };

  constructor(
    private readonly targets: MonkeyTargets,
    private readonly rng: Rng,
    private readonly options: MonkeyOptions = DEFAULT_MONKEY,
  ) {}

  /** Turns every fault on and starts the kill, burst and reshuffle schedules. */
  async start(): Promise<void> {
    this.running = true;
    this.before = await stats(this.targets.integratorOrigin);
    await this.reshuffle();
    this.every(
      () => this.options.reshuffleEveryMs,
      () => this.reshuffle(),
    );
    this.every(
      () => this.rng.between(...this.options.killEveryMs),
      async () => {
        // Kill a worker in the middle of a batch: wait (briefly) for one to be busy.
        for (let tries = 0; tries < 25 && this.running; tries++) {
          if (this.targets.poller.killWorker()) {
            this.counts.workerKills++;
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      },
    );
    // The first burst comes early, so that even a short run meets one.
    let bursts = 0;
    this.every(
      () =>
        bursts++ === 0 ? this.rng.between(1_000, 5_000) : this.rng.between(...this.options.burstEveryMs),
      () => this.burst(),
    );
  }

  /** Stops and starts the poller once (as a redeploy of the event source mapping would). */
  async restartPoller(): Promise<void> {
    if (this.restarted || !this.running) return;
    this.restarted = true;
    const restart = (async () => {
      this.targets.log("chaos: restarting the poller");
      await this.targets.poller.stop();
      this.targets.poller.start();
      this.counts.pollerRestarts++;
    })();
    this.busy.add(restart);
    await restart.finally(() => this.busy.delete(restart));
  }

  get pollerRestarted(): boolean {
    return this.restarted;
  }

  /** Clears every fault (delivery, integrator.io, rate limit) and waits for running actions. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.busy]);
    const after = await stats(this.targets.integratorOrigin);
    await put(`${this.targets.integratorOrigin}/_sim/faults`, {});
    await put(`${this.targets.integratorOrigin}/_sim/rate-limit`, REAL_LIMIT);
    await put(`${this.targets.stripeUrl}/_sim/delivery`, {
      duplicateRate: 0,
      reorderWindowMs: 0,
      delayMs: 0,
    });
    const requests = after.requests - this.before.requests;
    const rateLimited = after.rateLimited - this.before.rateLimited;
    this.counts.requestsUnderFaults = requests;
    this.counts.rateLimited = rateLimited;
    this.counts.injected5xxExpected = Math.round((requests - rateLimited) * this.options.errorRate);
    this.counts.droppedExpected = Math.round(requests * this.options.dropResponseRate);
    const creates = (stats: Stats) => stats.byRoute?.[LICENSE_CREATE] ?? { requests: 0, rateLimited: 0 };
    const createRequests = creates(after).requests - creates(this.before).requests;
    const createsRateLimited = creates(after).rateLimited - creates(this.before).rateLimited;
    this.counts.licenseCreatesUnderFaults = createRequests;
    this.counts.licenseCreatesRateLimited = createsRateLimited;
    this.counts.lateCommitsExpected = Math.round(
      (createRequests - createsRateLimited) * (1 - this.options.errorRate) * this.options.lateCommitRate,
    );
  }

  /** Every fault the summary line counts. */
  get total(): number {
    const c = this.counts;
    return (
      c.rateLimited +
      c.injected5xxExpected +
      c.droppedExpected +
      c.lateCommitsExpected +
      c.workerKills +
      c.pollerRestarts
    );
  }

  private every(delayMs: () => number, action: () => Promise<unknown>): void {
    const schedule = () => {
      if (!this.running) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.running) return;
        const run = action()
          .catch((error: unknown) =>
            this.targets.log(`chaos: ${error instanceof Error ? error.message : String(error)}`),
          )
          .finally(() => {
            this.busy.delete(run);
            schedule();
          });
        this.busy.add(run);
      }, delayMs());
      this.timers.add(timer);
    };
    schedule();
  }

  /** New reorder window and delivery delay; a new 5xx status and late-commit delay at the same rates. */
  private async reshuffle(): Promise<void> {
    if (!this.running) return;
    await put(`${this.targets.stripeUrl}/_sim/delivery`, {
      duplicateRate: this.options.duplicateRate,
      reorderWindowMs: this.rng.int(200, 1500),
      delayMs: this.rng.int(0, 400),
    });
    await put(`${this.targets.integratorOrigin}/_sim/faults`, {
      errorRate: this.options.errorRate,
      status: this.rng.pick([500, 502, 503, 504]),
      dropResponseRate: this.options.dropResponseRate,
      latencyMs: this.rng.int(0, 30),
      lateCommitRate: this.options.lateCommitRate,
      lateCommitMs: this.rng.int(...this.options.lateCommitMs),
    });
  }

  /** integrator.io's bucket shrinks for a while (everyone gets 429s), then is restored. */
  private async burst(): Promise<void> {
    await put(`${this.targets.integratorOrigin}/_sim/rate-limit`, {
      capacity: this.rng.int(1, 4),
      refillPerSecond: Math.round(this.rng.between(0.5, 2) * 10) / 10,
    });
    this.counts.rateLimitBursts++;
    await new Promise((r) => setTimeout(r, this.rng.between(...this.options.burstLengthMs)));
    await put(`${this.targets.integratorOrigin}/_sim/rate-limit`, REAL_LIMIT);
  }
}
