import { invalidParam, resourceMissing } from "./errors.ts";
import type {
  CheckoutSessionRecord,
  CustomerRecord,
  EventRecord,
  InvoiceRecord,
  Json,
  JsonObject,
  PortalSessionRecord,
  PriceRecord,
  ProductRecord,
  SubscriptionRecord,
  TestClockRecord,
  WebhookEndpointRecord,
} from "./model.ts";
import type { Params } from "./params.ts";

/** One kind of object, in creation order. Lists come out newest first, as Stripe's do. */
export class Collection<T extends { id: string }> {
  private readonly entries = new Map<string, { value: T; seq: number }>();
  private static nextSeq = 0;

  /** `objectName` words "No such customer: 'cus_1'". */
  constructor(readonly objectName: string) {}

  get(id: string): T | undefined {
    return this.entries.get(id)?.value;
  }

  /** The object, or Stripe's 404 `resource_missing` naming `param`. */
  require(id: string, param = "id"): T {
    const value = this.get(id);
    if (value === undefined) throw resourceMissing(this.objectName, id, param);
    return value;
  }

  add(value: T): T {
    this.entries.set(value.id, { value, seq: Collection.nextSeq++ });
    return value;
  }

  /** Drops the oldest objects beyond `max` (for logs kept in memory). */
  trimTo(max: number): void {
    for (const id of this.entries.keys()) {
      if (this.entries.size <= max) return;
      this.entries.delete(id);
    }
  }

  delete(id: string): boolean {
    return this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether any object matches, without copying the collection. */
  some(predicate: (value: T) => boolean): boolean {
    for (const entry of this.entries.values()) if (predicate(entry.value)) return true;
    return false;
  }

  /** Oldest first. */
  values(): T[] {
    return [...this.entries.values()].map((entry) => entry.value);
  }

  /** Position in creation order, for cursors. */
  seqOf(id: string): number | undefined {
    return this.entries.get(id)?.seq;
  }

  /**
   * A Stripe `list` object: newest first, `limit` (1–100, default 10), `starting_after` /
   * `ending_before` cursors by object id, `has_more`. `params` must already have passed
   * `allowOnly` (including the list keys).
   */
  page(
    params: Params,
    url: string,
    keep: (value: T) => boolean,
    render: (value: T) => JsonObject,
  ): JsonObject {
    const limit = params.integer("limit", { min: 1, max: 100 }) ?? 10;
    const startingAfter = params.nonEmptyString("starting_after");
    const endingBefore = params.nonEmptyString("ending_before");
    if (startingAfter !== undefined && endingBefore !== undefined) {
      throw invalidParam(
        "You may only specify one of these parameters: ending_before, starting_after.",
        "ending_before",
      );
    }
    const newestFirst = [...this.entries.values()].filter((entry) => keep(entry.value)).reverse();
    let data: { value: T; seq: number }[];
    let hasMore: boolean;
    if (endingBefore !== undefined) {
      const cursor = this.cursorSeq(endingBefore, "ending_before");
      const newer = newestFirst.filter((entry) => entry.seq > cursor);
      data = newer.slice(Math.max(0, newer.length - limit));
      hasMore = newer.length > limit;
    } else {
      const cursor =
        startingAfter === undefined
          ? Number.POSITIVE_INFINITY
          : this.cursorSeq(startingAfter, "starting_after");
      const older = newestFirst.filter((entry) => entry.seq < cursor);
      data = older.slice(0, limit);
      hasMore = older.length > limit;
    }
    return listObject(
      data.map((entry) => render(entry.value)),
      url,
      hasMore,
    );
  }

  private cursorSeq(id: string, param: string): number {
    const seq = this.seqOf(id);
    if (seq === undefined) throw resourceMissing(this.objectName, id, param);
    return seq;
  }
}

export function listObject(data: JsonObject[], url: string, hasMore = false): JsonObject {
  return { object: "list", data: data as Json[], has_more: hasMore, url };
}

/** Stripe keeps keys for 24 hours; locally a client retries within seconds, so the newest 10,000 suffice. */
const MAX_IDEMPOTENCY_KEYS = 10_000;

/** Everything the simulator holds. */
export class Store {
  readonly customers = new Collection<CustomerRecord>("customer");
  readonly products = new Collection<ProductRecord>("product");
  readonly prices = new Collection<PriceRecord>("price");
  readonly subscriptions = new Collection<SubscriptionRecord>("subscription");
  readonly invoices = new Collection<InvoiceRecord>("invoice");
  readonly checkoutSessions = new Collection<CheckoutSessionRecord>("checkout.session");
  readonly portalSessions = new Collection<PortalSessionRecord>("billing_portal.session");
  readonly webhookEndpoints = new Collection<WebhookEndpointRecord>("webhook_endpoint");
  readonly testClocks = new Collection<TestClockRecord>("test_helpers.test_clock");
  readonly events = new Collection<EventRecord>("event");
  /** Idempotency-Key → the first response, kept for replay (Stripe keeps keys 24 hours). */
  readonly idempotency = new Map<string, StoredResponse>();

  /** Clears customer data; keeps webhook endpoints, and the catalog unless `keepCatalog` is false. */
  reset(keepCatalog: boolean): void {
    for (const collection of [
      this.customers,
      this.subscriptions,
      this.invoices,
      this.checkoutSessions,
      this.portalSessions,
      this.testClocks,
      this.events,
    ]) {
      collection.clear();
    }
    if (!keepCatalog) {
      this.products.clear();
      this.prices.clear();
    }
    this.idempotency.clear();
  }

  rememberResponse(key: string, response: StoredResponse): void {
    this.idempotency.set(key, response);
    // Bounded: the SDK sends a fresh key on every POST; the oldest keys go first.
    if (this.idempotency.size > MAX_IDEMPOTENCY_KEYS) {
      const oldest = this.idempotency.keys().next().value;
      if (oldest !== undefined) this.idempotency.delete(oldest);
    }
  }
}

export interface StoredResponse {
  method: string;
  path: string;
  /** The request's parameters, canonicalised, to detect a key reused with other parameters. */
  fingerprint: string;
  status: number;
  body: string;
  createdAt: number;
}
