import { normalizeEmail } from "#lib/licensing/license.ts";

/**
 * The keys that find a customer (`GET /admin/customers?q=`, docs/architecture.md §6), kept on the
 * items they describe rather than in lookup items of their own: each is written in the same
 * UpdateItem as the value it indexes, so it can never disagree with the item — a write that loses
 * its condition writes neither, and a changed email moves its key in the same write, leaving no
 * stale lookup behind. DynamoDB keeps the index (eventually consistent, within a second).
 *
 * | finds a customer by | item | index | partition | sort |
 * |---|---|---|---|---|
 * | profile email | `CUSTOMER#<id>` / `PROFILE` | gsi1 | `CUSTOMER_EMAIL#<email>` | customer id |
 * | checkout email | `CUSTOMER#<id>` / `PROFILE` | gsi2 | `CHECKOUT_EMAIL#<email>` | customer id |
 * | license email | `CUSTOMER#<id>` / `LICENSE#<connector>` | gsi2 (the state index) | `LICENSES#<state>` | `<email>#<customer id>#<connector>` |
 * | subscription id | `CUSTOMER#<id>` / `SUB#<sub id>` | gsi1 | `SUBSCRIPTION#<sub id>` | customer id |
 * | license id | `LICENSEID#<license id>` / `LICENSE` | the item itself | | |
 * | customer id | `CUSTOMER#<id>` | the partition itself | | |
 *
 * Emails are keyed normalised (`normalizeEmail`). The license ids a customer owns are also kept by
 * customer (`OWNED_LICENSES#<customer id>` on gsi2 of the `LICENSEID#` items), for reconciling
 * one customer without listing every license of a connector.
 */
export const profileEmailKey = (email: string) => `CUSTOMER_EMAIL#${normalizeEmail(email)}`;
export const checkoutEmailKey = (email: string) => `CHECKOUT_EMAIL#${normalizeEmail(email)}`;
export const ownedLicensesKey = (customerId: string) => `OWNED_LICENSES#${customerId}`;

/**
 * The partition of a customer's inbox events: one small pointer item per event (its id and Stripe
 * `created`), under `EVENT#` like the events themselves — the webhook may write only `EVENT#` items.
 */
export const customerEventsKey = (customerId: string) => `EVENT#CUSTOMER#${customerId}`;
/** Newest first by Stripe's `created`, then id: the same event always lands on the same pointer. */
export const customerEventSk = (created: number, eventId: string) =>
  `${String(Math.max(0, Math.floor(created))).padStart(12, "0")}#${eventId}`;
