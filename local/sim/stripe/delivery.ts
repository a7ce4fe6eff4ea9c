/**
 * Signed webhook delivery, as Stripe does it: a POST of the event's JSON with
 * `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the endpoint secret>`,
 * retried with backoff on a non-2xx answer or a connection error (a few quick attempts, for
 * local use), plus the simulator's faults: duplicates, reordering, delay and pause.
 *
 * Ordering: deliveries of one customer's events to one endpoint go out one at a time, in the order
 * the events happened (unless reordering is on), while different customers proceed in parallel.
 * Stripe promises no order at all; this keeps the simulator's sequences reproducible for tests
 * without serialising a benchmark's thousands of customers. A retry does not hold back later events.
 */
import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";

export interface DeliverySettings {
  /** Fraction (0–1) of deliveries sent twice. */
  duplicateRate: number;
  /** > 0: events are held for up to this long and released in shuffled order. */
  reorderWindowMs: number;
  /** Fixed delay before each delivery. */
  delayMs: number;
  /** Hold every delivery until unpaused. */
  paused: boolean;
  /** Waits between attempts; its length + 1 is the number of attempts. */
  retryDelaysMs: number[];
  /** How long an endpoint may take to answer one attempt. */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  duplicateRate: 0,
  reorderWindowMs: 0,
  delayMs: 0,
  paused: false,
  // Stripe retries for 3 days; locally a few quick attempts surface failures fast.
  retryDelaysMs: [250, 1000, 4000],
  timeoutMs: 10_000,
};

export interface DeliveryTarget {
  id: string;
  url: string;
  secret: string;
}

export interface DeliveryAttempt {
  eventId: string;
  eventType: string;
  endpointId: string;
  url: string;
  attempt: number;
  /** True for the extra copy sent because of `duplicateRate`. */
  duplicate: boolean;
  /** HTTP status, or null when the connection failed. */
  status: number | null;
  error: string | null;
  durationMs: number;
  at: string;
}

interface Job {
  seq: number;
  eventId: string;
  eventType: string;
  endpointId: string;
  /** Deliveries of one group to one endpoint go one at a time, in order. */
  group: string;
  payload: string;
  attempt: number;
  duplicate: boolean;
  readyAt: number;
}

/** Stripe's signature header for `payload` signed at `timestamp` (seconds). */
export function signatureHeader(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

const MAX_LOG = 2000;
/** Concurrent deliveries per endpoint (across groups). */
const MAX_IN_FLIGHT_PER_ENDPOINT = 8;

export class Delivery {
  private settingsValue: DeliverySettings = structuredClone(DEFAULT_DELIVERY_SETTINGS);
  private queue: Job[] = [];
  private held: Job[] = [];
  private heldTimer: NodeJS.Timeout | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  private pumpAt = Number.POSITIVE_INFINITY;
  private readonly inFlight = new Map<string, number>();
  private readonly inFlightGroups = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private readonly log: DeliveryAttempt[] = [];
  private readonly delivered = new Set<string>();
  private readonly agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  private generation = 0;
  private seq = 0;
  private stopped = false;

  constructor(
    private readonly options: {
      /** The endpoint as it is now (undefined once deleted: its pending deliveries are dropped). */
      endpoint: (id: string) => DeliveryTarget | undefined;
      /** First successful delivery of an event to an endpoint (Stripe's pending_webhooks). */
      onDelivered: (eventId: string, endpointId: string) => void;
      warn: (message: string) => void;
      random?: () => number;
    },
  ) {}

  get settings(): DeliverySettings {
    return structuredClone(this.settingsValue);
  }

  update(changes: Partial<DeliverySettings>): DeliverySettings {
    const wasPaused = this.settingsValue.paused;
    this.settingsValue = { ...this.settingsValue, ...changes };
    if (wasPaused && !this.settingsValue.paused) this.pump();
    if (this.settingsValue.reorderWindowMs === 0) this.releaseHeld();
    return this.settings;
  }

  /** Deliveries waiting, held, retrying or in flight. */
  get pending(): number {
    let inFlight = 0;
    for (const count of this.inFlight.values()) inFlight += count;
    return this.queue.length + this.held.length + inFlight;
  }

  /** Recent attempts, oldest first. */
  attempts(): DeliveryAttempt[] {
    return [...this.log];
  }

  /** Queues `payload` (the event's JSON) for every endpoint in `endpointIds`. */
  enqueue(
    event: { id: string; type: string; group: string; payload: string },
    endpointIds: readonly string[],
  ): void {
    if (this.stopped) return;
    const random = this.options.random ?? Math.random;
    const now = Date.now();
    for (const endpointId of endpointIds) {
      const copies = random() < this.settingsValue.duplicateRate ? 2 : 1;
      for (let copy = 0; copy < copies; copy++) {
        const job: Job = {
          seq: this.seq++,
          eventId: event.id,
          eventType: event.type,
          endpointId,
          group: event.group,
          payload: event.payload,
          attempt: 1,
          duplicate: copy === 1,
          readyAt: now + this.settingsValue.delayMs,
        };
        if (this.settingsValue.reorderWindowMs > 0) this.hold(job);
        else this.queue.push(job);
      }
    }
    this.pump();
  }

  /**
   * Resolves true once nothing is pending, false after `timeoutMs`. While paused with
   * deliveries pending it cannot drain: callers check `settings.paused` first.
   */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Drops every pending delivery and the log (in-flight requests finish but are not retried). */
  clear(): void {
    this.generation++;
    this.queue = [];
    this.held = [];
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    this.log.length = 0;
    this.delivered.clear();
    this.settingsValue = structuredClone(DEFAULT_DELIVERY_SETTINGS);
    this.notifyIfIdle();
  }

  stop(): void {
    this.stopped = true;
    this.clear();
    clearTimeout(this.pumpTimer);
    this.agents.http.destroy();
    this.agents.https.destroy();
    for (const waiter of [...this.waiters]) waiter();
  }

  private hold(job: Job): void {
    this.held.push(job);
    if (this.heldTimer === undefined) {
      this.heldTimer = setTimeout(() => this.releaseHeld(), this.settingsValue.reorderWindowMs);
    }
  }

  /** Releases held deliveries in an order that differs from the original whenever two or more were held. */
  private releaseHeld(): void {
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    if (this.held.length === 0) return;
    const batch = this.held;
    this.held = [];
    const random = this.options.random ?? Math.random;
    const shuffled = [...batch];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j] as Job, shuffled[i] as Job];
    }
    if (shuffled.length > 1 && shuffled.every((job, index) => job === batch[index]))
      shuffled.push(shuffled.shift() as Job);
    const now = Date.now();
    for (const job of shuffled) {
      job.seq = this.seq++;
      job.readyAt = Math.max(job.readyAt, now);
      this.queue.push(job);
    }
    this.pump();
  }

  private pump(): void {
    if (this.stopped) return;
    if (this.settingsValue.paused) {
      this.notifyIfIdle();
      return;
    }
    const now = Date.now();
    const busy = new Set<string>();
    let nextAt = Number.POSITIVE_INFINITY;
    const remaining: Job[] = [];
    for (const job of this.queue) {
      const key = `${job.endpointId}|${job.group}`;
      if (job.readyAt > now) {
        nextAt = Math.min(nextAt, job.readyAt);
        remaining.push(job);
        continue;
      }
      if (
        busy.has(key) ||
        this.inFlightGroups.has(key) ||
        (this.inFlight.get(job.endpointId) ?? 0) >= MAX_IN_FLIGHT_PER_ENDPOINT
      ) {
        busy.add(key);
        remaining.push(job);
        continue;
      }
      busy.add(key);
      this.start(job, key);
    }
    this.queue = remaining;
    this.armPump(nextAt);
    this.notifyIfIdle();
  }

  private armPump(at: number): void {
    if (at === Number.POSITIVE_INFINITY || at >= this.pumpAt) return;
    clearTimeout(this.pumpTimer);
    this.pumpAt = at;
    this.pumpTimer = setTimeout(
      () => {
        this.pumpAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private start(job: Job, key: string): void {
    this.inFlightGroups.add(key);
    this.inFlight.set(job.endpointId, (this.inFlight.get(job.endpointId) ?? 0) + 1);
    const generation = this.generation;
    void this.send(job).then(({ ok }) => {
      this.inFlightGroups.delete(key);
      const count = (this.inFlight.get(job.endpointId) ?? 1) - 1;
      if (count === 0) this.inFlight.delete(job.endpointId);
      else this.inFlight.set(job.endpointId, count);
      if (generation === this.generation && !this.stopped) {
        if (ok) {
          const deliveredKey = `${job.eventId}|${job.endpointId}`;
          if (!this.delivered.has(deliveredKey)) {
            this.delivered.add(deliveredKey);
            this.options.onDelivered(job.eventId, job.endpointId);
          }
        } else {
          const wait = this.settingsValue.retryDelaysMs[job.attempt - 1];
          if (wait !== undefined) {
            this.queue.push({
              ...job,
              seq: this.seq++,
              attempt: job.attempt + 1,
              readyAt: Date.now() + wait,
            });
          }
        }
      }
      this.pump();
    });
  }

  private async send(job: Job): Promise<{ ok: boolean }> {
    const endpoint = this.options.endpoint(job.endpointId);
    if (endpoint === undefined) return { ok: true };
    const started = Date.now();
    const header = signatureHeader(job.payload, endpoint.secret, Math.floor(started / 1000));
    const result = await post(endpoint.url, job.payload, header, this.settingsValue.timeoutMs, this.agents);
    this.record({
      eventId: job.eventId,
      eventType: job.eventType,
      endpointId: job.endpointId,
      url: endpoint.url,
      attempt: job.attempt,
      duplicate: job.duplicate,
      status: result.status,
      error: result.error,
      durationMs: Date.now() - started,
      at: new Date(started).toISOString(),
    });
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    if (!ok && !this.stopped) {
      const outcome = result.status === null ? result.error : `HTTP ${result.status}`;
      const last = this.settingsValue.retryDelaysMs[job.attempt - 1] === undefined;
      this.options.warn(
        `delivery of ${job.eventType} ${job.eventId} to ${endpoint.url} failed (${outcome}), attempt ${job.attempt}${last ? ", giving up" : ", will retry"}`,
      );
    }
    return { ok };
  }

  private record(attempt: DeliveryAttempt): void {
    this.log.push(attempt);
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
  }

  private notifyIfIdle(): void {
    if (this.pending !== 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }
}

function post(
  url: string,
  payload: string,
  signature: string,
  timeoutMs: number,
  agents: { http: http.Agent; https: https.Agent },
): Promise<{ status: number | null; error: string | null }> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ status: null, error: "invalid URL" });
      return;
    }
    const secure = target.protocol === "https:";
    const request = (secure ? https : http).request(
      target,
      {
        method: "POST",
        agent: secure ? agents.https : agents.http,
        timeout: timeoutMs,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "content-length": Buffer.byteLength(payload),
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          "stripe-signature": signature,
          "cache-control": "no-cache",
          accept: "*/*; q=0.5, application/xml",
        },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve({ status: response.statusCode ?? null, error: null }));
        response.on("error", (error) => resolve({ status: null, error: error.message }));
      },
    );
    request.on("timeout", () => request.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    request.on("error", (error) => resolve({ status: null, error: error.message }));
    request.end(payload);
  });
}
