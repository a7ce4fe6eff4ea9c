/**
 * Stripe events: every change the simulator makes is recorded as an `event` (kept for
 * `GET /v1/events`) and handed to delivery for each enabled webhook endpoint that subscribes to
 * its type.
 */
import type { Delivery } from "./delivery.ts";
import { newId } from "./ids.ts";
import { type EventRecord, type Json, type JsonObject, sameJson } from "./model.ts";
import type { Store } from "./store.ts";
import { eventInVersion } from "./versions.ts";

/**
 * The API version objects and stored events are rendered in: the installed SDK's (stripe@23.1.0).
 * A webhook endpoint created with another `api_version` receives its events in that one.
 */
export const API_VERSION = "2026-10-28.endive";

/** Events kept for `GET /v1/events` (Stripe keeps 30 days); the oldest go first, bounding memory in long benchmarks. */
export const MAX_STORED_EVENTS = 20_000;

/** The API request that caused an event; both null for changes Stripe makes itself (renewals, clocks). */
export interface EventOrigin {
  requestId: string | null;
  idempotencyKey: string | null;
}

export const AUTOMATIC: EventOrigin = { requestId: null, idempotencyKey: null };

function isHash(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && value.object !== "list";
}

/**
 * Stripe's `data.previous_attributes`: the old values of the fields that changed. Nested hashes
 * (metadata, cancellation_details) give only their changed keys, a key that was added shows as
 * null; lists and arrays give their whole old value.
 */
export function previousAttributes(before: JsonObject, after: JsonObject): JsonObject {
  const previous: JsonObject = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[key];
    const now = after[key];
    if (sameJson(old, now)) continue;
    previous[key] = isHash(old) && isHash(now) ? previousAttributes(old, now) : (old ?? null);
  }
  return previous;
}

/** Deliveries of one customer's events stay in order (see delivery.ts). */
function orderingGroup(object: JsonObject, eventId: string): string {
  if (object.object === "customer" && typeof object.id === "string") return object.id;
  if (typeof object.customer === "string") return object.customer;
  if (object.object === "product" || object.object === "price") return "catalog";
  return eventId;
}

export class EventLog {
  constructor(
    private readonly store: Store,
    private readonly delivery: Delivery,
  ) {}

  /** Records an event with `object` as its snapshot and queues its deliveries. */
  emit(
    type: string,
    object: JsonObject,
    {
      created,
      origin = AUTOMATIC,
      previous,
    }: { created: number; origin?: EventOrigin; previous?: JsonObject },
  ): EventRecord {
    const endpoints = this.store.webhookEndpoints
      .values()
      .filter(
        (endpoint) =>
          endpoint.status === "enabled" &&
          (endpoint.enabledEvents.includes("*") || endpoint.enabledEvents.includes(type)),
      );
    const id = newId("evt");
    const data: JsonObject = previous === undefined ? { object } : { object, previous_attributes: previous };
    const body: JsonObject = {
      id,
      object: "event",
      api_version: API_VERSION,
      created,
      data,
      livemode: false,
      pending_webhooks: endpoints.length,
      request: { id: origin.requestId, idempotency_key: origin.idempotencyKey },
      type,
    };
    const record = this.store.events.add({ id, created, type, body });
    this.store.events.trimTo(MAX_STORED_EVENTS);
    // Each endpoint receives the event in its own API version (see versions.ts).
    const byVersion = new Map<string, typeof endpoints>();
    for (const endpoint of endpoints) {
      const apiVersion = endpoint.apiVersion ?? API_VERSION;
      byVersion.set(apiVersion, [...(byVersion.get(apiVersion) ?? []), endpoint]);
    }
    for (const [apiVersion, versionEndpoints] of byVersion) {
      const payload = JSON.stringify(eventInVersion(body, apiVersion), null, 2);
      this.delivery.enqueue(
        { id, type, group: orderingGroup(object, id), payload },
        versionEndpoints.map((endpoint) => endpoint.id),
      );
    }
    return record;
  }

  /** An `*.updated` event with `previous_attributes`, or nothing when no field changed. */
  emitUpdate(
    type: string,
    before: JsonObject,
    after: JsonObject,
    options: { created: number; origin?: EventOrigin },
  ): EventRecord | undefined {
    const previous = previousAttributes(before, after);
    if (Object.keys(previous).length === 0) return undefined;
    return this.emit(type, after, { ...options, previous });
  }

  /** Called by delivery on the first successful delivery of an event to an endpoint. */
  delivered(eventId: string): void {
    const event = this.store.events.get(eventId);
    if (
      event !== undefined &&
      typeof event.body.pending_webhooks === "number" &&
      event.body.pending_webhooks > 0
    ) {
      event.body.pending_webhooks -= 1;
    }
  }
}
