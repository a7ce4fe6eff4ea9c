/** Products and prices: the catalog the project seeds and sells. */
import { type ApiRequest, type ApiRoute, LIST_KEYS, pathParam } from "../api.ts";
import { invalidParam, invalidRequest, StripeSimError } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Interval, JsonObject, PriceRecord, ProductRecord } from "../model.ts";
import { missingParam, type Params, rangeFilter } from "../params.ts";
import { renderPrice, renderProduct } from "../render.ts";
import type { Simulator } from "../simulator.ts";

const PRODUCT_IGNORED = [
  "tax_code",
  "shippable",
  "package_dimensions",
  "marketing_features",
  "type",
] as const;
const PRODUCT_WRITABLE = [
  "name",
  "description",
  "active",
  "metadata",
  "images",
  "url",
  "unit_label",
  "statement_descriptor",
] as const;

/** Creates a product (the API lets the caller choose its id, as Stripe does). */
export function addProduct(
  sim: Simulator,
  input: {
    id?: string;
    name: string;
    description?: string | null;
    active?: boolean;
    metadata?: Record<string, string>;
  },
): ProductRecord {
  const id = input.id ?? newId("prod");
  if (sim.store.products.get(id) !== undefined) {
    throw invalidParam(`Product already exists.`, "id", "resource_already_exists");
  }
  const now = sim.realNow();
  return sim.store.products.add({
    id,
    created: now,
    updated: now,
    name: input.name,
    description: input.description ?? null,
    active: input.active ?? true,
    metadata: input.metadata ?? {},
    defaultPrice: null,
    images: [],
    url: null,
    unitLabel: null,
    statementDescriptor: null,
  });
}

function applyProductFields(product: ProductRecord, params: Params): void {
  const name = params.nonEmptyString("name");
  if (name !== undefined) product.name = name;
  const description = params.clearableString("description");
  if (description !== undefined) product.description = description;
  const active = params.boolean("active");
  if (active !== undefined) product.active = active;
  product.metadata = params.metadata("metadata", product.metadata);
  const images = params.stringList("images");
  if (images !== undefined) product.images = images;
  const url = params.clearableString("url");
  if (url !== undefined) product.url = url;
  const unitLabel = params.clearableString("unit_label");
  if (unitLabel !== undefined) product.unitLabel = unitLabel;
  const descriptor = params.clearableString("statement_descriptor");
  if (descriptor !== undefined) product.statementDescriptor = descriptor;
}

function createProduct({ sim, params, origin }: ApiRequest): JsonObject {
  params.allowOnly(["id", ...PRODUCT_WRITABLE, ...PRODUCT_IGNORED, "default_price_data"]);
  if (params.has("default_price_data")) {
    throw invalidParam(
      "The simulator does not support default_price_data; create the price with prices.create.",
      "default_price_data",
    );
  }
  const product = addProduct(sim, { name: params.requiredString("name"), ...optionalId(params) });
  applyProductFields(product, params);
  const body = renderProduct(product);
  sim.events.emit("product.created", body, { created: product.created, origin });
  return body;
}

function optionalId(params: Params): { id?: string } {
  const id = params.nonEmptyString("id");
  return id === undefined ? {} : { id };
}

function updateProduct(request: ApiRequest): JsonObject {
  const { sim, params, origin } = request;
  params.allowOnly([...PRODUCT_WRITABLE, ...PRODUCT_IGNORED, "default_price"]);
  const product = sim.store.products.require(pathParam(request, "id"));
  const before = renderProduct(product);
  applyProductFields(product, params);
  const defaultPrice = params.clearableString("default_price");
  if (defaultPrice != null) {
    const price = sim.store.prices.require(defaultPrice, "default_price");
    if (price.product !== product.id)
      throw invalidParam("The default price must belong to this product.", "default_price");
  }
  if (defaultPrice !== undefined) product.defaultPrice = defaultPrice;
  product.updated = sim.realNow();
  const after = renderProduct(product);
  sim.events.emitUpdate("product.updated", before, after, { created: product.updated, origin });
  return after;
}

function listProducts({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly([...LIST_KEYS, "active", "ids", "created", "shippable", "url"]);
  const active = params.boolean("active");
  const ids = params.stringList("ids");
  const created = rangeFilter(params, "created");
  return sim.store.products.page(
    params,
    "/v1/products",
    (product) =>
      (active === undefined || product.active === active) &&
      (ids === undefined || ids.includes(product.id)) &&
      (created === undefined || created(product.created)),
    renderProduct,
  );
}

const INTERVALS: Interval[] = ["day", "week", "month", "year"];

export interface PriceInput {
  id?: string;
  product: string;
  currency: string;
  unitAmount: number;
  recurring: { interval: Interval; intervalCount: number } | null;
  lookupKey?: string | null;
  transferLookupKey?: boolean;
  nickname?: string | null;
  metadata?: Record<string, string>;
  active?: boolean;
}

/** Stripe keeps lookup keys unique: a taken key is an error unless `transfer_lookup_key` moves it. */
function claimLookupKey(sim: Simulator, key: string, transfer: boolean, owner: string): void {
  const holder = sim.store.prices.values().find((price) => price.lookupKey === key && price.id !== owner);
  if (holder === undefined) return;
  if (!transfer) {
    throw invalidParam(
      `A price (\`${holder.id}\`) already uses that lookup key. Set transfer_lookup_key to true to move it to this price.`,
      "lookup_key",
    );
  }
  holder.lookupKey = null;
}

/** Creates a price (the control API may choose its id; Stripe's API cannot). */
export function addPrice(sim: Simulator, input: PriceInput): PriceRecord {
  sim.store.products.require(input.product, "product");
  const id = input.id ?? newId("price");
  if (sim.store.prices.get(id) !== undefined)
    throw invalidParam("Price already exists.", "id", "resource_already_exists");
  if (input.lookupKey != null) claimLookupKey(sim, input.lookupKey, input.transferLookupKey ?? false, id);
  return sim.store.prices.add({
    id,
    created: sim.realNow(),
    product: input.product,
    active: input.active ?? true,
    currency: input.currency.toLowerCase(),
    unitAmount: input.unitAmount,
    recurring: input.recurring,
    lookupKey: input.lookupKey ?? null,
    nickname: input.nickname ?? null,
    metadata: input.metadata ?? {},
  });
}

function readRecurring(params: Params): PriceInput["recurring"] {
  const recurring = params
    .object("recurring")
    ?.allowOnly(["interval", "interval_count", "usage_type", "meter", "trial_period_days"]);
  if (recurring === undefined) return null;
  const interval = recurring.enumeration("interval", INTERVALS);
  if (interval === undefined) throw missingParam("recurring[interval]");
  const usageType = recurring.enumeration("usage_type", ["licensed", "metered"]);
  if (usageType === "metered")
    throw invalidParam("The simulator supports licensed prices only.", "recurring[usage_type]");
  return { interval, intervalCount: recurring.integer("interval_count", { min: 1, max: 365 }) ?? 1 };
}

function createPrice({ sim, params, origin }: ApiRequest): JsonObject {
  params.allowOnly([
    "currency",
    "unit_amount",
    "unit_amount_decimal",
    "product",
    "product_data",
    "recurring",
    "lookup_key",
    "transfer_lookup_key",
    "nickname",
    "metadata",
    "active",
    "tax_behavior",
    "billing_scheme",
  ]);
  const currency = params.requiredString("currency");
  let product = params.nonEmptyString("product");
  const productData = params.object("product_data");
  if (product === undefined && productData === undefined) throw missingParam("product");
  if (product !== undefined && productData !== undefined) {
    throw new StripeSimError(400, "You may only specify one of these parameters: product, product_data.", {
      code: "parameters_exclusive",
      param: "product",
    });
  }
  if (productData !== undefined) {
    productData.allowOnly(["name", "active", "metadata", "statement_descriptor", "tax_code", "unit_label"]);
    const created = addProduct(sim, {
      name: productData.requiredString("name"),
      metadata: productData.metadata(),
    });
    product = created.id;
  }
  const unitAmount = params.integer("unit_amount", { min: 0 }) ?? decimalAmount(params);
  if (unitAmount === undefined) throw missingParam("unit_amount");
  if (params.string("billing_scheme") === "tiered")
    throw invalidParam("The simulator supports per_unit prices only.", "billing_scheme");
  const price = addPrice(sim, {
    product: product ?? "",
    currency,
    unitAmount,
    recurring: readRecurring(params),
    lookupKey: params.clearableString("lookup_key") ?? null,
    transferLookupKey: params.boolean("transfer_lookup_key") ?? false,
    nickname: params.clearableString("nickname") ?? null,
    metadata: params.metadata(),
    active: params.boolean("active") ?? true,
  });
  const body = renderPrice(price);
  sim.events.emit("price.created", body, { created: price.created, origin });
  return body;
}

/** `unit_amount_decimal` with no fractional cents (the simulator bills whole cents). */
function decimalAmount(params: Params): number | undefined {
  const raw = params.string("unit_amount_decimal");
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw))
    throw invalidParam("The simulator supports whole-cent amounts only.", "unit_amount_decimal");
  return Number(raw);
}

function updatePrice(request: ApiRequest): JsonObject {
  const { sim, params, origin } = request;
  params.allowOnly(["active", "lookup_key", "transfer_lookup_key", "nickname", "metadata", "tax_behavior"]);
  const price = sim.store.prices.require(pathParam(request, "id"));
  const before = renderPrice(price);
  const active = params.boolean("active");
  if (active === false && price.active && sim.store.products.get(price.product)?.defaultPrice === price.id) {
    // As Stripe answers it (stripe/stripe-python#658): make another price the default, or clear it, first.
    throw invalidRequest("This price cannot be archived because it is the default price of its product.");
  }
  if (active !== undefined) price.active = active;
  const lookupKey = params.clearableString("lookup_key");
  if (lookupKey != null)
    claimLookupKey(sim, lookupKey, params.boolean("transfer_lookup_key") ?? false, price.id);
  if (lookupKey !== undefined) price.lookupKey = lookupKey;
  const nickname = params.clearableString("nickname");
  if (nickname !== undefined) price.nickname = nickname;
  price.metadata = params.metadata("metadata", price.metadata);
  const after = renderPrice(price);
  sim.events.emitUpdate("price.updated", before, after, { created: sim.realNow(), origin });
  return after;
}

function listPrices({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly([
    ...LIST_KEYS,
    "active",
    "product",
    "lookup_keys",
    "type",
    "currency",
    "recurring",
    "created",
  ]);
  const active = params.boolean("active");
  const product = params.nonEmptyString("product");
  const lookupKeys = params.stringList("lookup_keys");
  if (lookupKeys !== undefined && lookupKeys.length > 10) {
    throw invalidParam("You can pass up to 10 lookup keys.", "lookup_keys");
  }
  const type = params.enumeration("type", ["one_time", "recurring"]);
  const currency = params.string("currency")?.toLowerCase();
  const recurring = params.object("recurring")?.allowOnly(["interval", "usage_type", "meter"]);
  const interval = recurring?.enumeration("interval", INTERVALS);
  const created = rangeFilter(params, "created");
  return sim.store.prices.page(
    params,
    "/v1/prices",
    (price) =>
      (active === undefined || price.active === active) &&
      (product === undefined || price.product === product) &&
      (lookupKeys === undefined || (price.lookupKey !== null && lookupKeys.includes(price.lookupKey))) &&
      (type === undefined || (type === "recurring") === (price.recurring !== null)) &&
      (currency === undefined || price.currency === currency) &&
      (interval === undefined || price.recurring?.interval === interval) &&
      (created === undefined || created(price.created)),
    renderPrice,
  );
}

export const catalogRoutes: ApiRoute[] = [
  { method: "POST", path: "/v1/products", handler: createProduct },
  { method: "GET", path: "/v1/products", handler: listProducts },
  {
    method: "GET",
    path: "/v1/products/:id",
    handler: (request) => renderProduct(request.sim.store.products.require(pathParam(request, "id"))),
  },
  { method: "POST", path: "/v1/products/:id", handler: updateProduct },
  { method: "POST", path: "/v1/prices", handler: createPrice },
  { method: "GET", path: "/v1/prices", handler: listPrices },
  {
    method: "GET",
    path: "/v1/prices/:id",
    handler: (request) => renderPrice(request.sim.store.prices.require(pathParam(request, "id"))),
  },
  { method: "POST", path: "/v1/prices/:id", handler: updatePrice },
];
