/**
 * `integrator-licensing catalog push-stripe` and `catalog check` against the Stripe simulator,
 * through the official `stripe` SDK: the command reads a catalog file and STRIPE_SECRET_KEY /
 * STRIPE_API_URL as an operator would set them.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Stripe from "stripe";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CatalogStripeCommand, runCatalogStripe } from "#lib/cli/catalog-stripe.ts";
import { CliError } from "#lib/cli/errors.ts";
import { type StripeSimulator, startStripeSimulator } from "#local/sim/stripe/index.ts";
import { CLI_BUNDLE, runCliBundle } from "#test/helpers/cli-bundle.ts";
import { stripeFor } from "#test/helpers/stripe-sim.ts";

const KEY = "sk_test_catalog_push";

let dir: string;
let sim: StripeSimulator;
let stripe: Stripe;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "catalog-push-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  sim = await startStripeSimulator({ quiet: true });
  stripe = stripeFor(sim.port, KEY);
});
afterEach(async () => {
  await sim.stop();
});

type Price = string | { lookupKey: string; amount?: number; currency?: string; interval?: "month" | "year" };

/** A catalog of two connectors, both selling a "store" add-on; prices as given (defaults: yearly objects, a monthly id). */
function catalogJson(prices: { std?: Price[]; prem?: Price[]; store?: Price[]; amzStore?: Price[] } = {}) {
  return {
    $schema: "./catalog.schema.json",
    connectors: [
      {
        key: "shopify-netsuite",
        connectorId: "65f1c0a2b7d94e3a1c8b7d20",
        name: "Shopify ↔ NetSuite",
        description: "Shopify orders into NetSuite.",
        editions: [
          {
            key: "standard",
            name: "Standard",
            prices: prices.std ?? [
              "price_std_month",
              { lookupKey: "std_yearly", amount: 99000, currency: "usd", interval: "year" },
            ],
          },
          {
            key: "premium",
            prices: prices.prem ?? [
              { lookupKey: "prem_monthly", amount: 19900, currency: "usd", interval: "month" },
              { lookupKey: "prem_yearly", amount: 199000, currency: "usd", interval: "year" },
            ],
          },
        ],
        addons: [
          {
            key: "store",
            name: "Additional store",
            type: "store",
            addOnEdition: "standard",
            prices: prices.store ?? [
              { lookupKey: "store_monthly", amount: 2900, currency: "usd", interval: "month" },
            ],
          },
        ],
      },
      {
        key: "amazon-netsuite",
        connectorId: "65f1c0a2b7d94e3a1c8b7d21",
        name: "Amazon ↔ NetSuite",
        editions: [
          {
            key: "standard",
            prices: [{ lookupKey: "amz_monthly", amount: 4900, currency: "usd", interval: "month" }],
          },
        ],
        addons: [
          {
            key: "store",
            type: "store",
            addOnEdition: "standard",
            prices: prices.amzStore ?? [
              { lookupKey: "amz_store_monthly", amount: 1900, currency: "usd", interval: "month" },
            ],
          },
        ],
      },
    ],
    policy: { renewalBufferDays: 3, pastDueGraceDays: 14, onEnd: "expire" },
  };
}

let files = 0;
function writeCatalog(json: unknown): string {
  files += 1;
  const path = join(dir, `catalog-${files}.json`);
  writeFileSync(path, JSON.stringify(json, null, 2));
  return path;
}

/** Seeds a price with a chosen `price_` id, as a vendor's own Stripe setup would hold it. */
async function seedIdPrice(id: string, unitAmount = 9900): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${sim.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  };
  await post("/_sim/products", { id: `prod_vendor_${id}`, name: "Vendor's own product" });
  await post("/_sim/prices", {
    id,
    product: `prod_vendor_${id}`,
    unit_amount: unitAmount,
    currency: "usd",
    recurring: { interval: "month" },
  });
}

interface Run {
  code: number;
  out: string[];
  err: string;
  /** `--json`'s answer. */
  json: Record<string, unknown>;
}

async function run(
  command: CatalogStripeCommand,
  { json = true, env = {} }: { json?: boolean; env?: Record<string, string> } = {},
): Promise<Run> {
  const out: string[] = [];
  let err = "";
  const code = await runCatalogStripe(command, {
    output: { out: (text) => out.push(text), err: (text) => (err += text) },
    json,
    env: { STRIPE_SECRET_KEY: KEY, STRIPE_API_URL: sim.url, ...env },
  });
  return { code, out, err, json: json ? (JSON.parse(out.at(-1) ?? "{}") as Record<string, unknown>) : {} };
}

const push = (catalog: string, dryRun = false): CatalogStripeCommand => ({
  name: "catalog push-stripe",
  catalog,
  dryRun,
});

async function priceByKey(key: string): Promise<Stripe.Price | undefined> {
  return (await stripe.prices.list({ lookup_keys: [key] })).data[0];
}

describe("catalog push-stripe", () => {
  it("creates the products and prices once; a second run changes nothing", async () => {
    await seedIdPrice("price_std_month");
    const catalog = writeCatalog(catalogJson());

    const first = await run(push(catalog));
    expect(first.code).toBe(0);
    // Products: shopify-netsuite, shopify-netsuite_store, amazon-netsuite, amazon-netsuite_store; prices: 6 lookup keys.
    expect(first.json).toEqual({ created: 10, updated: 0, unchanged: 1, missing: 0, dryRun: false });
    expect(first.err).toContain('create     product shopify-netsuite "Shopify ↔ NetSuite"');
    expect(first.err).toContain(
      "create     price std_yearly (shopify-netsuite edition standard): 990.00 USD / year on product shopify-netsuite",
    );
    expect(first.err).toContain("unchanged  price price_std_month (shopify-netsuite edition standard)");

    const yearly = await priceByKey("std_yearly");
    expect(yearly).toMatchObject({
      active: true,
      unit_amount: 99000,
      currency: "usd",
      recurring: { interval: "year", interval_count: 1 },
      product: "shopify-netsuite",
      metadata: { catalog_connector: "shopify-netsuite", catalog_edition: "standard" },
    });
    expect(await priceByKey("store_monthly")).toMatchObject({
      unit_amount: 2900,
      product: "shopify-netsuite_store",
    });
    expect(await priceByKey("amz_store_monthly")).toMatchObject({
      unit_amount: 1900,
      product: "amazon-netsuite_store",
    });
    expect(await stripe.products.retrieve("shopify-netsuite")).toMatchObject({
      name: "Shopify ↔ NetSuite",
      description: "Shopify orders into NetSuite.",
      active: true,
    });
    expect((await stripe.products.retrieve("shopify-netsuite_store")).name).toBe(
      "Shopify ↔ NetSuite: Additional store",
    );
    const pricesBefore = (await stripe.prices.list({ limit: 100 })).data.length;

    const second = await run(push(catalog));
    expect(second.code).toBe(0);
    expect(second.json).toEqual({ created: 0, updated: 0, unchanged: 7, missing: 0, dryRun: false });
    expect((await stripe.prices.list({ limit: 100 })).data).toHaveLength(pricesBefore);
    expect((await priceByKey("std_yearly"))?.id).toBe(yearly?.id);

    const check = await run({ name: "catalog check", catalog });
    expect(check.code).toBe(0);
    expect(check.json).toEqual({ checked: 7, missing: [] });
  });

  it("a changed amount: a new price takes the lookup key over and the old one is archived", async () => {
    await seedIdPrice("price_std_month");
    await run(push(writeCatalog(catalogJson())));
    const old = await priceByKey("prem_yearly");
    expect(old?.unit_amount).toBe(199000);

    const raised = writeCatalog(
      catalogJson({
        prem: [
          { lookupKey: "prem_monthly", amount: 19900, currency: "usd", interval: "month" },
          { lookupKey: "prem_yearly", amount: 249000, currency: "usd", interval: "year" },
        ],
      }),
    );
    const dry = await run(push(raised, true));
    expect(dry.json).toEqual({ created: 0, updated: 1, unchanged: 6, missing: 0, dryRun: true });
    expect(dry.err).toContain(
      `replace    price prem_yearly (shopify-netsuite edition premium): 1990.00 USD / year → 2490.00 USD / year; a new price on product shopify-netsuite takes the lookup key, ${old?.id} is archived`,
    );
    expect((await priceByKey("prem_yearly"))?.id).toBe(old?.id);

    const replaced = await run(push(raised));
    expect(replaced.code).toBe(0);
    expect(replaced.json).toEqual({ created: 0, updated: 1, unchanged: 6, missing: 0, dryRun: false });
    const now = await priceByKey("prem_yearly");
    expect(now).toMatchObject({ active: true, unit_amount: 249000, product: "shopify-netsuite" });
    expect(now?.id).not.toBe(old?.id);
    expect(await stripe.prices.retrieve(old?.id ?? "")).toMatchObject({ active: false, lookup_key: null });

    expect((await run(push(raised))).json).toMatchObject({ created: 0, updated: 0, unchanged: 7 });
  });

  it("a replaced default price: the new price becomes the product's default first (Stripe refuses to archive a default price)", async () => {
    await seedIdPrice("price_std_month");
    await run(push(writeCatalog(catalogJson())));
    const old = await priceByKey("store_monthly");
    await stripe.products.update("shopify-netsuite_store", { default_price: old?.id ?? "" });
    await expect(stripe.prices.update(old?.id ?? "", { active: false })).rejects.toMatchObject({
      statusCode: 400,
      message: "This price cannot be archived because it is the default price of its product.",
    });

    const cheaper = writeCatalog(
      catalogJson({
        store: [{ lookupKey: "store_monthly", amount: 2500, currency: "usd", interval: "month" }],
      }),
    );
    const result = await run(push(cheaper));
    expect(result.code).toBe(0);
    expect(result.err).toContain("(the new price becomes the product's default price)");
    const now = await priceByKey("store_monthly");
    expect(now?.unit_amount).toBe(2500);
    expect((await stripe.products.retrieve("shopify-netsuite_store")).default_price).toBe(now?.id);
    expect((await stripe.prices.retrieve(old?.id ?? "")).active).toBe(false);
  });

  it("a replacement stays on the product of the price it replaces; an archived price with the catalog's amount is reactivated", async () => {
    await seedIdPrice("price_std_month");
    // The vendor's own price under the lookup key, on the vendor's own product.
    const own = await stripe.prices.create({
      product: "prod_vendor_price_std_month",
      currency: "usd",
      unit_amount: 89000,
      recurring: { interval: "year" },
      lookup_key: "std_yearly",
    });
    const archived = await stripe.prices.create({
      product: "prod_vendor_price_std_month",
      currency: "usd",
      unit_amount: 2900,
      recurring: { interval: "month" },
      lookup_key: "store_monthly",
    });
    await stripe.prices.update(archived.id, { active: false });

    const result = await run(push(writeCatalog(catalogJson())));
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ updated: 2 });
    expect(result.err).toContain(
      `reactivate price store_monthly (shopify-netsuite add-on store): ${archived.id}`,
    );
    expect(await priceByKey("std_yearly")).toMatchObject({
      unit_amount: 99000,
      product: "prod_vendor_price_std_month",
    });
    expect((await stripe.prices.retrieve(own.id)).active).toBe(false);
    expect(await stripe.prices.retrieve(archived.id)).toMatchObject({
      active: true,
      lookup_key: "store_monthly",
    });
  });

  it("--dry-run prints the plan and changes nothing", async () => {
    await seedIdPrice("price_std_month");
    const catalog = writeCatalog(catalogJson());
    const dry = await run(push(catalog, true), { json: false });
    expect(dry.code).toBe(0);
    const text = dry.out.join("\n");
    expect(text).toContain(`Plan for Stripe at ${sim.url} (test mode), from ${catalog}:`);
    expect(text).toContain(
      "create     price prem_monthly (shopify-netsuite edition premium): 199.00 USD / month",
    );
    expect(text).toContain("Dry run: nothing changed. It would create 10, update 0, leave 1 unchanged.");
    expect((await stripe.prices.list({ limit: 100 })).data.map((price) => price.id)).toEqual([
      "price_std_month",
    ]);
    await expect(stripe.products.retrieve("shopify-netsuite")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("creates what it can, names each price it cannot create, and exits 1", async () => {
    const catalog = writeCatalog(
      catalogJson({ std: ["price_std_month", "std_yearly_by_hand"] }), // neither exists in Stripe
    );
    const result = await run(push(catalog));
    expect(result.code).toBe(1);
    expect(result.json).toEqual({ created: 9, updated: 0, unchanged: 0, missing: 2, dryRun: false });
    expect(result.err).toContain(
      "missing    price price_std_month (shopify-netsuite edition standard): Stripe has no such price",
    );
    expect(result.err).toContain(
      "missing    price std_yearly_by_hand (shopify-netsuite edition standard): no Stripe price has this lookup key",
    );
    expect(result.err).toContain("2 catalog price(s) are not in Stripe and push-stripe cannot create them");
    expect(await priceByKey("prem_yearly")).toBeDefined();
  });
});

describe("catalog check", () => {
  it("names every catalog price Stripe does not have as the catalog says", async () => {
    await seedIdPrice("price_std_month");
    await run(push(writeCatalog(catalogJson())));
    await stripe.prices.update("price_std_month", { active: false });
    const catalog = writeCatalog(
      catalogJson({
        prem: [
          { lookupKey: "prem_monthly", amount: 21900, currency: "usd", interval: "month" },
          { lookupKey: "prem_yearly", amount: 199000, currency: "usd", interval: "year" },
        ],
        store: ["store_monthly", "price_nope"],
        amzStore: [{ lookupKey: "amz_store_new", amount: 1900, currency: "usd", interval: "month" }],
      }),
    );
    const pricesBefore = (await stripe.prices.list({ limit: 100 })).data.length;

    const text = await run({ name: "catalog check", catalog }, { json: false });
    expect(text.code).toBe(1);
    expect(text.out.join("\n")).toContain("4 catalog price(s) Stripe does not have as the catalog says:");
    const json = await run({ name: "catalog check", catalog });
    expect(json.code).toBe(1);
    expect(json.json.checked).toBe(8);
    expect(json.json.missing).toEqual([
      {
        ref: "price_std_month",
        owner: "shopify-netsuite edition standard",
        problem: "the price is archived in Stripe",
      },
      {
        ref: "prem_monthly",
        owner: "shopify-netsuite edition premium",
        problem: expect.stringMatching(/charges 199\.00 USD \/ month, the catalog 219\.00 USD \/ month/),
      },
      { ref: "price_nope", owner: "shopify-netsuite add-on store", problem: "Stripe has no such price" },
      {
        ref: "amz_store_new",
        owner: "amazon-netsuite add-on store",
        problem: "not in Stripe (push-stripe creates it: 19.00 USD / month)",
      },
    ]);
    // check only reads.
    expect((await stripe.prices.list({ limit: 100 })).data).toHaveLength(pricesBefore);
  });
});

describe("configuration", () => {
  const catalogFile = () => writeCatalog(catalogJson());

  it("wants STRIPE_SECRET_KEY, a key Stripe knows the shape of, and https but to this machine", async () => {
    const fails = async (env: Record<string, string>, message: RegExp, exitCode = 2) => {
      const error = await run(push(catalogFile()), { env }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CliError);
      expect(error).toMatchObject({ exitCode, message: expect.stringMatching(message) });
    };
    await fails({ STRIPE_SECRET_KEY: "" }, /set STRIPE_SECRET_KEY/);
    await fails({ STRIPE_SECRET_KEY: "pk_test_123" }, /secret or restricted key/);
    await fails({ STRIPE_API_URL: "http://stripe.example.com" }, /only over https/);
    // The simulator refuses a live key, as Stripe refuses a wrong one: exit 3.
    await fails(
      { STRIPE_SECRET_KEY: "sk_live_123" },
      /^Stripe at http:\/\/127\.0\.0\.1:\d+ \(live mode\): /,
      3,
    );
  });

  it("refuses a catalog that does not validate, naming the file and the field", async () => {
    const bad = catalogJson({ store: [{ lookupKey: "store_monthly", amount: 2900 }] });
    const error = await run(push(writeCatalog(bad))).catch((e: unknown) => e);
    expect(error).toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(
        /catalog-\d+\.json: .*connectors\[0\]\.addons\[0\]\.prices\[0\]\.currency: is required with amount/,
      ),
    });
  });

  it("reads the catalog from CATALOG_PATH when --catalog is not given", async () => {
    const result = await run(
      { name: "catalog push-stripe", dryRun: true },
      { env: { CATALOG_PATH: catalogFile() } },
    );
    expect(result.json).toMatchObject({ created: 10, missing: 1, dryRun: true });
  });
});

describe("the bundled CLI (dist/integrator-licensing.mjs), alone in a folder", () => {
  it("runs catalog push-stripe and catalog check with plain node: the Stripe SDK is in the bundle", async () => {
    const folder = mkdtempSync(join(dir, "bundle-"));
    const file = join(folder, "integrator-licensing.mjs");
    copyFileSync(CLI_BUNDLE, file);
    const catalog = writeCatalog(
      catalogJson({ std: [{ lookupKey: "std_monthly", amount: 9900, currency: "usd", interval: "month" }] }),
    );
    const env = { PATH: process.env.PATH, HOME: folder, STRIPE_SECRET_KEY: KEY, STRIPE_API_URL: sim.url };
    const cli = (args: string[]) => runCliBundle(args, { file, cwd: folder, env });

    const before = await cli(["catalog", "check", "--catalog", catalog]);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain("std_monthly (shopify-netsuite edition standard): not in Stripe");
    const first = await cli(["catalog", "push-stripe", "--catalog", catalog, "--json"]);
    expect({ code: first.code, json: JSON.parse(first.stdout) }).toEqual({
      code: 0,
      json: { created: 10, updated: 0, unchanged: 0, missing: 0, dryRun: false },
    });
    const second = await cli(["catalog", "push-stripe", "--catalog", catalog, "--json"]);
    expect(JSON.parse(second.stdout)).toEqual({
      created: 0,
      updated: 0,
      unchanged: 6,
      missing: 0,
      dryRun: false,
    });
    expect(await cli(["catalog", "check", "--catalog", catalog])).toMatchObject({ code: 0 });
    // No admin token or API URL is asked for: these commands talk to Stripe only.
    expect(second.stderr).not.toMatch(/token/i);
  });
});
