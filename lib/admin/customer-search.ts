import type { ProvisioningContext } from "#lib/engine/context.ts";
import { isIdentifier } from "#lib/identifiers.ts";
import { isEmail, normalizeEmail } from "#lib/licensing/license.ts";
import { type CustomerMatch, MATCHED_BY, type MatchedBy } from "./schemas.ts";

/**
 * `GET /admin/customers?q=` (docs/architecture.md §6): one box that finds customers by email
 * (profile, checkout or license email, matched normalised and exactly), Stripe customer id,
 * subscription id or integrator.io license id, through the keys of lib/store/customer-index.ts —
 * never a scan. Pages are in customer-id order: each lookup reads its first `limit + 1` customers
 * after the cursor's customer id, and the page is the first `limit` of their union (`mergeMatches`).
 */

/** What a query is looked up as: text with an `@` as an email, an id as the three kinds of id. */
export type SearchKeys = { kind: "email"; email: string } | { kind: "id"; id: string } | { kind: "none" };

/** The lookups a query makes: an email's, an id's, or none (text that is neither finds nothing). */
export function searchKeys(q: string): SearchKeys {
  const text = q.trim();
  if (text.includes("@"))
    return isEmail(text) ? { kind: "email", email: normalizeEmail(text) } : { kind: "none" };
  return isIdentifier(text) ? { kind: "id", id: text } : { kind: "none" };
}

/** When a customer matches in several ways, the first of these names the match (the schema's order). */
export const MATCH_ORDER: readonly MatchedBy[] = MATCHED_BY;

/**
 * One page of the union of lookups: each lookup's customer ids in ascending order, all after the
 * previous page's last id and at most `limit + 1` of them (its first ones). The page holds the
 * first `limit` ids of the union, each named by its first match in `MATCH_ORDER`; `next` is the
 * page's last id when the union held more. Exact: a lookup's ids up to the page's last are all
 * among its first `limit + 1`, since the page's last is below the `limit + 1`-th of any lookup.
 */
export function mergeMatches(
  found: Partial<Record<MatchedBy, readonly string[]>>,
  limit: number,
): { page: { customerId: string; matchedBy: MatchedBy }[]; next: string | undefined } {
  const byId = new Map<string, MatchedBy>();
  for (const kind of MATCH_ORDER) for (const id of found[kind] ?? []) if (!byId.has(id)) byId.set(id, kind);
  const ids = [...byId.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const page = ids
    .slice(0, limit)
    .map((customerId) => ({ customerId, matchedBy: byId.get(customerId) as MatchedBy }));
  return { page, next: ids.length > limit ? page.at(-1)?.customerId : undefined };
}

/** The lookups of a query, each its first `want` customer ids after `after`. */
async function lookUp(
  keys: SearchKeys,
  after: string | undefined,
  want: number,
  ctx: ProvisioningContext,
): Promise<Partial<Record<MatchedBy, string[]>>> {
  const later = (ids: (string | undefined)[]) =>
    ids.filter((id): id is string => id !== undefined && (after === undefined || id > after));
  if (keys.kind === "email") {
    const [email, checkoutEmail, licenseEmail] = await Promise.all([
      ctx.customers.idsByProfileEmail(keys.email, after, want),
      ctx.customers.idsByCheckoutEmail(keys.email, after, want),
      ctx.licenses.customerIdsByEmail(keys.email, after, want),
    ]);
    return { email, checkoutEmail, licenseEmail };
  }
  if (keys.kind === "id") {
    const [known, subscriptionId, owner] = await Promise.all([
      ctx.customers.known(keys.id),
      ctx.customers.idsBySubscription(keys.id, after, want),
      ctx.licenses.owner(keys.id),
    ]);
    return {
      customerId: later([known ? keys.id : undefined]),
      subscriptionId,
      licenseId: later([owner?.customerId]),
    };
  }
  return {};
}

/** One page of customers matching `q`, after the customer id `after`, each with what the store holds. */
export async function searchCustomers(
  q: string,
  after: string | undefined,
  limit: number,
  ctx: ProvisioningContext,
): Promise<{ data: CustomerMatch[]; next: string | undefined }> {
  const found = await lookUp(searchKeys(q), after, limit + 1, ctx);
  const { page, next } = mergeMatches(found, limit);
  const data = await Promise.all(
    page.map(async ({ customerId, matchedBy }): Promise<CustomerMatch> => {
      const state = await ctx.customers.state(customerId);
      return {
        customerId,
        email: state.profile?.email ?? null,
        matchedBy,
        subscriptions: state.subscriptions.map(({ subscriptionId, status }) => ({ subscriptionId, status })),
        licenses: state.licenses.map(({ connectorKey, state: licenseState, email }) => ({
          connectorKey,
          state: licenseState,
          email,
        })),
      };
    }),
  );
  return { data, next };
}
