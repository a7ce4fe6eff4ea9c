/**
 * One chaos run, end to end: its own local stack on free ports; M customers playing seeded
 * lifecycles through the Stripe simulator while the monkey misbehaves (duplicates, reordering,
 * delays, integrator.io 5xx / lost answers / late commits / 429 bursts, worker kills, a poller
 * restart); then faults cleared, the queue drained, every late-commit window closed, one repairing
 * reconcile; then every customer judged against Stripe's final state, and the inbox and the DLQ
 * checked.
 */
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import Stripe from "stripe";
import { mayLandUntil } from "#lib/engine/converge.ts";
import { loadCatalogFile } from "#lib/licensing/catalog-file.ts";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import type { InboxEvent, InboxStatus } from "#lib/store/inbox.ts";
import {
  type StripeSubscription,
  stripeCustomerSchema,
  stripeSubscriptionSchema,
} from "#lib/stripe/schemas.ts";
import { adminApi } from "#test/helpers/admin-api.ts";
import { connectorLicenses, startTestStack, type TestStack } from "#test/helpers/local-stack.ts";
import { CONNECTOR, storeOf } from "#test/helpers/provisioning.ts";
import {
  ADDON_PRICE,
  createAccount,
  EDITION_PRICES,
  type PlayedCustomer,
  type PlayerContext,
  planCustomer,
  playCustomer,
} from "./lifecycle.ts";
import { ChaosMonkey, DEFAULT_MONKEY, type MonkeyCounts, type MonkeyOptions } from "./monkey.ts";
import { createRng } from "./prng.ts";
import { type CustomerTruth, judgeCustomer, licensesByCustomer, type Verdict } from "./verify.ts";

export interface ChaosOptions {
  customers: number;
  seed: number;
  /** Worker processes (Lambda concurrency of the queue function). */
  workers?: number;
  /** Customers whose lifecycles are played at once. */
  concurrency?: number;
  /** The queue's visibility timeout: how long a killed batch waits before it is received again. */
  visibilityTimeoutSeconds?: number;
  /** The worker's (Lambda) timeout, under the visibility timeout as in AWS. */
  workerTimeoutSeconds?: number;
  /** The stack's `LATE_COMMIT_WINDOW_SECONDS` (default `DEFAULT_LATE_COMMIT_WINDOW_SECONDS`). */
  lateCommitWindowSeconds?: number;
  monkey?: Partial<MonkeyOptions>;
  log?: (line: string) => void;
}

export interface ChaosCounts {
  customers: number;
  /** Distinct Stripe events delivered (or attempted). */
  events: number;
  /** Deliveries Stripe sent twice. */
  duplicates: number;
  faults: number;
  lost: number;
  doubled: number;
  wrong: number;
  /** Inbox events neither processed nor ignored, and not in the DLQ with a reason. */
  unsettled: number;
  /** DLQ messages whose event has neither a recorded failure reason nor the status `processed`. */
  dlqUnexplained: number;
  /**
   * DLQ messages of events the inbox shows processed: done at least once, but their batch was lost
   * (worker killed) often enough to reach maxReceiveCount. Reported, not a failure: redriving one
   * only repeats work.
   */
  dlqProcessed: number;
  /** Customers whose lifecycle could not be played (a problem of the suite or the Stripe simulator). */
  playerErrors: number;
}

export interface ChaosResult {
  seed: number;
  customers: number;
  seconds: number;
  ok: boolean;
  summary: string;
  counts: ChaosCounts;
  faults: MonkeyCounts;
  /** Batches the worker did not finish: killed by the monkey or by the worker timeout. */
  batches: { timedOut: number; otherwiseFailed: number };
  deliveries: { attempts: number; failedAttempts: number; undelivered: number };
  inbox: Record<InboxStatus, number>;
  dlq: {
    eventId: string | null;
    status: string | null;
    reason: string | null;
    receiveCount: number | null;
  }[];
  lateCommits: {
    /** The stack's late-commit window. */
    windowSeconds: number;
    /** Records still `creating` with their window open once the queue had drained, and how long the run waited for them. */
    openAfterDrain: number;
    waitedSeconds: number;
    /** Records still `creating` with their window open when reconcile started (0 unless the wait gave up). */
    openAtReconcile: number;
  };
  reconcile: {
    runId: string;
    state: string;
    counts: Record<string, number>;
    error?: string;
    /** Its findings (what the worker had left for reconcile to repair or report). */
    items?: { kind: string; customerId: string | null; licenseId?: string; detail: string }[];
  };
  /** Licenses in integrator.io per customer (how many customers hold 1, 2, ... licenses, expired ones included). */
  licensesPerCustomer: Record<string, number>;
  outcomes: Record<string, number>;
  /** What the lifecycles did: how many customers per purchase kind, and how many times each step ran or was skipped. */
  lifecycles: Record<string, number>;
  phases: Record<string, number>;
  failures: (Verdict & { played: string[]; diagnosis?: Diagnosis })[];
  unsettledEvents: { eventId: string; type: string; status: string; reason?: string; customerId?: string }[];
  playerErrors: { label: string; customerId: string; error: string }[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The chaos stack's late-commit window (AWS: 300 s). Comfortably longer than the latest late
 * commit the monkey injects (3 s by default), so a create whose answer was lost is never created
 * again before its license could land, and long enough to outlast one redelivery (the 15 s
 * visibility timeout): a lost create is looked for on the attempt that lost it, again on the next
 * delivery, still within its window (left `creating`), and only the one after creates again — the
 * whole path runs. Short enough for the run: 20 s holds a customer's events back for about two
 * redeliveries, well within maxReceiveCount (5) × the visibility timeout, and after the queue
 * drains the run waits at most this long before its reconcile.
 */
export const DEFAULT_LATE_COMMIT_WINDOW_SECONDS = 20;

/** Runs `task` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await task(items[next++] as T);
    }),
  );
}

/**
 * Every delivery attempt of the Stripe simulator, polled from its (bounded) log often enough that
 * none is missed: distinct events, duplicate copies, failed attempts.
 */
class DeliveryTally {
  private seen = new Set<string>();
  private events = new Set<string>();
  private delivered = new Set<string>();
  duplicates = 0;
  attempts = 0;
  failedAttempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();

  constructor(private readonly stripeUrl: string) {}

  start(): void {
    const tick = () => {
      this.polling = this.poll()
        .catch(() => undefined)
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, 1000);
        });
    };
    this.timer = setTimeout(tick, 1000);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    await this.poll();
  }

  get eventCount(): number {
    return this.events.size;
  }

  get undelivered(): number {
    return [...this.events].filter((id) => !this.delivered.has(id)).length;
  }

  private async poll(): Promise<void> {
    const response = await fetch(`${this.stripeUrl}/_sim/deliveries?limit=2000`);
    const { data } = (await response.json()) as {
      data: {
        eventId: string;
        attempt: number;
        duplicate: boolean;
        status: number | null;
        at: string;
        endpointId: string;
      }[];
    };
    for (const a of data) {
      const key = `${a.eventId}|${a.endpointId}|${a.attempt}|${a.duplicate}|${a.at}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.attempts++;
      this.events.add(a.eventId);
      if (a.duplicate && a.attempt === 1) this.duplicates++;
      if (a.status !== null && a.status >= 200 && a.status < 300) this.delivered.add(a.eventId);
      else this.failedAttempts++;
    }
  }
}

async function queueDepth(stack: TestStack, sqs: ReturnType<typeof createSqsClient>): Promise<number> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Waits until Stripe has nothing left to deliver and the queue is empty (twice in a row); false on timeout. */
async function drained(
  stack: TestStack,
  sqs: ReturnType<typeof createSqsClient>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (Date.now() < deadline) {
    const delivery = (await (await fetch(`${stack.urls.stripe}/_sim/delivery`)).json()) as {
      pending: number;
    };
    const depth = await queueDepth(stack, sqs);
    quiet = delivery.pending === 0 && depth === 0 ? quiet + 1 : 0;
    if (quiet >= 2) return true;
    await sleep(1000);
  }
  return false;
}

async function reconcileOnce(stack: TestStack, timeoutMs: number): Promise<ChaosResult["reconcile"]> {
  const started = await adminApi<{ runId: string }>(stack, "POST", "/admin/reconcile", { dryRun: false });
  if (started.status !== 202)
    throw new Error(`POST /admin/reconcile: ${started.status} ${JSON.stringify(started.body)}`);
  const { runId } = started.body;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const run = await adminApi<{
      state: string;
      counts: Record<string, number>;
      error?: string;
      items?: { kind: string; customerId: string | null; licenseId?: string; detail: string }[];
    }>(stack, "GET", `/admin/reconcile/${runId}`);
    if (run.body.state !== "running")
      return {
        runId,
        state: run.body.state,
        counts: run.body.counts,
        ...(run.body.error ? { error: run.body.error } : {}),
        items: (run.body.items ?? []).map(({ kind, customerId, licenseId, detail }) => ({
          kind,
          customerId,
          ...(licenseId ? { licenseId } : {}),
          detail,
        })),
      };
    await sleep(500);
  }
  return { runId, state: "timeout", counts: {} };
}

/** Stripe's final state of every played customer (retrieved by id: clock subscriptions may be missing from lists). */
async function stripeTruth(stack: TestStack, played: PlayedCustomer[]): Promise<CustomerTruth[]> {
  const truths: CustomerTruth[] = [];
  await pool(played, 16, async (p) => {
    if (!p.customerId) return;
    const customer = stripeCustomerSchema.parse(
      JSON.parse(JSON.stringify(await stack.stripe.customers.retrieve(p.customerId))),
    );
    const subscriptions: StripeSubscription[] = [];
    for (const id of p.subscriptionIds) {
      const raw = JSON.parse(JSON.stringify(await stack.stripe.subscriptions.retrieve(id))) as Record<
        string,
        unknown
      >;
      subscriptions.push(stripeSubscriptionSchema.parse(raw));
    }
    truths.push({
      customerId: p.customerId,
      label: p.plan.label,
      customer: { id: p.customerId, email: customer.email ?? null, metadata: customer.metadata ?? {} },
      subscriptions,
      emails: p.emails,
    });
  });
  return truths;
}

/** Runs the whole chaos scenario; never leaves the stack running. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const phases: Record<string, number> = {};
  let mark = started;
  const phase = (name: string) => {
    const now = Date.now();
    phases[name] = Math.round((now - mark) / 100) / 10;
    mark = now;
    log(`chaos: ${name} done in ${phases[name]} s`);
  };
  const rng = createRng(options.seed);
  const monkeyOptions: MonkeyOptions = { ...DEFAULT_MONKEY, ...options.monkey };
  const windowSeconds = options.lateCommitWindowSeconds ?? DEFAULT_LATE_COMMIT_WINDOW_SECONDS;
  if (monkeyOptions.lateCommitRate > 0 && monkeyOptions.lateCommitMs[1] >= windowSeconds * 1000)
    log(
      `chaos: late commits of up to ${monkeyOptions.lateCommitMs[1]} ms may land after the ${windowSeconds} s late-commit window: the engine creates again first, and only reconcile can expire the second license`,
    );
  let batchTimeouts = 0;
  let failedBatches = 0;
  log(`chaos: seed=${options.seed} customers=${options.customers}`);

  const stack = await startTestStack(
    // The late-commit window: see DEFAULT_LATE_COMMIT_WINDOW_SECONDS.
    { LOG_LEVEL: "SILENT", LATE_COMMIT_WINDOW_SECONDS: String(windowSeconds) },
    {
      // AWS: 60 s worker timeout under a 360 s visibility timeout. Shorter here, so a killed batch
      // comes back within seconds, and still never received twice while it runs.
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 15,
      workerTimeoutSeconds: options.workerTimeoutSeconds ?? 10,
      workerConcurrency: options.workers ?? 4,
      log: (line) => {
        if (line.includes("timed out")) batchTimeouts++;
        else if (line.includes("batch of")) failedBatches++;
      },
      pollWaitSeconds: 1,
      // Only the run's own reconcile: a scheduled one would race it.
      scheduleIntervalMs: 24 * 3600_000,
    },
  );
  const sqs = createSqsClient(stack.config);
  const tally = new DeliveryTally(stack.urls.stripe);
  const poller = stack.poller;
  if (!poller) throw new Error("the local stack has no queue poller");
  const monkey = new ChaosMonkey(
    { integratorOrigin: stack.integratorOrigin, stripeUrl: stack.urls.stripe, poller, log },
    rng.fork("monkey"),
    monkeyOptions,
  );
  try {
    phase("stack");
    const catalog = await loadCatalogFile(stack.config.catalogPath);
    const priceIds: Record<string, string> = { [ADDON_PRICE]: ADDON_PRICE };
    for (const ref of Object.values(EDITION_PRICES).flatMap((e) => Object.values(e))) {
      if (ref.startsWith("price_")) priceIds[ref] = ref;
      else {
        const [price] = (await stack.stripe.prices.list({ lookup_keys: [ref] })).data;
        if (!price) throw new Error(`no Stripe price with lookup key ${ref}`);
        priceIds[ref] = price.id;
      }
    }
    const runTag = options.seed.toString(36);
    const plans = Array.from({ length: options.customers }, (_, i) =>
      planCustomer(rng.fork(`customer-${i}`), i, runTag),
    );
    const timing = rng.fork("timing");
    const context: PlayerContext = {
      // Its own client, retrying a dropped connection (with the SDK's idempotency keys) under load.
      stripe: new Stripe(stack.env.STRIPE_SECRET_KEY ?? "sk_test_local", {
        host: new URL(stack.urls.stripe).hostname,
        port: Number(new URL(stack.urls.stripe).port),
        protocol: "http",
        maxNetworkRetries: 2,
      }),
      stripeUrl: stack.urls.stripe,
      integratorOrigin: stack.integratorOrigin,
      priceIds,
      accounts: new Set(),
      nowSeconds: Math.floor(Date.now() / 1000),
      pause: () => sleep(timing.int(0, 300)),
    };

    tally.start();
    await monkey.start();
    const restartAfter = Math.max(1, Math.round(options.customers * rng.between(0.3, 0.7)));
    const played: PlayedCustomer[] = [];
    const concurrency = options.concurrency ?? Math.min(16, Math.max(4, Math.ceil(options.customers / 4)));
    await pool(plans, concurrency, async (plan) => {
      played.push(await playCustomer(plan, context));
      if (played.length === restartAfter) void monkey.restartPoller();
      if (played.length % 100 === 0) log(`chaos: ${played.length}/${options.customers} customers played`);
    });
    await monkey.restartPoller();
    phase("lifecycles");

    // The backlog is worked off under the same faults (up to three times as long as the lifecycles took).
    await drained(stack, sqs, Math.max(30_000, 3 * (phases.lifecycles ?? 0) * 1000));
    await monkey.stop();
    phase("chaos tail");

    const drainMs = 15 * 60_000 + options.customers * 500;
    if (!(await drained(stack, sqs, drainMs)))
      log(`chaos: the queue did not drain within ${Math.round(drainMs / 60_000)} minutes`);
    phase("drain");

    // The buyers who create their integrator.io account only now: no event will come; reconcile retries their pending license.
    for (const p of played.filter((p) => p.plan.account === "after"))
      await createAccount(context, p.licenseEmail);

    // A create whose license may still land is left by reconcile to a next run (this run has none):
    // the run's one reconcile starts once every such window has closed.
    const windowMs = windowSeconds * 1000;
    const lateCommits = await lateCommitWindowsClosed(stack, windowMs, windowMs + 60_000);
    if (lateCommits.openAfterDrain > 0)
      log(
        `chaos: waited ${lateCommits.waitedSeconds} s for ${lateCommits.openAfterDrain} late-commit window(s) to close`,
      );
    const reconcile = await reconcileOnce(stack, 30 * 60_000);
    await drained(stack, sqs, 5 * 60_000);
    phase("reconcile");

    // Judgement, at the run's end.
    const now = new Date();
    const truths = await stripeTruth(stack, played);
    const listed = (await connectorLicenses(stack, CONNECTOR.id)).map((l) => ({
      _id: l._id,
      email: l.user.email,
      expires: l.expires,
      opts: l.opts as Record<string, unknown>,
    }));
    const { byCustomer } = licensesByCustomer(truths, listed);
    const verdicts = truths.map((t) =>
      judgeCustomer(t, byCustomer.get(t.customerId) ?? [], catalog, CONNECTOR.key, now),
    );
    const outcomes: Record<string, number> = {};
    for (const v of verdicts) {
      const key = `${v.outcome}:${v.expected.state}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    const count = (outcome: Verdict["outcome"]) => verdicts.filter((v) => v.outcome === outcome).length;

    const { inbox } = storeOf(stack);
    // What a failing customer went through, for the report: its events as the inbox holds them.
    const failing = new Map<string, InboxEvent[]>(
      verdicts
        .filter((v) => v.outcome !== "ok")
        .slice(0, MAX_DIAGNOSED)
        .map((v) => [v.customerId, []]),
    );
    const statuses: InboxStatus[] = ["received", "enqueued", "processed", "failed", "ignored"];
    const inboxCounts = Object.fromEntries(statuses.map((s) => [s, 0])) as Record<InboxStatus, number>;
    const notDone: ChaosResult["unsettledEvents"] = [];
    for (const status of statuses) {
      let cursor: string | undefined;
      do {
        const page = await inbox.list({ status, limit: 100, ...(cursor ? { cursor } : {}) });
        inboxCounts[status] += page.items.length;
        for (const e of page.items)
          if (e.customerId && failing.has(e.customerId)) failing.get(e.customerId)?.push(e);
        if (status !== "processed" && status !== "ignored")
          for (const e of page.items)
            notDone.push({
              eventId: e.eventId,
              type: e.type,
              status: e.status,
              ...(e.reason ? { reason: e.reason } : {}),
              ...(e.customerId ? { customerId: e.customerId } : {}),
            });
        cursor = page.nextCursor;
      } while (cursor);
    }
    const dlq = await readDeadLetters(stack, sqs, inbox);
    const explained = new Set(dlq.filter((d) => d.status === "failed" && d.reason).map((d) => d.eventId));
    const unsettled = notDone.filter((e) => !explained.has(e.eventId));
    phase("verify");

    const playerErrors = played
      .filter((p) => p.error)
      .map((p) => ({ label: p.plan.label, customerId: p.customerId, error: p.error ?? "" }));
    await tally.stop();
    const counts: ChaosCounts = {
      customers: options.customers,
      events: tally.eventCount,
      duplicates: tally.duplicates,
      faults: monkey.total,
      lost: count("lost"),
      doubled: count("doubled"),
      wrong: count("wrong"),
      unsettled: unsettled.length,
      dlqUnexplained: dlq.filter((d) => !(d.status === "failed" && d.reason) && d.status !== "processed")
        .length,
      dlqProcessed: dlq.filter((d) => d.status === "processed").length,
      playerErrors: playerErrors.length,
    };
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const summary = `chaos: customers=${counts.customers} events=${counts.events} duplicates=${counts.duplicates} faults=${counts.faults} lost=${counts.lost} doubled=${counts.doubled} wrong=${counts.wrong}`;
    const byLabel = new Map(played.map((p) => [p.customerId, p.played]));
    return {
      seed: options.seed,
      customers: options.customers,
      seconds,
      ok: Object.entries(counts).every(
        ([key, value]) =>
          ["customers", "events", "duplicates", "faults", "dlqProcessed"].includes(key) || value === 0,
      ),
      summary,
      counts,
      faults: monkey.counts,
      lateCommits: { windowSeconds, ...lateCommits },
      batches: { timedOut: batchTimeouts, otherwiseFailed: failedBatches },
      deliveries: {
        attempts: tally.attempts,
        failedAttempts: tally.failedAttempts,
        undelivered: tally.undelivered,
      },
      inbox: inboxCounts,
      dlq,
      reconcile,
      outcomes,
      lifecycles: lifecycleStats(played),
      licensesPerCustomer: histogram([...byCustomer.values()].map((licenses) => licenses.length)),
      phases,
      failures: await Promise.all(
        verdicts
          .filter((v) => v.outcome !== "ok")
          .map(async (v) => ({
            ...v,
            played: byLabel.get(v.customerId) ?? [],
            ...(failing.has(v.customerId)
              ? {
                  diagnosis: await diagnose(
                    stack,
                    v.customerId,
                    reconcile.runId,
                    failing.get(v.customerId) ?? [],
                  ),
                }
              : {}),
          })),
      ),
      unsettledEvents: unsettled,
      playerErrors,
    };
  } finally {
    await monkey.stop().catch(() => undefined);
    await tally.stop().catch(() => undefined);
    sqs.destroy();
    await stack.stop();
  }
}

const histogram = (values: number[]) => {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
};

/** License records left `creating` whose create may still land (`mayLandUntil` ahead of `now`). */
async function openLateCommitWindows(stack: TestStack, windowMs: number, now: number): Promise<number[]> {
  const { licenses } = storeOf(stack);
  const until: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await licenses.list({ state: "creating", limit: 100, ...(cursor ? { cursor } : {}) });
    for (const record of page.items) {
      const closes = mayLandUntil(record, windowMs);
      if (closes > now) until.push(closes);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return until;
}

/**
 * Waits (at most `limitMs`) until no license record is left `creating` with its late-commit window
 * open — its event in the DLQ, or its customer without a later event.
 */
async function lateCommitWindowsClosed(
  stack: TestStack,
  windowMs: number,
  limitMs: number,
): Promise<Omit<ChaosResult["lateCommits"], "windowSeconds">> {
  const started = Date.now();
  const first = await openLateCommitWindows(stack, windowMs, started);
  let open = first;
  while (open.length > 0 && Date.now() - started < limitMs) {
    const last = open.reduce((a, b) => Math.max(a, b), 0);
    await sleep(Math.min(last - Date.now() + 500, started + limitMs - Date.now()));
    open = await openLateCommitWindows(stack, windowMs, Date.now());
  }
  return {
    openAfterDrain: first.length,
    waitedSeconds: Math.round((Date.now() - started) / 100) / 10,
    openAtReconcile: open.length,
  };
}

/** Failing customers diagnosed in detail (the first ones). */
const MAX_DIAGNOSED = 20;

/** What the store and the final reconcile say about a failing customer. */
export interface Diagnosis {
  /** `GET /admin/customers/{id}`: profile, subscriptions, license records, audit trail. */
  customer: unknown;
  /** The reconcile run's findings about the customer. */
  reconcile: unknown[];
  /** The customer's events, in Stripe's order (`created`, then arrival). */
  events: {
    eventId: string;
    type: string;
    created: number;
    status: string;
    attempts: number;
    receivedAt: string;
    updatedAt: string;
    reason?: string;
    snapshot?: unknown;
  }[];
}

async function diagnose(
  stack: TestStack,
  customerId: string,
  runId: string,
  events: InboxEvent[],
): Promise<Diagnosis> {
  const customer = await adminApi(stack, "GET", `/admin/customers/${customerId}`);
  const run = await adminApi<{ items?: { customerId: string | null }[] }>(
    stack,
    "GET",
    `/admin/reconcile/${runId}`,
  );
  return {
    customer: customer.body,
    reconcile: (run.body.items ?? []).filter((item) => item.customerId === customerId),
    events: events
      .sort((a, b) => a.created - b.created || a.receivedAt.localeCompare(b.receivedAt))
      .map((e) => {
        const object =
          (JSON.parse(e.payload) as { data?: { object?: Record<string, unknown> } }).data?.object ?? {};
        const items = (
          object.items as
            | { data?: { price?: { id?: string }; quantity?: number; current_period_end?: number }[] }
            | undefined
        )?.data;
        return {
          eventId: e.eventId,
          type: e.type,
          created: e.created,
          status: e.status,
          attempts: e.attempts,
          receivedAt: e.receivedAt,
          updatedAt: e.updatedAt,
          ...(e.reason ? { reason: e.reason } : {}),
          ...(items
            ? {
                snapshot: {
                  status: object.status,
                  metadata: object.metadata,
                  cancelAtPeriodEnd: object.cancel_at_period_end,
                  items: items.map((i) => `${i.price?.id}×${i.quantity} → ${i.current_period_end}`),
                },
              }
            : {}),
        };
      }),
  };
}

/** How often each kind of lifecycle step ran (or was skipped), and the account timings. */
function lifecycleStats(played: PlayedCustomer[]): Record<string, number> {
  const stats: Record<string, number> = {};
  const add = (key: string) => {
    stats[key] = (stats[key] ?? 0) + 1;
  };
  for (const p of played) {
    add(`account:${p.plan.account}`);
    if (p.plan.integratorEmail) add("integratorEmail");
    for (const step of p.played)
      add(
        step
          .replace(/\(.*\)$/, "")
          .replace(/^purchase:.*$/, `purchase:${p.plan.interval}${p.plan.trialDays ? ":trial" : ""}`),
      );
  }
  return Object.fromEntries(Object.entries(stats).sort(([a], [b]) => a.localeCompare(b)));
}

/** Everything in the DLQ (consumed: the run is over), with its inbox event's status and reason. */
async function readDeadLetters(
  stack: TestStack,
  sqs: ReturnType<typeof createSqsClient>,
  inbox: ReturnType<typeof storeOf>["inbox"],
): Promise<ChaosResult["dlq"]> {
  const found: ChaosResult["dlq"] = [];
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 300,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    empty = Messages.length === 0 ? empty + 1 : 0;
    for (const message of Messages) {
      let eventId: string | null = null;
      try {
        eventId = (JSON.parse(message.Body ?? "") as { eventId?: string }).eventId ?? null;
      } catch {
        eventId = null;
      }
      const event = eventId ? await inbox.get(eventId) : undefined;
      found.push({
        eventId,
        status: event?.status ?? null,
        reason: event?.reason ?? null,
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0) || null,
      });
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: stack.dlqUrl, ReceiptHandle: message.ReceiptHandle ?? "" }),
      );
    }
  }
  return found;
}
