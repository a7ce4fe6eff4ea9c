/**
 * Events in a webhook endpoint's API version. The simulator renders everything in the pinned
 * version (`API_VERSION`); an endpoint created with an older `api_version` receives its events in
 * that version's shape, for the one change the project depends on — Stripe's 2025-03-31 (basil)
 * release:
 *
 * - a subscription's `current_period_start` / `current_period_end` sit on the subscription, not on
 *   its items (and `data.previous_attributes` names them there);
 * - an invoice carries `subscription` and `subscription_details` at the top level, not `parent`
 *   (its lines the same: `subscription`, `subscription_item`, `type`, no `parent`).
 *
 * Any other version is delivered in the pinned shape under its own `api_version`.
 */
import { type Json, type JsonObject, sameJson } from "./model.ts";

/** The first API version with subscription periods on the items and invoices' `parent`. */
const BASIL = "2025-03-31";

/** True for an API version released before basil (`2024-06-20`, `2025-02-24.acacia`). */
function isBeforeBasil(apiVersion: string): boolean {
  return apiVersion.slice(0, 10) < BASIL;
}

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function without(object: JsonObject, keys: string[]): JsonObject {
  return Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(key)));
}

const PERIOD_KEYS = ["current_period_start", "current_period_end"];

/** A list object's `data` (items, lines) mapped, or the value as it was. */
function mapList(list: Json | undefined, map: (entry: JsonObject) => JsonObject): Json | undefined {
  if (!isObject(list) || !Array.isArray(list.data)) return list;
  return { ...list, data: list.data.map((entry) => (isObject(entry) ? map(entry) : entry)) };
}

/** Periods moved from the items (classic billing: all alike) to the subscription. */
function subscriptionBeforeBasil(subscription: JsonObject): JsonObject {
  const items = subscription.items;
  const first = isObject(items) && Array.isArray(items.data) ? items.data[0] : undefined;
  const period = isObject(first) ? first : {};
  return {
    ...subscription,
    current_period_end: period.current_period_end ?? null,
    current_period_start: period.current_period_start ?? null,
    items: mapList(items, (item) => without(item, PERIOD_KEYS)) ?? null,
  };
}

/** `previous_attributes` of a subscription: old periods named on the subscription, items without them. */
function previousBeforeBasil(previous: JsonObject, now: JsonObject): JsonObject {
  if (!isObject(previous.items)) return previous;
  const before = subscriptionBeforeBasil({ items: previous.items });
  const result: JsonObject = without(previous, ["items"]);
  for (const key of PERIOD_KEYS) if (!sameJson(before[key], now[key])) result[key] = before[key] ?? null;
  if (!sameJson(before.items, now.items)) result.items = before.items ?? null;
  return result;
}

function invoiceLineBeforeBasil(line: JsonObject): JsonObject {
  const parent = isObject(line.parent) ? line.parent : {};
  const details = isObject(parent.subscription_item_details) ? parent.subscription_item_details : {};
  return {
    ...without(line, ["parent"]),
    proration: details.proration ?? false,
    subscription: details.subscription ?? line.subscription ?? null,
    subscription_item: details.subscription_item ?? null,
    type: "subscription",
  };
}

function invoiceBeforeBasil(invoice: JsonObject): JsonObject {
  const parent = isObject(invoice.parent) ? invoice.parent : {};
  const details = isObject(parent.subscription_details) ? parent.subscription_details : undefined;
  return {
    ...without(invoice, ["parent"]),
    lines: mapList(invoice.lines, invoiceLineBeforeBasil) ?? null,
    subscription: details?.subscription ?? invoice.subscription ?? null,
    subscription_details: details ? { metadata: details.metadata ?? {} } : null,
  };
}

/** The event `body` (rendered in the pinned version) as an endpoint on `apiVersion` receives it. */
export function eventInVersion(body: JsonObject, apiVersion: string): JsonObject {
  if (body.api_version === apiVersion) return body;
  const data = isObject(body.data) ? body.data : {};
  if (!isBeforeBasil(apiVersion) || !isObject(data.object)) return { ...body, api_version: apiVersion };
  const object = data.object;
  let converted: JsonObject = { ...data };
  if (object.object === "subscription") {
    const now = subscriptionBeforeBasil(object);
    converted = { ...data, object: now };
    if (isObject(data.previous_attributes))
      converted.previous_attributes = previousBeforeBasil(data.previous_attributes, now);
  } else if (object.object === "invoice") {
    converted = { ...data, object: invoiceBeforeBasil(object) };
  }
  return { ...body, api_version: apiVersion, data: converted };
}
