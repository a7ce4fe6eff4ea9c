/** The `info` of the OpenAPI document. */
export const API_INFO = {
  title: "integrator-licensing API",
  version: "0.1.0",
  description:
    'Stripe subscriptions to integrator.io licenses, the vendor\'s integrator.io stack, marketplace listings and checkout, and the admin API. Errors come as `{"error":{"code","message","details"?}}` (the integrator.io stack routes: `{"errors":[{"code","message"}]}`). This document is `GET /openapi.json`; `GET /docs` renders it as a page.',
};
