/**
 * Every `code` an `{"error":{"code","message","details"?}}` answer of the API may carry, with what it
 * means: the OpenAPI document's `ApiError.code` is this enum. test/unit/openapi-error-codes.test.ts
 * fails when lib/, functions/ or the local gateway answers a code missing here (or one here is used
 * nowhere). integrator.io's format (`{"errors":[{"code","message"}]}`) carries the extension
 * functions' own codes and is not enumerated.
 */
export const API_ERROR_CODES = [
  "invalid_request",
  "invalid_json",
  "invalid_cursor",
  "invalid_signature",
  "invalid_event",
  "bad_request",
  "unauthorized",
  "invalid_token",
  "no_session",
  "session_ended",
  "forbidden",
  "csrf_required",
  "not_found",
  "method_not_allowed",
  "request_timeout",
  "conflict",
  "payload_too_large",
  "unsupported_media_type",
  "expectation_failed",
  "headers_too_large",
  "internal_error",
  "not_configured",
  "stripe_refused",
  "checkout_unavailable",
  "listings_unavailable",
  "console_not_built",
  "console_unavailable",
  "docs_not_built",
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** What each code means (the document's description of `ApiError.code`; only the openapi function reads it). */
export const API_ERROR_CODE_MEANINGS: Record<ApiErrorCode, string> = {
  invalid_request: "400: a value the route's schema refuses (each problem in `details`), or a bad query.",
  invalid_json: "400: the body is not JSON, nests deeper than 100 levels, or a signed payload is not JSON.",
  invalid_cursor:
    "400: a `cursor` this list and these filters did not hand out (or signed under an older key).",
  invalid_signature: "400: `Stripe-Signature` missing, malformed, forged or older than 300 s.",
  invalid_event: "400: a correctly signed payload that is not a Stripe event.",
  bad_request: "400 (local stack only): a request that is not well-formed HTTP/1.1.",
  unauthorized: "401: no bearer token (admin routes) or a wrong system token (the stack's routes).",
  invalid_token: "401: console sign-in with a wrong or revoked operator token, or with ADMIN_TOKEN.",
  no_session: "401: no console session (none, expired, signed out).",
  session_ended: "401: the console session's cookie no longer names a live session; sign in again.",
  forbidden: "403: a wrong or revoked token, or a role below the route's (the message names the role).",
  csrf_required: "403: a console request that changes something, without its `X-CSRF-Token`.",
  not_found: "404: no such object, or no route for the path.",
  method_not_allowed: "405: the path does not take this method (`Allow` lists those it does).",
  request_timeout: "408 (local stack only): the request did not arrive in time.",
  conflict: "409: the state forbids it now (another run or transfer holds the lease; an ignored event).",
  payload_too_large: "413: a body over the route's limit.",
  unsupported_media_type: "415: a `Content-Type` other than JSON on a route that reads JSON.",
  expectation_failed: "417 (local stack only): an `Expect` other than `100-continue`.",
  headers_too_large: "431 (local stack only): request line and headers over 16 KB.",
  internal_error: "500: an unexpected failure; nothing internal is shown.",
  not_configured:
    "500/503: a setting the route needs is missing or not configured yet (webhook secret, Stripe key, integrator.io token, event bus).",
  stripe_refused: "502: Stripe refused the call (portal session).",
  checkout_unavailable: "502: Stripe did not create the Checkout session.",
  listings_unavailable: "502/503: integrator.io or Stripe did not answer for the listings; retry later.",
  console_not_built: "503: the operator console's files are not built here (npm run build:console).",
  console_unavailable: "503: console sign-in is not configured (CONSOLE_SESSION_KEY unset).",
  docs_not_built: "503: the API reference page's files are not built here (npm run build:docs).",
};

/** One line per code, for the document's description of `ApiError.code`. */
export const apiErrorCodeDescription = (): string =>
  [
    "Stable and machine-readable; the message is for people.",
    ...API_ERROR_CODES.map((code) => `- \`${code}\`: ${API_ERROR_CODE_MEANINGS[code]}`),
  ].join("\n");
