import { describe, expect, it } from "vitest";
import { stripeEndpoint } from "#lib/stripe/endpoint.ts";

describe("stripeEndpoint: where the Stripe SDK connects for STRIPE_API_URL", () => {
  it.each([
    ["https://api.stripe.com", { host: "api.stripe.com", port: 443, protocol: "https" }],
    ["http://127.0.0.1:3200", { host: "127.0.0.1", port: 3200, protocol: "http" }],
    ["http://localhost", { host: "localhost", port: 80, protocol: "http" }],
    // The SDK takes a bare host: an IPv6 literal loses its URL brackets.
    ["http://[::1]:3200", { host: "::1", port: 3200, protocol: "http" }],
  ])("%s", (url, expected) => {
    expect(stripeEndpoint(new URL(url))).toEqual(expected);
  });
});
