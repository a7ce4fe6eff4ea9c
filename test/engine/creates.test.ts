import { describe, expect, it } from "vitest";
import { CreateOutcomePendingError } from "#lib/engine/converge.ts";
import { CREATE_IN_FLIGHT_MS, LATE_COMMIT_WINDOW_MS } from "#lib/engine/timing.ts";
import { LicenseConflictError } from "#lib/store/licenses.ts";
import {
  buyer,
  deliver,
  type EngineHarness,
  engineHarness,
  subscribe,
} from "#test/helpers/engine-harness.ts";
import { SHOPIFY } from "#test/unit/licensing/test-catalog.ts";

// A license create is not idempotent: whatever happens to its answer, a customer ends up with
// exactly one license, and the vendor's systems are told about it at least once.

const record = (h: EngineHarness, customerId: string) => h.licenses.get(customerId, SHOPIFY.connectorKey);

async function purchase(h: EngineHarness, label: string) {
  const { customerId, email } = buyer(h, label);
  const sub = subscribe(h, customerId);
  const deliverIt = () => deliver(h, "customer.subscription.created", sub, { id: `evt_${label}` });
  return { customerId, email, sub, deliverIt };
}

describe("a create whose answer is lost", () => {
  it("after integrator.io committed it: the license is found and adopted, never created twice", async () => {
    const h = engineHarness();
    const { customerId, email, deliverIt } = await purchase(h, "lost");
    h.integrator.createFaults.push({ kind: "lostAnswer" });
    await deliverIt();
    expect(h.integrator.creates).toBe(1);
    expect(h.integrator.forEmail(email)).toHaveLength(1);
    expect(await record(h, customerId)).toMatchObject({
      state: "active",
      licenseId: h.integrator.forEmail(email)[0]?._id,
    });
    expect(h.announced.typesFor(customerId)).toEqual(["license.provisioned"]);
  });

  it.each([
    ["a 2xx whose body cannot be read", "unreadableAnswer"],
    ["our deadline aborting the call", "deadline"],
  ] as const)("answered with %s: looked for and adopted, never created twice", async (_, kind) => {
    const h = engineHarness();
    const { customerId, email, deliverIt } = await purchase(h, `unknown-${kind.toLowerCase()}`);
    h.integrator.createFaults.push({ kind });
    await deliverIt();
    expect(h.integrator.creates).toBe(1);
    expect(await record(h, customerId)).toMatchObject({
      state: "active",
      licenseId: h.integrator.forEmail(email)[0]?._id,
    });
    await deliverIt();
    expect(h.integrator.forEmail(email)).toHaveLength(1);
  });

  it("before integrator.io commits it (a late commit): stays creating, and the later look adopts it", async () => {
    const h = engineHarness();
    const { customerId, email, deliverIt } = await purchase(h, "late");
    h.integrator.createFaults.push({ kind: "lateCommit", afterMs: 30_000 });
    await expect(deliverIt()).rejects.toBeInstanceOf(CreateOutcomePendingError);
    expect(await record(h, customerId)).toMatchObject({ state: "creating", reason: "answer_lost" });
    expect(h.integrator.forEmail(email)).toEqual([]);

    // The queue delivers the event again (a visibility timeout later): not landed yet, still no second POST.
    h.clock.advance(5_000);
    await expect(deliverIt()).rejects.toBeInstanceOf(CreateOutcomePendingError);
    h.clock.advance(30_000);
    await deliverIt();
    expect(h.integrator.creates).toBe(1);
    expect(h.integrator.forEmail(email)).toHaveLength(1);
    expect(await record(h, customerId)).toMatchObject({
      state: "active",
      licenseId: h.integrator.forEmail(email)[0]?._id,
    });
    expect(h.announced.typesFor(customerId)).toEqual(["license.provisioned"]);
  });

  it("and it never lands: created again only once the late-commit window has passed", async () => {
    const h = engineHarness();
    const { customerId, email, deliverIt } = await purchase(h, "never");
    h.integrator.createFaults.push({ kind: "lateCommit" });
    await expect(deliverIt()).rejects.toBeInstanceOf(CreateOutcomePendingError);
    h.clock.advance(LATE_COMMIT_WINDOW_MS - 10_000);
    await expect(deliverIt()).rejects.toBeInstanceOf(CreateOutcomePendingError);
    expect(h.integrator.creates).toBe(1);
    h.clock.advance(10_000);
    await deliverIt();
    expect(h.integrator.creates).toBe(2);
    expect(h.integrator.forEmail(email)).toHaveLength(1);
    expect(await record(h, customerId)).toMatchObject({ state: "active" });
  });

  it("keeps the intent of a create that never landed for reconcile, and forgets those whose outcome is known", async () => {
    const h = engineHarness();
    const landed = await purchase(h, "known");
    await landed.deliverIt();
    expect(await h.licenses.openIntents(SHOPIFY.connectorId)).toEqual([]);

    const lost = await purchase(h, "unknown");
    h.integrator.createFaults.push({ kind: "lateCommit" });
    await expect(lost.deliverIt()).rejects.toBeInstanceOf(CreateOutcomePendingError);
    h.clock.advance(LATE_COMMIT_WINDOW_MS);
    await lost.deliverIt();
    expect((await h.licenses.openIntents(SHOPIFY.connectorId)).map((i) => i.email)).toEqual([lost.email]);
  });

  it("a create still settling on one connector holds back only that connector", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "two-connectors");
    const sub = subscribe(h, customerId, {
      items: [{ price: "price_std_month" }, { price: "price_amz_month" }],
    });
    h.integrator.createFaults.push({ kind: "lateCommit" });
    await expect(deliver(h, "customer.subscription.created", sub)).rejects.toBeInstanceOf(
      CreateOutcomePendingError,
    );
    const states = (await h.licenses.forCustomer(customerId)).map((r) => [r.connectorKey, r.state]).sort();
    expect(states).toEqual([
      ["amazon-netsuite", "active"],
      ["shopify-netsuite", "creating"],
    ]);
    expect(h.integrator.forEmail(email)).toHaveLength(1);
  });

  it("a crash between the intent and the answer: another caller waits out the create's flight, then settles it", async () => {
    const h = engineHarness();
    const { customerId, email, deliverIt } = await purchase(h, "crash");
    // The create was intended and POSTed, and the process died before its answer.
    const sub = await h.customers.state(customerId);
    expect(sub.licenses).toEqual([]);
    h.integrator.createFaults.push({ kind: "lostAnswer" });
    const ledger = h.engine.ledger;
    const target = {
      customerId,
      connectorKey: SHOPIFY.connectorKey,
      connectorId: SHOPIFY.connectorId,
      cause: "crashed",
    };
    const intent = await ledger.intend(target, undefined, {
      email,
      expires: "2027-01-01T00:00:00.000Z",
      opts: {},
    });
    await h.integrator
      .create(SHOPIFY.connectorId, { email, expires: intent.expires, opts: {} })
      .catch(() => undefined);

    const sleptBefore = h.clock.slept;
    await deliverIt();
    expect(h.clock.slept - sleptBefore).toBeGreaterThanOrEqual(CREATE_IN_FLIGHT_MS);
    expect(h.integrator.forEmail(email)).toHaveLength(1);
    expect(await record(h, customerId)).toMatchObject({
      state: "active",
      licenseId: h.integrator.forEmail(email)[0]?._id,
    });
  });

  it("reconcile leaves a create that may still be in flight to its next run", async () => {
    const h = engineHarness();
    const { customerId, email } = await purchase(h, "leave");
    const target = {
      customerId,
      connectorKey: SHOPIFY.connectorKey,
      connectorId: SHOPIFY.connectorId,
      cause: "x",
    };
    await h.engine.ledger.intend(target, undefined, { email, expires: "2027-01-01T00:00:00.000Z", opts: {} });
    await expect(h.engine.converge(customerId, "reconcile:1", { inFlight: "leave" })).rejects.toBeInstanceOf(
      CreateOutcomePendingError,
    );
    expect(h.integrator.creates).toBe(0);
  });
});

describe("a create integrator.io answers", () => {
  it("with a refusal: nothing was created, so the next attempt creates at once", async () => {
    const h = engineHarness();
    const { customerId, email, deliverIt } = await purchase(h, "refused");
    h.integrator.createFaults.push({ kind: "refused", status: 403, code: "access_restricted" });
    await expect(deliverIt()).rejects.toThrow("refused");
    expect(await record(h, customerId)).toMatchObject({
      state: "deleted",
      reason: "create refused: access_restricted",
    });
    await deliverIt();
    expect(h.integrator.forEmail(email)).toHaveLength(1);
  });

  it("during an outage: the event fails, the next delivery after it provisions once", async () => {
    const h = engineHarness();
    const { customerId, email, deliverIt } = await purchase(h, "outage");
    h.integrator.down = true;
    // The create answered 503 (its outcome unknown), and the look for its license failed too.
    await expect(deliverIt()).rejects.toThrow("answered 503");
    expect(await record(h, customerId)).toMatchObject({ state: "creating", reason: "answer_lost" });
    h.integrator.down = false;
    h.clock.advance(LATE_COMMIT_WINDOW_MS + 1);
    await deliverIt();
    expect(h.integrator.forEmail(email)).toHaveLength(1);
  });
});

describe("another writer", () => {
  it("a record changed between the plan and its write: planned again from a fresh read, announced at least once", async () => {
    const h = engineHarness();
    const { customerId, email, sub } = await purchase(h, "race");
    await deliver(h, "customer.subscription.created", sub);
    // Another writer (reconcile, the admin API) saves the record the moment integrator.io changed.
    const update = h.integrator.update.bind(h.integrator);
    h.integrator.update = async (...args) => {
      const result = await update(...args);
      h.integrator.update = update;
      const current = await record(h, customerId);
      if (current) await h.licenses.save({ ...current }, current.rev);
      return result;
    };
    const premium = subscribe(h, customerId, { id: sub.id, items: [{ price: "price_prem_month" }] });
    h.clock.advance(1_000);
    await deliver(h, "customer.subscription.updated", premium);
    expect(h.integrator.forEmail(email)[0]?.opts).toMatchObject({ connectorEdition: "premium" });
    expect(await record(h, customerId)).toMatchObject({
      state: "active",
      opts: { connectorEdition: "premium" },
    });
    expect(h.announced.typesFor(customerId)).toEqual([
      "license.provisioned",
      "license.updated",
      "license.updated",
    ]);
  });

  it("a conflict that never ends is given up after the retries, with the conflict", async () => {
    const h = engineHarness();
    const { customerId, sub } = await purchase(h, "always");
    const save = h.licenses.save.bind(h.licenses);
    h.licenses.save = async (license, rev, options) => {
      if (license.state === "creating") throw new LicenseConflictError("changed concurrently");
      return save(license, rev, options);
    };
    await expect(deliver(h, "customer.subscription.created", sub)).rejects.toBeInstanceOf(
      LicenseConflictError,
    );
    expect(await record(h, customerId)).toBeUndefined();
  });

  it("a license integrator.io issued is ours before it is announced: a failed announcement is repeated, never a second license", async () => {
    const h = engineHarness();
    const { customerId, email, deliverIt } = await purchase(h, "unannounced");
    h.announced.failing = true;
    await expect(deliverIt()).rejects.toThrow("EventBridge is unavailable");
    const [issued] = h.integrator.forEmail(email);
    expect(await h.licenses.owner(issued?._id ?? "")).toMatchObject({ customerId, email });

    h.announced.failing = false;
    await deliverIt();
    expect(h.integrator.forEmail(email)).toHaveLength(1);
    expect(await record(h, customerId)).toMatchObject({ state: "active", licenseId: issued?._id });
    expect(h.announced.typesFor(customerId)).toEqual(["license.provisioned"]);
  });
});
