import { readFile } from "node:fs/promises";
import type { Catalog } from "#lib/licensing/catalog.ts";
import { catalogPriceRefs, connectorFunctionNames, isPriceIdRef } from "#lib/licensing/catalog.ts";

async function call(
  method: string,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(
      `seeding ${method} ${new URL(url).pathname} failed: ${response.status} ${text.slice(0, 200)}`,
    );
  return text ? JSON.parse(text) : undefined;
}

/**
 * Seeds the integrator.io simulator from the catalog: a server stack pointing at this API's
 * `/integrator` routes, and every catalog connector, published, on that stack.
 */
export async function seedIntegratorSimulator(options: {
  simulatorUrl: string;
  vendorToken: string;
  apiUrl: string;
  systemToken: string;
  catalog: Catalog;
}): Promise<void> {
  const origin = new URL(options.simulatorUrl).origin;
  const stack = (await call(
    "POST",
    `${options.simulatorUrl}/stacks`,
    {
      name: "integrator-licensing (local)",
      type: "server",
      server: { hostURI: `${options.apiUrl}/integrator`, systemToken: options.systemToken },
    },
    { authorization: `Bearer ${options.vendorToken}` },
  )) as { _id: string };
  for (const connector of options.catalog.connectors) {
    await call("POST", `${origin}/_sim/connectors`, {
      _id: connector.connectorId,
      name: connector.name,
      description: connector.description ?? connector.name,
      published: true,
      _stackId: stack._id,
      trialEnabled: (connector.trialDays ?? 0) > 0,
      ...connectorFunctionNames(connector),
    });
  }
}

type PriceSeed = { unit_amount: number; currency: string; interval: "day" | "week" | "month" | "year" };

/**
 * Seeds the Stripe simulator: a product per connector, a price for every catalog price reference
 * (ids as given, lookup keys set; amounts from `stripe-seed.json`, else 1000 cents a month), and
 * the webhook endpoint of this API signed with `STRIPE_WEBHOOK_SECRET`.
 */
export async function seedStripeSimulator(options: {
  simulatorUrl: string;
  apiUrl: string;
  webhookSecret: string;
  catalog: Catalog;
  seedPath?: string;
}): Promise<void> {
  const seeds = JSON.parse(
    await readFile(options.seedPath ?? "local/stripe-seed.json", "utf8").catch(() => "{}"),
  ) as {
    prices?: Record<string, PriceSeed>;
  };
  for (const connector of options.catalog.connectors) {
    await call("POST", `${options.simulatorUrl}/_sim/products`, {
      id: `prod_${connector.key.replace(/[^A-Za-z0-9]/g, "_")}`,
      name: connector.name,
    });
  }
  for (const match of catalogPriceRefs(options.catalog)) {
    const seed = seeds.prices?.[match.ref] ?? { unit_amount: 1000, currency: "usd", interval: "month" };
    await call("POST", `${options.simulatorUrl}/_sim/prices`, {
      // A lookup-key reference gets a generated id, as Stripe would give it.
      ...(isPriceIdRef(match.ref)
        ? { id: match.ref }
        : { id: `price_${match.ref.replace(/[^A-Za-z0-9]/g, "_")}`, lookup_key: match.ref }),
      product: `prod_${match.connector.key.replace(/[^A-Za-z0-9]/g, "_")}`,
      unit_amount: seed.unit_amount,
      currency: seed.currency,
      recurring: { interval: seed.interval },
      nickname:
        match.kind === "edition"
          ? `${match.connector.name} ${match.edition.key}`
          : `${match.connector.name} ${match.addon.key} add-on`,
    });
  }
  await call("POST", `${options.simulatorUrl}/_sim/webhook_endpoints`, {
    url: `${options.apiUrl}/webhooks/stripe`,
    secret: options.webhookSecret,
  });
}
