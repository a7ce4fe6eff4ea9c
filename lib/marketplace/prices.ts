import type Stripe from "stripe";
import * as z from "zod/mini";
import { isPriceIdRef } from "#lib/licensing/catalog.ts";

/** The part of a Stripe price that listings and checkout use. */
const stripePriceSchema = z.object({
  id: z.string(),
  active: z.boolean(),
  currency: z.string(),
  unit_amount: z.nullish(z.number()),
  lookup_key: z.nullish(z.string()),
  recurring: z.nullish(
    z.object({
      interval: z.enum(["day", "week", "month", "year"]),
      interval_count: z._default(z.number(), 1),
    }),
  ),
});
export type StripePrice = z.infer<typeof stripePriceSchema>;

/** Stripe takes at most 10 lookup keys per `prices.list`. */
const LOOKUP_KEYS_PER_CALL = 10;

const isMissing = (error: unknown) =>
  typeof error === "object" && error !== null && (error as { statusCode?: unknown }).statusCode === 404;

/**
 * The Stripe price behind each catalog price reference: a `price_...` id is retrieved, a lookup key
 * is found with `prices.list({lookup_keys})` (active prices only, ten keys per call). A reference
 * Stripe does not know, or an inactive price, is absent from the map: the caller reports it.
 *
 * @example await resolvePriceRefs(stripe, ["price_std_month", "std_yearly"])
 *   // → Map { "price_std_month" → {id: "price_std_month", ...}, "std_yearly" → {id: "price_1Q...", ...} }
 */
export async function resolvePriceRefs(
  stripe: Stripe,
  refs: readonly string[],
): Promise<Map<string, StripePrice>> {
  const unique = [...new Set(refs)];
  const ids = unique.filter(isPriceIdRef);
  const keys = unique.filter((ref) => !isPriceIdRef(ref));
  const resolved = new Map<string, StripePrice>();
  const byId = ids.map(async (id) => {
    try {
      const price = stripePriceSchema.parse(await stripe.prices.retrieve(id));
      if (price.active) resolved.set(id, price);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  });
  const byKey = chunks(keys, LOOKUP_KEYS_PER_CALL).map(async (chunk) => {
    for await (const raw of stripe.prices.list({ lookup_keys: chunk, active: true, limit: 100 })) {
      const price = stripePriceSchema.parse(raw);
      if (price.lookup_key && chunk.includes(price.lookup_key)) resolved.set(price.lookup_key, price);
    }
  });
  await Promise.all([...byId, ...byKey]);
  return resolved;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
