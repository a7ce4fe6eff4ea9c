/**
 * `expand[]`: replaces ids in a rendered response by the objects they name, along dotted paths
 * (`customer`, `latest_invoice`, `data.customer`, `items.data.price.product`), as Stripe does.
 * Lists are walked through their `data` arrays. A path naming a field that cannot be expanded
 * fails with Stripe's 400.
 */
import { invalidParam } from "./errors.ts";
import type { Json, JsonObject } from "./model.ts";
import {
  renderCheckoutLineItems,
  renderCustomer,
  renderInvoice,
  renderPrice,
  renderProduct,
  renderSubscription,
  renderTestClock,
} from "./render.ts";
import type { Store } from "./store.ts";

/** Stripe's limit on the depth of an expansion path. */
const MAX_DEPTH = 4;

type Resolver = (id: string) => JsonObject | undefined;

function resolvers(store: Store): Record<string, Resolver> {
  const customer: Resolver = (id) => {
    const record = store.customers.get(id);
    return record && renderCustomer(store, record);
  };
  const subscription: Resolver = (id) => {
    const record = store.subscriptions.get(id);
    return record && renderSubscription(store, record);
  };
  const invoice: Resolver = (id) => {
    const record = store.invoices.get(id);
    return record && renderInvoice(store, record);
  };
  const product: Resolver = (id) => {
    const record = store.products.get(id);
    return record && renderProduct(record);
  };
  const price: Resolver = (id) => {
    const record = store.prices.get(id);
    return record && renderPrice(record);
  };
  const testClock: Resolver = (id) => {
    const record = store.testClocks.get(id);
    return record && renderTestClock(record);
  };
  return {
    customer,
    subscription,
    latest_invoice: invoice,
    invoice,
    product,
    default_price: price,
    price,
    test_clock: testClock,
  };
}

/** Fields that are not in the object until asked for (Stripe's "includable" fields). */
function includable(store: Store, node: JsonObject, field: string): Json | undefined {
  if (node.object === "checkout.session" && field === "line_items" && typeof node.id === "string") {
    const session = store.checkoutSessions.get(node.id);
    return session && renderCheckoutLineItems(store, session);
  }
  return undefined;
}

/** Applies every `expand[]` path to `body` in place and returns it. */
export function expandResponse(store: Store, body: JsonObject, paths: readonly string[]): JsonObject {
  const table = resolvers(store);
  for (const path of paths) {
    const segments = path.split(".");
    if (
      segments.some((segment) => segment === "") ||
      segments.filter((s) => s !== "data").length > MAX_DEPTH
    ) {
      throw invalidParam(`This property cannot be expanded (${path}).`, "expand");
    }
    expandAt(store, table, body, segments, path);
  }
  return body;
}

function expandAt(
  store: Store,
  table: Record<string, Resolver>,
  node: Json,
  segments: string[],
  path: string,
): void {
  if (Array.isArray(node)) {
    for (const element of node) expandAt(store, table, element, segments, path);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const [field, ...rest] = segments;
  if (field === undefined) return;
  let value = node[field];
  const resolve = table[field];
  if (value === undefined) {
    const included = includable(store, node, field);
    if (included === undefined) throw invalidParam(`This property cannot be expanded (${path}).`, "expand");
    node[field] = included;
    value = included;
  } else if (typeof value === "string") {
    if (resolve === undefined) throw invalidParam(`This property cannot be expanded (${path}).`, "expand");
    const expanded = resolve(value);
    if (expanded !== undefined) {
      node[field] = expanded;
      value = expanded;
    }
  } else if (rest.length === 0 && resolve === undefined && !(typeof value === "object" && value !== null)) {
    throw invalidParam(`This property cannot be expanded (${path}).`, "expand");
  }
  if (rest.length > 0) expandAt(store, table, value, rest, path);
}
