import { isEmail, normalizeEmail } from "#lib/licensing/license.ts";
import type { StripeCheckoutSession } from "#lib/stripe/schemas.ts";

/**
 * Which email a license is issued to (docs/architecture.md §5), first match wins:
 * 1. the subscription's `metadata.integrator_email` (staff override per subscription),
 * 2. the customer's `metadata.integrator_email` (staff override per customer),
 * 3. the email captured at checkout (`emailFromCheckoutSession`),
 * 4. the customer's `email`.
 * Values are trimmed and lower-cased; an empty value or one that is not an email address is
 * skipped, so a typo in metadata falls through to the next source instead of being licensed.
 */

/** The metadata key (subscription, customer, checkout session) and checkout custom-field key of the integrator.io email. */
export const INTEGRATOR_EMAIL_KEY = "integrator_email";

export type EmailSource = "subscription_metadata" | "customer_metadata" | "checkout" | "customer_email";

/** What email resolution needs to know about the Stripe customer. */
export interface LicenseCustomer {
  /** Stripe customer id (`cus_...`). */
  id: string;
  email?: string | null | undefined;
  metadata?: Record<string, string> | null | undefined;
  /** The email captured at checkout for this customer (see `emailFromCheckoutSession`). */
  checkoutEmail?: string | null | undefined;
}

/** The license email for a subscription of `customer`, and where it came from; `undefined` when there is none. */
export function resolveLicenseEmail(
  subscription: { metadata: Record<string, string> },
  customer: LicenseCustomer,
): { email: string; source: EmailSource } | undefined {
  const candidates: [EmailSource, string | null | undefined][] = [
    ["subscription_metadata", subscription.metadata[INTEGRATOR_EMAIL_KEY]],
    ["customer_metadata", customer.metadata?.[INTEGRATOR_EMAIL_KEY]],
    ["checkout", customer.checkoutEmail],
    ["customer_email", customer.email],
  ];
  for (const [source, value] of candidates) {
    if (value && isEmail(value)) return { email: normalizeEmail(value), source };
  }
  return undefined;
}

/**
 * The integrator.io email a buyer gave at checkout, normalised: the `integrator_email` custom
 * field, else the session's `metadata.integrator_email` (set when our checkout route created
 * it), else the email Stripe collected (`customer_details.email`, `customer_email`).
 */
export function emailFromCheckoutSession(session: StripeCheckoutSession): string | undefined {
  const field = session.custom_fields.find((entry) => entry.key === INTEGRATOR_EMAIL_KEY);
  const candidates = [
    field?.text?.value,
    session.metadata[INTEGRATOR_EMAIL_KEY],
    session.customer_details?.email,
    session.customer_email,
  ];
  for (const value of candidates) {
    if (value && isEmail(value)) return normalizeEmail(value);
  }
  return undefined;
}
