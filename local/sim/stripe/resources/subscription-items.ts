/** Subscription items: which prices a subscription may hold, and the `items[n]` of create and update. */
import { subscriptionInterval } from "../billing.ts";
import { invalidParam, invalidRequest, resourceMissing } from "../errors.ts";
import { newId } from "../ids.ts";
import type { PriceRecord, SubscriptionItemRecord, SubscriptionRecord } from "../model.ts";
import { type Metadata, missingParam, type Params } from "../params.ts";
import type { Simulator } from "../simulator.ts";

export interface NewItem {
  price: PriceRecord;
  quantity: number;
  metadata: Metadata;
}

/** A price a subscription item may use: recurring and active. */
export function recurringPrice(sim: Simulator, id: string, param: string): PriceRecord {
  const price = sim.store.prices.require(id, param);
  if (price.recurring === null) {
    throw invalidParam(
      "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
      param,
    );
  }
  if (!price.active)
    throw invalidParam("The price specified is inactive. This field only accepts active prices.", param);
  return price;
}

/** Classic billing: every item shares one currency and one interval; a price appears once. */
export function checkItems(sim: Simulator, items: SubscriptionItemRecord[]): void {
  if (items.length === 0)
    throw invalidRequest("A subscription must have at least one active price.", "items");
  const prices = items.map((item) => sim.store.prices.require(item.price));
  const first = prices[0] as PriceRecord;
  const seen = new Set<string>();
  for (const [index, price] of prices.entries()) {
    if (seen.has(price.id)) {
      throw invalidParam(
        `Cannot add multiple subscription items with the same price: ${price.id}`,
        `items[${index}][price]`,
      );
    }
    seen.add(price.id);
    if (price.currency !== first.currency) {
      throw invalidParam(
        "Currency and interval fields must match across all prices on this subscription. Found mismatch in currency field.",
        `items[${index}][price]`,
      );
    }
    if (
      price.recurring?.interval !== first.recurring?.interval ||
      price.recurring?.intervalCount !== first.recurring?.intervalCount
    ) {
      throw invalidParam(
        "Currency and interval fields must match across all prices on this subscription. Found mismatch in interval field.",
        `items[${index}][price]`,
      );
    }
  }
}

export const ITEM_KEYS = [
  "price",
  "quantity",
  "metadata",
  "tax_rates",
  "billing_thresholds",
  "price_data",
  "discounts",
];

export function readNewItems(sim: Simulator, params: Params): NewItem[] {
  const items = params.objectList("items");
  if (items === undefined || items.length === 0) throw missingParam("items");
  return items.map((item) => {
    item.allowOnly(ITEM_KEYS);
    if (item.has("price_data"))
      throw invalidParam(
        "The simulator does not support price_data; create the price first.",
        item.name("price_data"),
      );
    const priceId = item.nonEmptyString("price");
    if (priceId === undefined) throw missingParam(item.name("price"));
    return {
      price: recurringPrice(sim, priceId, item.name("price")),
      quantity: item.integer("quantity", { min: 0 }) ?? 1,
      metadata: item.metadata(),
    };
  });
}

/** Applies `items[n]` of an update to `draft` (by id: change or delete; without id: add). Returns whether the interval changed. */
export function applyItemChanges(
  sim: Simulator,
  draft: SubscriptionRecord,
  params: Params,
  at: number,
): boolean {
  const changes = params.objectList("items");
  if (changes === undefined) return false;
  const before = subscriptionInterval(sim, draft);
  for (const change of changes) {
    change.allowOnly([
      "id",
      "price",
      "quantity",
      "metadata",
      "deleted",
      "clear_usage",
      "tax_rates",
      "billing_thresholds",
      "price_data",
      "discounts",
    ]);
    if (change.has("price_data"))
      throw invalidParam(
        "The simulator does not support price_data; create the price first.",
        change.name("price_data"),
      );
    const id = change.nonEmptyString("id");
    const priceId = change.nonEmptyString("price");
    const price = priceId === undefined ? undefined : recurringPrice(sim, priceId, change.name("price"));
    const quantity = change.integer("quantity", { min: 0 });
    if (id === undefined) {
      if (price === undefined) throw missingParam(change.name("price"));
      draft.items.push({
        id: newId("si"),
        created: at,
        price: price.id,
        quantity: quantity ?? 1,
        metadata: change.metadata(),
      });
      continue;
    }
    const index = draft.items.findIndex((item) => item.id === id);
    const item = draft.items[index];
    if (item === undefined) throw resourceMissing("subscription item", id, change.name("id"));
    if (change.boolean("deleted") === true) {
      draft.items.splice(index, 1);
      continue;
    }
    if (price !== undefined) item.price = price.id;
    if (quantity !== undefined) item.quantity = quantity;
    item.metadata = change.metadata("metadata", item.metadata);
  }
  checkItems(sim, draft.items);
  const currency = sim.store.prices.require((draft.items[0] as SubscriptionItemRecord).price).currency;
  if (currency !== draft.currency)
    throw invalidParam("You cannot change the currency of a subscription.", "items");
  const after = subscriptionInterval(sim, draft);
  return before.interval !== after.interval || before.count !== after.count;
}
