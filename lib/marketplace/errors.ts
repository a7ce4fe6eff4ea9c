/** Errors of the marketplace; lib/marketplace/routes.ts maps them to HTTP. */

/** A checkout request the catalog or the allow-list refuses; `message` quotes the refused value. */
export class CheckoutRequestError extends Error {
  override name = "CheckoutRequestError";
}

/** No listings are stored yet and filling them failed (integrator.io or Stripe unreachable). */
export class ListingsUnavailableError extends Error {
  override name = "ListingsUnavailableError";
}

/** Stripe refused or failed to create the Checkout session (not the buyer's input). */
export class CheckoutUnavailableError extends Error {
  override name = "CheckoutUnavailableError";
}
