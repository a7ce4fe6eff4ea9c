import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as reconcileFunction from "#functions/reconcile.ts";
import { executeRun, REPAIR_LEASE, REPAIR_LEASE_MS } from "#lib/reconcile/run.ts";
import { loadEnvironment } from "#lib/runtime.ts";
import { emptyCounts } from "#lib/store/reconcile-runs.ts";
import { adminApi, CONNECTOR, licensesOf, purchase, storeOf, uniqueEmail } from "#test/helpers/admin-api.ts";
import {
  createIntegratorUser,
  eventually,
  simControl,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";

// Ten operators pressing the same button at once: exactly one of them wins, the others are told
// who did, and nothing is done twice.

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(async () => {
  await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", {});
});

type ApiError = { error: { code: string; message: string; details?: Record<string, unknown>[] } };

/**
 * integrator.io answering slowly keeps the winner's work going while the nine others arrive, so
 * "at once" holds on a busy machine too.
 */
const slowIntegrator = () => simControl(stack.integratorOrigin, "PUT", "/_sim/faults", { latencyMs: 300 });

const parallel = <T>(count: number, call: (index: number) => Promise<T>) =>
  Promise.all(Array.from({ length: count }, (_, index) => call(index)));

describe("one repairing reconcile run at a time", () => {
  it("starts one of ten concurrent repairing runs (the rest 409, naming it), and frees the lease when it ends", {
    timeout: 90_000,
  }, async () => {
    await slowIntegrator();
    const answers = await parallel(10, () =>
      adminApi<{ runId: string } & ApiError>(stack, "POST", "/admin/reconcile", { dryRun: false }),
    );
    const started = answers.filter((answer) => answer.status === 202);
    expect(answers.map((answer) => answer.status).sort()).toEqual([202, ...Array(9).fill(409)]);
    const runId = started[0]?.body.runId ?? "";
    for (const refused of answers.filter((answer) => answer.status === 409)) {
      expect(refused.body.error.code).toBe("conflict");
      expect(refused.body.error.message).toContain(runId);
      expect(refused.body.error.details).toEqual([
        expect.objectContaining({ runId, leaseExpiresAt: expect.any(String) }),
      ]);
    }
    const listed = await adminApi<{ data: { runId: string; dryRun: boolean }[] }>(
      stack,
      "GET",
      "/admin/reconcile?limit=50",
    );
    expect(listed.body.data.filter((run) => !run.dryRun).map((run) => run.runId)).toEqual([runId]);

    // A dry run needs no lease: it starts while the repair works.
    const dry = await adminApi(stack, "POST", "/admin/reconcile", { dryRun: true });
    expect(dry.status).toBe(202);

    await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", {});
    await eventually(
      async () =>
        (await adminApi<{ state: string }>(stack, "GET", `/admin/reconcile/${runId}`)).body.state === "done",
      { what: "the repairing run to finish", timeoutMs: 60_000, intervalMs: 250 },
    );
    const next = await adminApi<{ runId: string }>(stack, "POST", "/admin/reconcile", { dryRun: false });
    expect(next.status).toBe(202);
    await eventually(
      async () =>
        (await adminApi<{ state: string }>(stack, "GET", `/admin/reconcile/${next.body.runId}`)).body
          .state === "done",
      { what: "the next run to finish", timeoutMs: 60_000, intervalMs: 250 },
    );
  });
});

/** The reconcile function of the stack, as the schedule invokes it, logging at INFO. */
async function reconcileLambda() {
  const deps = await reconcileFunction.createDeps(await loadEnvironment({ ...stack.env, LOG_LEVEL: "INFO" }));
  const scheduled = reconcileFunction.makeHandler(deps);
  return {
    deps,
    schedule: () => scheduled({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} }),
  };
}

/** What `work` logs (the Powertools logger writes JSON lines to stdout). */
async function logsOf<T>(work: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    for (const line of String(chunk).split("\n")) if (line.startsWith("{")) lines.push(JSON.parse(line));
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await work(), lines };
  } finally {
    process.stdout.write = write;
  }
}

describe("the repair lease against the schedule and crashes", () => {
  it("skips the scheduled run while another run holds the lease (logged), and runs it once the lease is free", {
    timeout: 90_000,
  }, async () => {
    const { leases, runs } = storeOf(stack);
    const { schedule } = await reconcileLambda();
    await leases.take(REPAIR_LEASE, "run-repairing", REPAIR_LEASE_MS);
    const before = (await runs.list(50)).items.length;
    const skipped = await logsOf(schedule);
    expect(skipped.result).toBeUndefined();
    expect(skipped.lines).toContainEqual(
      expect.objectContaining({
        message: "another reconcile run holds the repair lease; skipping this one",
        runId: "run-repairing",
      }),
    );
    expect((await runs.list(50)).items).toHaveLength(before);

    await leases.release(REPAIR_LEASE, "run-repairing");
    const ran = await schedule();
    expect(ran).toMatchObject({ state: "done", dryRun: false, trigger: "schedule" });
    expect(await leases.holder(REPAIR_LEASE)).toBeUndefined();
  });

  it("lets a repairing run start once a crashed run's lease has lapsed", { timeout: 90_000 }, async () => {
    // The crashed run took its lease REPAIR_LEASE_MS and a second ago, and never freed it.
    const takenBefore = Date.now() - REPAIR_LEASE_MS - 1000;
    await storeOf(stack, () => takenBefore).leases.take(REPAIR_LEASE, "run-crashed", REPAIR_LEASE_MS);
    const started = await adminApi<{ runId: string }>(stack, "POST", "/admin/reconcile", { dryRun: false });
    expect(started.status).toBe(202);
    await eventually(
      async () =>
        (await adminApi<{ state: string }>(stack, "GET", `/admin/reconcile/${started.body.runId}`)).body
          .state === "done",
      { what: "the run to finish", timeoutMs: 60_000, intervalMs: 250 },
    );
  });

  it("fails a requested run that finds another run holding the lease when it starts, doing nothing", {
    timeout: 30_000,
  }, async () => {
    const { leases, runs } = storeOf(stack);
    const { deps } = await reconcileLambda();
    // Recorded by a request whose lease lapsed before the bus delivered it; another run took the lease.
    const waited = await runs.create({
      runId: `run-delayed-${Date.now()}`,
      dryRun: false,
      trigger: "admin",
      startedAt: new Date().toISOString(),
      counts: emptyCounts(),
    });
    await leases.take(REPAIR_LEASE, "run-meanwhile", REPAIR_LEASE_MS);
    try {
      const ended = await executeRun(waited.runId, deps);
      expect(ended).toMatchObject({
        state: "failed",
        itemCount: 0,
        error: "run run-meanwhile was repairing; this one never started",
      });
      expect((await leases.holder(REPAIR_LEASE))?.holder).toBe("run-meanwhile");
    } finally {
      await leases.release(REPAIR_LEASE, "run-meanwhile");
    }
  });
});

/**
 * Waits until every Stripe event of the customer (`atLeast` of them) is processed: a worker still
 * on an event of the purchase would converge the customer on what it read before the transfer.
 */
const eventsSettled = (customerId: string, atLeast: number) =>
  eventually(
    async () => {
      // The event list has no customer filter: the newest page, this customer's events in it.
      const page = await adminApi<{ data: { status: string; customerId?: string }[] }>(
        stack,
        "GET",
        "/admin/events?limit=100",
      );
      const theirs = page.body.data.filter((e) => e.customerId === customerId);
      return (
        theirs.length >= atLeast && theirs.every((e) => e.status === "processed" || e.status === "ignored")
      );
    },
    { what: "the customer's events to be processed" },
  );

type License = { email: string; state: string; licenseId: string; customerId: string };
const transferPath = (customerId: string) =>
  `/admin/customers/${customerId}/licenses/${CONNECTOR.key}/transfer`;

/**
 * Ten transfers of the customer's license at once, to ten emails with integrator.io accounts:
 * exactly one moves it, the nine others are 409s naming the email it goes to and the one it is on
 * (`from` while the winner works, the winner's once it is done). Answers the winner's license.
 */
async function tenTransfersAtOnce(customerId: string, from: string) {
  const targets = Array.from({ length: 10 }, (_, index) => uniqueEmail(`race-to-${index}`));
  for (const target of targets) await createIntegratorUser(stack, target);
  await eventsSettled(customerId, 3);

  await slowIntegrator();
  const answers = await parallel(10, (index) =>
    adminApi<License & ApiError>(stack, "POST", transferPath(customerId), { email: targets[index] }),
  );
  await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", {});
  expect(answers.map((answer) => answer.status).sort()).toEqual([200, ...Array(9).fill(409)]);
  const won = answers.find((answer) => answer.status === 200)?.body as License;
  expect(targets).toContain(won.email);
  expect(won).toMatchObject({ state: "active", customerId });
  for (const refused of answers.filter((answer) => answer.status === 409)) {
    expect(refused.body.error.code).toBe("conflict");
    expect(refused.body.error.message).toContain(won.email);
    const [detail] = refused.body.error.details ?? [];
    expect(detail?.transferringTo).toBe(won.email);
    expect([from, won.email]).toContain(detail?.email);
  }
  return { won, losers: targets.filter((target) => target !== won.email) };
}

/**
 * Stripe's `metadata.integrator_email`, the stored license and integrator.io all name the winner's
 * email, also once the metadata change's own webhook is processed; the losers have no license.
 */
async function allAgreeOn(customerId: string, subscriptionId: string, won: License, losers: string[]) {
  await eventually(
    async () =>
      (await storeOf(stack).customers.subscription(customerId, subscriptionId))?.snapshot.metadata
        .integrator_email === won.email,
    { what: "the stored subscription to carry the winner's email" },
  );
  await eventsSettled(customerId, 4);
  expect((await stack.stripe.subscriptions.retrieve(subscriptionId)).metadata.integrator_email).toBe(
    won.email,
  );
  expect(await storeOf(stack).licenses.get(customerId, CONNECTOR.key)).toMatchObject({
    email: won.email,
    state: "active",
    licenseId: won.licenseId,
  });
  const [moved, ...more] = await licensesOf(stack, won.email);
  expect(more).toEqual([]);
  expect(moved?._id).toBe(won.licenseId);
  expect(Date.parse(moved?.expires ?? "")).toBeGreaterThan(Date.now());
  for (const loser of losers) expect(await licensesOf(stack, loser)).toEqual([]);
}

describe("one transfer of a license at a time", () => {
  it("moves a license for one of ten concurrent transfers to ten emails; the rest 409 naming its email; Stripe, store and integrator.io agree", {
    timeout: 120_000,
  }, async () => {
    const { email: from, customer, subscription, license } = await purchase(stack, "race-from");
    const { won, losers } = await tenTransfersAtOnce(customer.id, from);
    await allAgreeOn(customer.id, subscription.id, won, losers);
    const [old] = await licensesOf(stack, from);
    expect(old?._id).toBe(license?._id);
    expect(Date.parse(old?.expires ?? "")).toBeLessThanOrEqual(Date.now());
  });

  it("moves a pending_user license (its email has no integrator.io account) for one of ten concurrent transfers; again to the same email is a 200 that changes nothing", {
    timeout: 120_000,
  }, async () => {
    const { email: from, customer, subscription } = await purchase(stack, "pending-from", { account: false });
    await eventually(
      async () => (await storeOf(stack).licenses.get(customer.id, CONNECTOR.key))?.state === "pending_user",
      { what: "the pending_user license" },
    );
    const { won, losers } = await tenTransfersAtOnce(customer.id, from);
    await allAgreeOn(customer.id, subscription.id, won, losers);
    expect(await licensesOf(stack, from)).toEqual([]);

    const again = await adminApi<License>(stack, "POST", transferPath(customer.id), { email: won.email });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ email: won.email, state: "active", licenseId: won.licenseId });
    expect(await licensesOf(stack, won.email)).toHaveLength(1);
  });
});
