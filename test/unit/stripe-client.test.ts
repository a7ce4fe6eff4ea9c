import { afterEach, describe, expect, it, vi } from "vitest";

/** How many times the SDK's module was evaluated in this file (vitest isolates each file's modules). */
const evaluated = vi.hoisted(() => ({ count: 0 }));
vi.mock("stripe", async (importOriginal) => {
  evaluated.count += 1;
  return importOriginal();
});

const { createStripe, loadStripeSdk, StripeAccount } = await import("#lib/stripe/client.ts");

afterEach(() => vi.restoreAllMocks());

describe("createStripe: the SDK is imported at the first use, not at construction", () => {
  it("builds nothing and imports nothing until called, then one client with the same settings as before", async () => {
    const key = vi.fn(async () => "sk_test_lazy");
    const sdk = createStripe({ stripeApiUrl: "http://127.0.0.1:12111" }, key);
    const account = new StripeAccount(sdk);
    expect(account.sdk).toBe(sdk);
    expect(evaluated.count).toBe(0);

    const stripe = await sdk();
    expect(evaluated.count).toBe(1);
    expect(await sdk()).toBe(stripe);
    const Stripe = await loadStripeSdk();
    expect(stripe).toBeInstanceOf(Stripe);
    expect(stripe.getApiField("host")).toBe("127.0.0.1");
    expect(stripe.getApiField("port")).toBe(12111);
    expect(stripe.getApiField("protocol")).toBe("http");
    expect(stripe.getApiField("version")).toBe(Stripe.API_VERSION);
    expect(stripe.getMaxNetworkRetries()).toBe(2);
    expect(stripe.getApiField("timeout")).toBe(10_000);
    // The key is read per request through the authenticator, not at construction.
    expect(key).not.toHaveBeenCalled();
    expect(evaluated.count).toBe(1);
  });

  it("https URLs default to port 443", async () => {
    const stripe = await createStripe({ stripeApiUrl: "https://api.stripe.com" }, "sk_test_fixed")();
    expect(stripe.getApiField("port")).toBe(443);
    expect(stripe.getApiField("protocol")).toBe("https");
  });

  it("a malformed STRIPE_API_URL still fails at construction (the cold start), not at the first call", () => {
    expect(() => createStripe({ stripeApiUrl: "not a url" }, "sk_test_x")).toThrow(TypeError);
  });
});
