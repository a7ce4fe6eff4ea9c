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
  /**
   * Concurrent deliveries per endpoint (across customers). Stripe sends events as they happen
   * without such a small cap; the default keeps tests' traffic modest, and a benchmark raises it
   * so delivery is not what it measures.
   */
  maxInFlight: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  duplicateRate: 0,
  reorderWindowMs: 0,
  delayMs: 0,
  paused: false,
  // Stripe retries for 3 days; locally a few quick attempts surface failures fast.
  retryDelaysMs: [250, 1000, 4000],
  timeoutMs: 10_000,
  maxInFlight: 8,
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

/** A queue with O(1) shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * Deliveries wait in one FIFO per (endpoint, group); a group with nothing in flight is
 * "runnable". Jobs not due yet (a delay, a retry) wait in `delayed`, ordered by due time, and join
 * the end of their group's FIFO when due, so a retry never holds back later events.
 */
export class Delivery {
  private settingsValue: DeliverySettings = structuredClone(DEFAULT_DELIVERY_SETTINGS);
  private readonly groups = new Map<string, Fifo<Job>>();
  private readonly runnable = new Map<string, Fifo<string>>();
  private readonly runnableGroups = new Set<string>();
  private readonly inFlightGroups = new Set<string>();
  private readonly inFlightPerEndpoint = new Map<string, number>();
  private delayed: Job[] = [];
  private held: Job[] = [];
  private queued = 0;
  private inFlight = 0;
  private heldTimer: NodeJS.Timeout | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  private pumpAt = Number.POSITIVE_INFINITY;
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
    if (this.settingsValue.reorderWindowMs === 0) this.releaseHeld();
    if (wasPaused && !this.settingsValue.paused) this.pump();
    else if (changes.maxInFlight !== undefined) this.pump();
    return this.settings;
  }

  /** Deliveries waiting, held, delayed, retrying or in flight. */
  get pending(): number {
    return this.queued + this.delayed.length + this.held.length + this.inFlight;
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
        else this.schedule(job, now);
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

  /** Drops every pending delivery, the log and the settings (in-flight requests finish but are not retried). */
  clear(): void {
    this.generation++;
    this.groups.clear();
    this.runnable.clear();
    this.runnableGroups.clear();
    this.delayed = [];
    this.held = [];
    this.queued = 0;
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
    if (shuffled.length > 1 && shuffled.every((job, index) => job === batch[index])) {
      shuffled.push(shuffled.shift() as Job);
    }
    const now = Date.now();
    for (const job of shuffled) {
      job.seq = this.seq++;
      job.readyAt = Math.max(job.readyAt, now);
      this.schedule(job, now);
    }
    this.pump();
  }

  /** Puts a job in its group's FIFO when due, else among the delayed ones (kept sorted by due time). */
  private schedule(job: Job, now: number): void {
    if (job.readyAt <= now) {
      this.enqueueReady(job);
      return;
    }
    let index = this.delayed.length;
    while (index > 0 && (this.delayed[index - 1] as Job).readyAt > job.readyAt) index--;
    this.delayed.splice(index, 0, job);
  }

  private enqueueReady(job: Job): void {
    const key = `${job.endpointId}|${job.group}`;
    let fifo = this.groups.get(key);
    if (fifo === undefined) {
      fifo = new Fifo<Job>();
      this.groups.set(key, fifo);
    }
    fifo.push(job);
    this.queued++;
    this.markRunnable(key, job.endpointId);
  }

  private markRunnable(key: string, endpointId: string): void {
    if (this.inFlightGroups.has(key) || this.runnableGroups.has(key) || !this.groups.get(key)?.length) return;
    this.runnableGroups.add(key);
    let keys = this.runnable.get(endpointId);
    if (keys === undefined) {
      keys = new Fifo<string>();
      this.runnable.set(endpointId, keys);
    }
    keys.push(key);
  }

  private pump(): void {
    if (this.stopped) return;
    if (this.settingsValue.paused) {
      this.notifyIfIdle();
      return;
    }
    const now = Date.now();
    while (this.delayed.length > 0 && (this.delayed[0] as Job).readyAt <= now) {
      this.enqueueReady(this.delayed.shift() as Job);
    }
    for (const [endpointId, keys] of this.runnable) {
      while (
        keys.length > 0 &&
        (this.inFlightPerEndpoint.get(endpointId) ?? 0) < this.settingsValue.maxInFlight
      ) {
        const key = keys.shift() as string;
        this.runnableGroups.delete(key);
        const fifo = this.groups.get(key);
        const job = fifo?.shift();
        if (fifo !== undefined && fifo.length === 0) this.groups.delete(key);
        if (job === undefined) continue;
        this.queued--;
        this.start(job, key);
      }
    }
    this.armPump(this.delayed[0]?.readyAt ?? Number.POSITIVE_INFINITY);
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
    this.inFlight++;
    this.inFlightPerEndpoint.set(job.endpointId, (this.inFlightPerEndpoint.get(job.endpointId) ?? 0) + 1);
    const generation = this.generation;
    void this.send(job).then(({ ok }) => {
      this.inFlightGroups.delete(key);
      this.inFlight--;
      this.inFlightPerEndpoint.set(job.endpointId, (this.inFlightPerEndpoint.get(job.endpointId) ?? 1) - 1);
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
            const now = Date.now();
            this.schedule({ ...job, seq: this.seq++, attempt: job.attempt + 1, readyAt: now + wait }, now);
          }
        }
        this.markRunnable(key, job.endpointId);
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
    request.setNoDelay(true);
    request.on("timeout", () => request.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    request.on("error", (error) => resolve({ status: null, error: error.message }));
    request.end(payload);
  });
}
