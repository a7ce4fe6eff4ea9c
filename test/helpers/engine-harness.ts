import { Logger } from "@aws-lambda-powertools/logger";
import { MemoryCustomerRecords, MemoryLicenseRecords } from "#lib/engine/adapters/memory.ts";
import { Engine } from "#lib/engine/engine.ts";
import type {
  Announcements,
  Clock,
  EnginePorts,
  IntegratorLicenses,
  StripeObjects,
} from "#lib/engine/ports.ts";
import { LATE_COMMIT_WINDOW_MS } from "#lib/engine/timing.ts";
import type { DomainEventType } from "#lib/events/domain-events.ts";
import { IntegratorError, IntegratorResponseError, OutcomeUnknownError } from "#lib/integrator/errors.ts";
import type { License, LicenseCreate } from "#lib/integrator/schemas.ts";
import type { Catalog } from "#lib/licensing/catalog.ts";
import type { MetricName } from "#lib/observability/metrics.ts";
import type { AuditEntry } from "#lib/store/audit.ts";
import type { StripeCustomer, StripeInvoice, StripeSubscription } from "#lib/stripe/schemas.ts";
import {
  makeCustomer,
  makeEvent,
  makeSubscription,
  type SubscriptionInput,
} from "#test/helpers/stripe-fixtures.ts";
import { catalog as testCatalog } from "#test/unit/licensing/test-catalog.ts";

/**
 * The license engine on a fake clock, with the two stores in memory (they pass the DynamoDB
 * adapters' contract, test/contract) and integrator.io and Stripe faked at the edge of the
 * process: every case of a license's life in milliseconds.
 */

/** A clock whose `sleep` moves time on at once, running what was due meanwhile (late commits). */
export class FakeClock implements Clock {
  private at: number;
  private readonly due: { at: number; run: () => void }[] = [];
  slept = 0;

  constructor(start: Date) {
    this.at = start.getTime();
  }

  now(): Date {
    return new Date(this.at);
  }

  async sleep(ms: number): Promise<void> {
    this.slept += Math.max(0, ms);
    this.advance(ms);
  }

  /** Moves time on by `ms`, running what falls due. */
  advance(ms: number): void {
    this.at += Math.max(0, ms);
    for (const job of this.due.filter((j) => j.at <= this.at)) {
      this.due.splice(this.due.indexOf(job), 1);
      job.run();
    }
  }

  /** Runs `run` once the clock reaches `ms` from now. */
  after(ms: number, run: () => void): void {
    this.due.push({ at: this.at + ms, run });
  }
}

/** What the next license create does, in place of answering. */
export type CreateFault =
  /** Committed, then the answer is lost (a reset after the commit). */
  | { kind: "lostAnswer" }
  /** The answer is lost before the commit; the license appears `afterMs` later (never, without). */
  | { kind: "lateCommit"; afterMs?: number }
  /** Committed, but the answer cannot be read (a 2xx with a body that is not a license). */
  | { kind: "unreadableAnswer" }
  /** Committed, but our deadline aborted the call before the answer came. */
  | { kind: "deadline" }
  /** integrator.io refuses it (4xx): nothing is created. */
  | { kind: "refused"; status: number; code: string };

/** integrator.io's licenses in memory: users by email, faults per call. */
export class FakeIntegrator implements IntegratorLicenses {
  readonly licenses = new Map<string, License & { _connectorId: string }>();
  readonly users = new Set<string>();
  readonly createFaults: CreateFault[] = [];
  /** Fails every call of these kinds with a 503 while set (an outage). */
  down = false;
  creates = 0;
  private sequence = 0;

  constructor(private readonly clock: FakeClock) {}

  of(connectorId: string): License[] {
    return [...this.licenses.values()].filter((l) => l._connectorId === connectorId);
  }

  forEmail(email: string): License[] {
    return [...this.licenses.values()].filter((l) => l.user?.email === email);
  }

  async *list(connectorId: string): AsyncGenerator<License, void, undefined> {
    this.outage("GET");
    for (const license of this.of(connectorId)) yield structuredClone(license);
  }

  async get(connectorId: string, licenseId: string): Promise<License> {
    this.outage("GET");
    const license = this.licenses.get(licenseId);
    if (!license || license._connectorId !== connectorId) throw notFound(licenseId);
    return structuredClone(license);
  }

  async create(connectorId: string, body: LicenseCreate): Promise<License> {
    this.outage("POST", true);
    this.creates += 1;
    if (!this.users.has(body.email)) {
      throw new IntegratorError("no such user", {
        method: "POST",
        path: `/v1/connectors/${connectorId}/licenses`,
        status: 422,
        errors: [{ code: "invalid_user", message: `No integrator.io account for ${body.email}.` }],
      });
    }
    const fault = this.createFaults.shift();
    if (fault?.kind === "refused") {
      throw new IntegratorError("refused", {
        method: "POST",
        path: `/v1/connectors/${connectorId}/licenses`,
        status: fault.status,
        errors: [{ code: fault.code, message: "refused" }],
      });
    }
    const commit = () => {
      const license = {
        _id: `lic_${++this.sequence}`,
        _connectorId: connectorId,
        type: "connector",
        expires: body.expires,
        opts: structuredClone(body.opts),
        created: this.clock.now().toISOString(),
        user: { email: body.email },
      } as License & { _connectorId: string };
      this.licenses.set(license._id, license);
      return license;
    };
    if (fault?.kind === "lateCommit") {
      if (fault.afterMs !== undefined) this.clock.after(fault.afterMs, commit);
      throw lost();
    }
    const license = commit();
    if (fault?.kind === "lostAnswer") throw lost();
    if (fault?.kind === "unreadableAnswer") {
      throw new IntegratorResponseError("integrator.io answered 201 with a body that is not a license", {
        method: "POST",
        path: `/v1/connectors/${connectorId}/licenses`,
        status: 201,
      });
    }
    if (fault?.kind === "deadline") throw new DOMException("The operation timed out.", "TimeoutError");
    return structuredClone(license);
  }

  async update(
    connectorId: string,
    licenseId: string,
    body: { expires?: string; opts?: object },
  ): Promise<License> {
    this.outage("PUT");
    const license = this.licenses.get(licenseId);
    if (!license || license._connectorId !== connectorId) throw notFound(licenseId);
    if (body.expires !== undefined) license.expires = body.expires;
    if (body.opts !== undefined) license.opts = structuredClone(body.opts) as License["opts"];
    return structuredClone(license);
  }

  async delete(connectorId: string, licenseId: string): Promise<void> {
    this.outage("DELETE");
    const license = this.licenses.get(licenseId);
    if (!license || license._connectorId !== connectorId) throw notFound(licenseId);
    this.licenses.delete(licenseId);
  }

  private outage(method: string, unknownOutcome = false): void {
    if (!this.down) return;
    const init = {
      method,
      path: "/v1/connectors",
      status: 503,
      errors: [{ code: "service_unavailable", message: "down" }],
    };
    if (unknownOutcome) throw new OutcomeUnknownError(`integrator.io ${method} answered 503`, init);
    throw new IntegratorError(`integrator.io ${method} answered 503`, init);
  }
}

const notFound = (licenseId: string) =>
  new IntegratorError(`no license ${licenseId}`, {
    method: "GET",
    path: `/v1/licenses/${licenseId}`,
    status: 404,
    errors: [{ code: "not_found", message: "not found" }],
  });
const lost = () =>
  new OutcomeUnknownError("the connection was reset", {
    method: "POST",
    path: "/v1/connectors",
    status: undefined,
    errors: [],
  });

/** Stripe's current objects, as the test sets them. */
export class FakeStripe implements StripeObjects {
  readonly subscriptions = new Map<string, StripeSubscription>();
  readonly customers = new Map<string, StripeCustomer>();
  readonly invoices = new Map<string, StripeInvoice>();
  fetches = 0;

  async subscription(id: string) {
    this.fetches += 1;
    return structuredClone(this.subscriptions.get(id));
  }
  async customer(id: string) {
    this.fetches += 1;
    return structuredClone(this.customers.get(id));
  }
  async invoice(id: string) {
    this.fetches += 1;
    return structuredClone(this.invoices.get(id));
  }
}

/** Announcements kept in order: what the vendor's systems were told. */
export class RecordedAnnouncements implements Announcements {
  readonly events: { type: DomainEventType; detail: Record<string, unknown> }[] = [];
  readonly trail: Omit<AuditEntry, "at">[] = [];
  readonly metrics: MetricName[] = [];
  /** Fails every domain event while set (EventBridge down). */
  failing = false;

  async licenseChanged(change: Parameters<Announcements["licenseChanged"]>[0]): Promise<void> {
    this.metrics.push(change.metric);
    this.trail.push({ ...change.audit, detail: change.detail });
    this.publish(change.type, change.detail);
  }
  async audit(entry: Omit<AuditEntry, "at">): Promise<void> {
    this.trail.push(entry);
  }
  async notice(type: DomainEventType, metric: MetricName, detail: Record<string, unknown>): Promise<void> {
    this.metrics.push(metric);
    this.publish(type, detail);
  }
  private publish(type: DomainEventType, detail: Record<string, unknown>) {
    if (this.failing) throw new Error("EventBridge is unavailable");
    this.events.push({ type, detail });
  }
  /** The event types told about one customer, in order. */
  typesFor(customerId: string): DomainEventType[] {
    return this.events.filter((e) => e.detail.customerId === customerId).map((e) => e.type);
  }
}

export interface EngineHarness {
  engine: Engine;
  clock: FakeClock;
  integrator: FakeIntegrator;
  stripe: FakeStripe;
  customers: MemoryCustomerRecords;
  licenses: MemoryLicenseRecords;
  announced: RecordedAnnouncements;
}

/** A fresh engine on a fake clock starting at `start`. */
export function engineHarness({
  start = new Date("2026-11-15T12:00:00.000Z"),
  catalog = testCatalog,
  lateCommitWindowMs = LATE_COMMIT_WINDOW_MS,
}: {
  start?: Date;
  catalog?: Catalog;
  lateCommitWindowMs?: number;
} = {}): EngineHarness {
  const clock = new FakeClock(start);
  const licenses = new MemoryLicenseRecords(clock);
  const customers = new MemoryCustomerRecords(licenses, clock);
  const integrator = new FakeIntegrator(clock);
  const stripe = new FakeStripe();
  const announced = new RecordedAnnouncements();
  const ports: EnginePorts = {
    catalog,
    customers,
    licenses,
    integrator,
    stripe,
    announcements: announced,
    clock,
    lateCommitWindowMs,

    logger: new Logger({ serviceName: "engine-test", logLevel: "SILENT" }),
  };
  return { engine: new Engine(ports), clock, integrator, stripe, customers, licenses, announced };
}

/** A Stripe event of `type` carrying `object`, created now on the harness clock unless `created` says when. */
export function deliver(
  h: EngineHarness,
  type: string,
  object: object,
  { created = Math.floor(h.clock.now().getTime() / 1000), id }: { created?: number; id?: string } = {},
) {
  const event = makeEvent(type, object, { created, ...(id ? { id } : {}) });
  return h.engine.processEvent(event, event.id);
}

/** A buyer Stripe and integrator.io both know: the Stripe customer, an integrator.io account (unless `account: false`). */
export function buyer(h: EngineHarness, label: string, { account = true } = {}) {
  const customerId = `cus_${label}`;
  const email = `${label}@example.com`;
  h.stripe.customers.set(customerId, makeCustomer({ id: customerId, email }));
  if (account) h.integrator.users.add(email);
  return { customerId, email };
}

/** A subscription of the buyer's, as Stripe holds it now (what a fetch answers). */
export function subscribe(
  h: EngineHarness,
  customerId: string,
  input: Omit<SubscriptionInput, "customer"> = {},
) {
  const subscription = makeSubscription({ now: h.clock.now(), ...input, customer: customerId });
  h.stripe.subscriptions.set(subscription.id, subscription);
  return subscription;
}
