/**
 * The simulator's state and services, shared by the HTTP handlers: the store, the event log,
 * webhook delivery, and time (test clocks, or real time for customers without one).
 */
import { runDue } from "./billing.ts";
import { Delivery } from "./delivery.ts";
import { EventLog } from "./events.ts";
import { newId } from "./ids.ts";
import type { WebhookEndpointRecord } from "./model.ts";
import type { Metadata } from "./params.ts";
import { expireDueSessions } from "./resources/checkout.ts";
import { Store } from "./store.ts";

/** How often subscriptions without a test clock are moved along in real time. */
const SWEEP_INTERVAL_MS = 1000;

export class Simulator {
  readonly store = new Store();
  readonly delivery: Delivery;
  readonly events: EventLog;
  /** `/v1` requests received, by `METHOD /v1/route/:param` (`METHOD (unmatched)` for unknown URLs). */
  readonly requestCounts = new Map<string, number>();
  /** Where the simulator is reachable (for Checkout and portal URLs); set once listening. */
  baseUrl = "http://127.0.0.1";
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: { quiet: boolean }) {
    this.delivery = new Delivery({
      endpoint: (id) => {
        const endpoint = this.store.webhookEndpoints.get(id);
        return endpoint && { id: endpoint.id, url: endpoint.url, secret: endpoint.secret };
      },
      onDelivered: (eventId) => this.events.delivered(eventId),
      warn: (message) => this.warn(message),
    });
    this.events = new EventLog(this.store, this.delivery);
  }

  warn(message: string): void {
    if (!this.options.quiet) console.warn(`[stripe-sim] ${message}`);
  }

  realNow(): number {
    return Math.floor(Date.now() / 1000);
  }

  /** A test clock's frozen time. */
  clockNow(clockId: string | null): number {
    if (clockId === null) return this.realNow();
    return this.store.testClocks.get(clockId)?.frozenTime ?? this.realNow();
  }

  /** "Now" for a customer: its test clock's frozen time, else real time. */
  customerNow(customerId: string | null | undefined): number {
    const customer = customerId == null ? undefined : this.store.customers.get(customerId);
    return this.clockNow(customer?.testClock ?? null);
  }

  /** Moves subscriptions and Checkout sessions without a test clock through whatever real time has made due. */
  sweep(): void {
    const now = this.realNow();
    expireDueSessions(this, null, now);
    runDue(this, now, (subscription) => subscription.testClock === null);
  }

  /** Advances a test clock to `to`, running everything that falls due on the way. */
  advanceClock(clockId: string, to: number): void {
    const clock = this.store.testClocks.require(clockId);
    expireDueSessions(this, clockId, to);
    runDue(
      this,
      to,
      (subscription) => subscription.testClock === clockId,
      (at) => {
        clock.frozenTime = Math.max(clock.frozenTime, at);
      },
    );
    clock.frozenTime = to;
  }

  startSweeping(): void {
    this.sweepTimer = setInterval(() => {
      try {
        this.sweep();
      } catch (error) {
        this.warn(`real-time billing failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }, SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  addWebhookEndpoint(input: {
    url: string;
    secret?: string;
    enabledEvents?: string[];
    description?: string | null;
    metadata?: Metadata;
    apiVersion?: string | null;
  }): WebhookEndpointRecord {
    return this.store.webhookEndpoints.add({
      id: newId("we"),
      created: this.realNow(),
      url: input.url,
      secret: input.secret ?? newId("whsec"),
      enabledEvents: input.enabledEvents ?? ["*"],
      description: input.description ?? null,
      metadata: input.metadata ?? {},
      status: "enabled",
      apiVersion: input.apiVersion ?? null,
    });
  }

  countRequest(route: string): void {
    this.requestCounts.set(route, (this.requestCounts.get(route) ?? 0) + 1);
  }

  /** Clears customer data, pending deliveries and request counts; keeps webhook endpoints and (unless told) the catalog. */
  reset({ keepCatalog }: { keepCatalog: boolean }): void {
    this.store.reset(keepCatalog);
    this.delivery.clear();
    this.requestCounts.clear();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
    this.delivery.stop();
  }
}
