import * as z from "zod/mini";

/**
 * The catalog: which integrator.io connectors the vendor sells, the editions and add-ons of
 * each, the Stripe prices that buy them, and the licensing policy (docs/architecture.md §5).
 *
 * ```json
 * { "$schema": "./catalog.schema.json",
 *   "connectors": [ { "key": "shopify-netsuite", "connectorId": "65f1c0a2b7d94e3a1c8b7d20",
 *       "name": "Shopify ↔ NetSuite", "trialDays": 30,
 *       "editions": [ { "key": "standard", "prices": ["price_std_month", "std_yearly"] },
 *                     { "key": "premium",  "prices": ["price_prem_month",
 *                         { "lookupKey": "prem_yearly", "amount": 199000, "currency": "usd", "interval": "year" }] } ],
 *       "addons": [ { "key": "store", "type": "store", "addOnEdition": "standard", "prices": ["price_store_month"],
 *                     "maxQuantity": 100 } ] } ],
 *   "policy": { "renewalBufferDays": 3, "pastDueGraceDays": 14, "onEnd": "expire" } }
 * ```
 *
 * - A price is a string or an object. A string that starts with `price_` is a Stripe price
 *   **id**; any other string is a price **lookup key** (so yearly prices can be swapped in
 *   Stripe without a deploy). An object `{"lookupKey", "amount", "currency", "interval"}` is a
 *   lookup key with what the price charges (amount in the currency's minor unit, e.g. cents;
 *   interval `month` or `year`): `catalog push-stripe` creates it in Stripe (lib/stripe/catalog-push.ts).
 *   The three go together; an object with only `lookupKey` is the same as the string.
 * - Every price reference appears once in the whole catalog: a price buys exactly one thing.
 * - Connector keys (used in URLs) and connector ids are unique; edition and add-on keys are
 *   unique within their connector.
 * - Editions are listed lowest first: if one subscription ever holds two editions of a
 *   connector, the one listed last counts.
 * - An add-on's `maxQuantity` (default 100, at most 1000) caps its units per license.
 * - Unknown fields are rejected (a typo like `trialdays` must not pass silently); `$schema` (the
 *   file's JSON Schema, local/catalog.schema.json, generated from this schema) is accepted and
 *   dropped.
 *
 * `parseCatalog` is pure; reading the file is `loadCatalogFile` in `catalog-file.ts`.
 */

const describe = z.describe;
/** The schema with a description (shown by editors through the generated JSON Schema). */
const about = <T extends z.ZodMiniType>(schema: T, description: string): T =>
  schema.check(describe(description)) as T;
const slug = z
  .string()
  .check(z.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "must be lowercase letters, digits and single dashes"));
const text = z.string().check(z.trim(), z.minLength(1, "must not be empty"));
const priceRefSchema = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9_.:-]+$/, "must be a Stripe price id (price_...) or a lookup key, without spaces"),
    describe(
      "A Stripe price id (price_...), checked by `catalog push-stripe`, or a price lookup key (any other string).",
    ),
  );

/** The intervals a catalog price may bill on (checkout sells monthly and yearly prices). */
export const CATALOG_PRICE_INTERVALS = ["month", "year"] as const;

/** Fields of a price object that go together: a price Stripe can create needs all three. */
const PRICE_TERMS = ["amount", "currency", "interval"] as const;

/** A catalog price written as an object (exported for the JSON Schema, catalog-schema.ts). */
export const catalogPriceObjectSchema = z
  .strictObject({
    lookupKey: z
      .string()
      .check(
        z.regex(
          /^(?!price_)[A-Za-z0-9_.:-]+$/,
          "must be a lookup key without spaces, not starting with price_ (that reads as a price id)",
        ),
        z.maxLength(200, "must be at most 200 characters (Stripe's limit)"),
        describe("The Stripe price's lookup key (unique in the Stripe account)."),
      ),
    amount: z.optional(
      z
        .number()
        .check(
          z.int("must be a whole number in the currency's minor unit (cents for usd)"),
          z.nonnegative("must not be negative"),
          describe(
            "What the price charges per unit and interval, in the currency's minor unit (cents for usd).",
          ),
        ),
    ),
    currency: z.optional(
      z
        .string()
        .check(
          z.regex(/^[a-z]{3}$/, "must be a three-letter ISO currency code in lowercase, like usd"),
          describe("Three-letter ISO currency code, lowercase (usd, eur, ...)."),
        ),
    ),
    interval: z.optional(
      z
        .enum(CATALOG_PRICE_INTERVALS)
        .check(describe("How often the price bills: every month or every year.")),
    ),
  })
  .check(
    z.superRefine((price, ctx) => {
      const given = PRICE_TERMS.filter((field) => price[field] !== undefined);
      if (given.length === 0 || given.length === PRICE_TERMS.length) return;
      for (const field of PRICE_TERMS.filter((f) => price[f] === undefined)) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `is required with ${given.join(" and ")} (amount, currency and interval go together)`,
          input: price,
        });
      }
    }),
    describe(
      "A lookup-key price with its terms: `catalog push-stripe` creates it in Stripe (and replaces it when the amount changes). amount, currency and interval go together.",
    ),
  );

const price = z.union([priceRefSchema, catalogPriceObjectSchema], {
  error: "must be a price id or lookup key (a string), or an object {lookupKey, amount, currency, interval}",
});
const prices = z
  .array(price)
  .check(
    z.minLength(1, "must list at least one price"),
    describe("The Stripe prices that buy this; each appears once in the whole catalog."),
  );
const days = z.number().check(z.int("must be a whole number of days"), z.nonnegative("must not be negative"));

/** A catalog price: a price id or lookup key, or a lookup key with its amount, currency and interval. */
export type CatalogPrice = z.infer<typeof price>;
/** A catalog price written as an object. */
export type CatalogPriceObject = z.infer<typeof catalogPriceObjectSchema>;

const editionSchema = z
  .strictObject({
    key: about(slug, "The edition's key (`edition` in checkout and the integrator.io license)."),
    /** Display name for listings and checkout; defaults to the key. */
    name: z.optional(about(text, "Display name for listings and checkout; defaults to the key.")),
    prices,
  })
  .check(describe("An edition of the connector; editions are listed lowest first."));

/** What an add-on's `maxQuantity` is when the catalog does not say. */
export const DEFAULT_ADDON_MAX_QUANTITY = 100;
/** The highest `maxQuantity` a catalog may give: each unit is one entry of the license record (400 KB per item). */
export const ADDON_MAX_QUANTITY_CEILING = 1000;

const addonSchema = z.strictObject({
  key: about(slug, "The add-on's key, unique within its connector."),
  name: z.optional(about(text, "Display name for listings and checkout; defaults to the key.")),
  /** `opts.addonLicenses[].type` in the integrator.io license. */
  type: about(text, "`opts.addonLicenses[].type` in the integrator.io license."),
  /** `opts.addonLicenses[].licenses[].addOnEdition` in the integrator.io license. */
  addOnEdition: about(text, "`opts.addonLicenses[].licenses[].addOnEdition` in the integrator.io license."),
  prices,
  /**
   * The most units of this add-on one license holds: checkout refuses more, and the licensing
   * rules grant at most this many whatever Stripe holds (`quantity.capped`).
   */
  maxQuantity: z._default(
    z
      .number()
      .check(
        z.int("must be a whole number"),
        z.positive("must be at least 1"),
        z.maximum(ADDON_MAX_QUANTITY_CEILING, `must be at most ${ADDON_MAX_QUANTITY_CEILING}`),
        describe("The most units of this add-on one license holds (checkout refuses more)."),
      ),
    DEFAULT_ADDON_MAX_QUANTITY,
  ),
});

/** A function name as integrator.io's connector document holds it. */
const functionName = z
  .string()
  .check(z.regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, "must be a function name (letters, digits, _ and $)"));

/**
 * The names the connector document in integrator.io gives its own functions
 * (`installerFunction`, `updateFunction`, `preUninstallFunction`, `uninstallerFunction`). Each
 * defaults to the field's own name; the stack answers a call of the configured name with the
 * built-in lifecycle function.
 */
const stackFunctionsSchema = z
  .strictObject({
    installerFunction: z.optional(functionName),
    updateFunction: z.optional(functionName),
    preUninstallFunction: z.optional(functionName),
    uninstallerFunction: z.optional(functionName),
  })
  .check(
    describe(
      "The names the connector document in integrator.io gives its lifecycle functions (each defaults to its field's name).",
    ),
  );

/** The connector document's lifecycle fields, each of which names a built-in function of the stack. */
export const CONNECTOR_FUNCTION_FIELDS = [
  "installerFunction",
  "updateFunction",
  "preUninstallFunction",
  "uninstallerFunction",
] as const;
export type ConnectorFunctionField = (typeof CONNECTOR_FUNCTION_FIELDS)[number];

/** The stack's settings built-ins: no lifecycle function may take one of their names. */
const SETTINGS_FUNCTIONS: ReadonlySet<string> = new Set([
  "persistSettings",
  "refreshMetadata",
  "changeEdition",
  "getMappingMetadata",
]);

const connectorSchema = z.strictObject({
  key: about(slug, "The connector's key, used in URLs (also the id of its Stripe product)."),
  connectorId: z
    .string()
    .check(
      z.regex(/^[0-9a-f]{24}$/, "must be an integrator.io _connectorId (24 lowercase hex characters)"),
      describe("The connector's _connectorId in integrator.io."),
    ),
  name: about(text, "Display name (listings, checkout, the Stripe product)."),
  description: z.optional(z.string().check(describe("Fallback description for listings."))),
  trialDays: z.optional(
    about(days, "Days of free trial, offered once per integrator.io email and connector."),
  ),
  editions: z
    .array(editionSchema)
    .check(z.minLength(1, "must list at least one edition"), describe("The editions, lowest first.")),
  addons: z._default(z.array(addonSchema).check(describe("The add-ons sold with the connector.")), []),
  stackFunctions: z.optional(stackFunctionsSchema),
});

const policySchema = z.strictObject({
  /** Days an active license outlives its paid period, so a renewal webhook may arrive late. */
  renewalBufferDays: about(
    days,
    "Days an active license outlives its paid period (a renewal may arrive late).",
  ),
  /** Days a past_due subscription keeps its license after the period end. */
  pastDueGraceDays: about(days, "Days a past_due subscription keeps its license after the period end."),
  /** What ended subscriptions do to their license: expire it now, or delete it. */
  onEnd: z
    .enum(["expire", "delete"])
    .check(describe("What an ended subscription does to its license: expire it now, or delete it.")),
});

/** The catalog file's schema: `$schema` is accepted (for editors) and dropped by `parseCatalog`. */
export const catalogSchema = z
  .strictObject({
    $schema: z.optional(z.string().check(describe("This file's JSON Schema: ./catalog.schema.json."))),
    connectors: z.array(connectorSchema).check(describe("The connectors the vendor sells.")),
    policy: policySchema.check(describe("The licensing policy.")),
  })
  .check(
    z.superRefine((catalog, ctx) => {
      const duplicate = (path: (string | number)[], message: string) =>
        ctx.addIssue({ code: "custom", path, message, input: catalog });
      const connectorKeys = new Map<string, number>();
      const connectorIds = new Map<string, number>();
      const priceRefs = new Map<string, string>();
      catalog.connectors.forEach((connector, c) => {
        const keyAt = connectorKeys.get(connector.key);
        if (keyAt !== undefined)
          duplicate(["connectors", c, "key"], `duplicate key (also connectors[${keyAt}])`);
        else connectorKeys.set(connector.key, c);
        const idAt = connectorIds.get(connector.connectorId);
        if (idAt !== undefined) {
          duplicate(["connectors", c, "connectorId"], `duplicate connectorId (also connectors[${idAt}])`);
        } else connectorIds.set(connector.connectorId, c);

        const uniqueKeys = (list: "editions" | "addons") => {
          const seen = new Map<string, number>();
          connector[list].forEach((entry, i) => {
            const at = seen.get(entry.key);
            if (at !== undefined)
              duplicate(["connectors", c, list, i, "key"], `duplicate key (also ${list}[${at}])`);
            else seen.set(entry.key, i);
            entry.prices.forEach((entryPrice, p) => {
              const ref = priceRef(entryPrice);
              const here = `connectors[${c}].${list}[${i}].prices[${p}]`;
              const firstAt = priceRefs.get(ref);
              if (firstAt !== undefined) {
                duplicate(
                  ["connectors", c, list, i, "prices", p],
                  `price "${ref}" is already used at ${firstAt}`,
                );
              } else priceRefs.set(ref, here);
            });
          });
        };
        uniqueKeys("editions");
        uniqueKeys("addons");
        const fieldOfName = new Map<string, string>();
        for (const [field, name] of Object.entries(connectorFunctionNames(connector))) {
          const other = fieldOfName.get(name);
          const at = ["connectors", c, "stackFunctions", field];
          if (SETTINGS_FUNCTIONS.has(name)) duplicate(at, `${name} is a settings function of the stack`);
          else if (other !== undefined) duplicate(at, `names the same function as ${other}`);
          else fieldOfName.set(name, field);
        }
      });
    }),
  );

/** A validated catalog (without `$schema`). */
export type Catalog = Omit<z.infer<typeof catalogSchema>, "$schema">;
export type CatalogConnector = Catalog["connectors"][number];

/** The function name the connector document gives each lifecycle field (its own name unless the catalog says otherwise). */
export function connectorFunctionNames(connector: CatalogConnector): Record<ConnectorFunctionField, string> {
  const names = {} as Record<ConnectorFunctionField, string>;
  for (const field of CONNECTOR_FUNCTION_FIELDS) names[field] = connector.stackFunctions?.[field] ?? field;
  return names;
}
export type CatalogEdition = CatalogConnector["editions"][number];
export type CatalogAddon = CatalogConnector["addons"][number];
export type LicensePolicy = Catalog["policy"];

/** Thrown when a catalog does not validate; `issues` holds one `path: message` line per problem. */
export class CatalogError extends Error {
  override name = "CatalogError";
  readonly issues: string[];
  constructor(message: string, issues: string[], options?: ErrorOptions) {
    super(message, options);
    this.issues = issues;
  }
}

/** Readable messages for zod/mini's built-in issues (it ships no locale; field checks carry their own). */
function messageFor(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return "is required";
    const article = /^[aeiou]/.test(issue.expected) ? "an" : "a";
    return `must be ${article} ${issue.expected === "int" ? "whole number" : issue.expected}`;
  }
  if (issue.code === "invalid_value")
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return undefined;
}

/** `["connectors", 0, "editions", 1, "key"]` → `connectors[0].editions[1].key`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out || "catalog";
}

/**
 * Validates catalog JSON (already parsed from text) into a `Catalog`.
 * @throws CatalogError naming every bad field, e.g. `connectors[0].editions[1].key: duplicate key (also editions[0])`.
 */
export function parseCatalog(json: unknown): Catalog {
  const result = catalogSchema.safeParse(json, { error: messageFor });
  if (result.success) {
    const { $schema: _schema, ...catalog } = result.data;
    return catalog;
  }
  const issues = result.error.issues.flatMap((issue) => issueLines(issue, []));
  throw new CatalogError(`Invalid catalog: ${issues.join("; ")}`, issues);
}

/** One `path: message` line per problem; `base` is the path of the union an issue came from. */
function issueLines(issue: z.core.$ZodIssue, base: PropertyKey[]): string[] {
  const path = [...base, ...issue.path];
  // A price that is an object failing as one (not as a string): the object's own problems, not "must be a string or an object".
  if (issue.code === "invalid_union") {
    const tried = issue.errors.filter(
      (option) => !option.some((inner) => inner.code === "invalid_type" && inner.path.length === 0),
    );
    if (tried.length === 1) return (tried[0] ?? []).flatMap((inner) => issueLines(inner, path));
  }
  // "Unrecognized key" issues name the key in `keys`, not in the path.
  if (issue.code === "unrecognized_keys")
    return [`${formatPath(path)}: unknown field(s) ${issue.keys.join(", ")}`];
  return [`${formatPath(path)}: ${issue.message}`];
}

/** True when a catalog price reference is a Stripe price id; otherwise it is a lookup key. */
export function isPriceIdRef(ref: string): boolean {
  return ref.startsWith("price_");
}

/** A catalog price's reference: the string as written, or the object's lookup key. */
export function priceRef(price: CatalogPrice): string {
  return typeof price === "string" ? price : price.lookupKey;
}

/** The price references of an edition or add-on, in catalog order. */
export function priceRefs(entry: { prices: readonly CatalogPrice[] }): string[] {
  return entry.prices.map(priceRef);
}

/** What a Stripe price buys, found by `lookupPrice`; `price` is the catalog entry as written, `ref` its reference. */
export type PriceMatch =
  | {
      kind: "edition";
      connector: CatalogConnector;
      edition: CatalogEdition;
      ref: string;
      price: CatalogPrice;
    }
  | { kind: "addon"; connector: CatalogConnector; addon: CatalogAddon; ref: string; price: CatalogPrice };

/**
 * What a Stripe price buys: the catalog entry whose reference is the price's id or its lookup
 * key. A match by id wins over a match by lookup key (an id is the more specific reference).
 * `undefined` for a price the catalog does not know — record it, never guess.
 *
 * @example lookupPrice(catalog, { id: "price_1Q...", lookup_key: "std_yearly" })
 *   // → { kind: "edition", connector: {key: "shopify-netsuite", ...}, edition: {key: "standard", ...}, ref: "std_yearly" }
 */
export function lookupPrice(
  catalog: Catalog,
  price: { id: string; lookup_key?: string | null | undefined },
): PriceMatch | undefined {
  return (
    findRef(catalog, price.id) ?? (price.lookup_key ? findRef(catalog, price.lookup_key, false) : undefined)
  );
}

/** The catalog entry that lists exactly this price reference (a price id or a lookup key). */
export function lookupPriceRef(catalog: Catalog, ref: string): PriceMatch | undefined {
  return findRef(catalog, ref);
}

function findRef(catalog: Catalog, ref: string, asId = isPriceIdRef(ref)): PriceMatch | undefined {
  // A lookup key that happens to start with `price_` cannot be listed (it would read as an id).
  if (isPriceIdRef(ref) !== asId) return undefined;
  return catalogPriceRefs(catalog).find((match) => match.ref === ref);
}

/** The connector with this integrator.io `_connectorId`. */
export function connectorById(catalog: Catalog, connectorId: string): CatalogConnector | undefined {
  return catalog.connectors.find((connector) => connector.connectorId === connectorId);
}

/** The connector with this catalog key (the `{key}` of the marketplace and admin routes). */
export function connectorByKey(catalog: Catalog, key: string): CatalogConnector | undefined {
  return catalog.connectors.find((connector) => connector.key === key);
}

/** Every price reference in the catalog with what it buys, in catalog order (seeding the Stripe simulator, listings, `catalog push-stripe`). */
export function catalogPriceRefs(catalog: Catalog): PriceMatch[] {
  return catalog.connectors.flatMap((connector) => [
    ...connector.editions.flatMap((edition) =>
      edition.prices.map(
        (price): PriceMatch => ({ kind: "edition", connector, edition, ref: priceRef(price), price }),
      ),
    ),
    ...connector.addons.flatMap((addon) =>
      addon.prices.map(
        (price): PriceMatch => ({ kind: "addon", connector, addon, ref: priceRef(price), price }),
      ),
    ),
  ]);
}
