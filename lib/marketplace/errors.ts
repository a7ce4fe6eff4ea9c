/** Errors of the marketplace; lib/marketplace/route-handlers.ts maps them to HTTP. */

/** One refused field of a checkout request (the same shape as a schema violation's details). */
export interface CheckoutProblem {
  path: string;
  message: string;
}

/**
 * A checkout request the catalog or the allow-list refuses: `message` quotes every refused value,
 * `problems` names each one's field.
 */
export class CheckoutRequestError extends Error {
  override name = "CheckoutRequestError";
  constructor(readonly problems: CheckoutProblem[]) {
    super(problems.map((problem) => problem.message).join(" "));
  }
}

/** No listings are stored yet and filling them failed (integrator.io or Stripe unreachable). */
export class ListingsUnavailableError extends Error {
  override name = "ListingsUnavailableError";
}

/** Stripe refused or failed to create the Checkout session (not the buyer's input). */
export class CheckoutUnavailableError extends Error {
  override name = "CheckoutUnavailableError";
}
