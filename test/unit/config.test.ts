import { describe, expect, it } from "vitest";
import { ConfigError, checkStripeKey, LivemodeMismatchError, loadConfig } from "#lib/config.ts";

describe("loadConfig", () => {
  it("gives the local defaults of docs/architecture.md §7 when nothing is set", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.integratorApiUrl).toBe("http://127.0.0.1:3100/v1");
    expect(config.stripeApiUrl).toBe("http://127.0.0.1:3200");
    expect(config.stripeIsLocal).toBe(true);
    expect(config.secrets).toEqual({
      STRIPE_SECRET_KEY: "sk_test_local",
      STRIPE_WEBHOOK_SECRET: "whsec_local",
      INTEGRATOR_TOKEN: "local-integrator-token",
      INTEGRATOR_SYSTEM_TOKEN: "local-system-token",
      ADMIN_TOKEN: "local-admin-token",
      CURSOR_SIGNING_KEY: "local-cursor-signing-key",
      CONSOLE_SESSION_KEY: "local-console-session-key",
    });
    expect(config.rateLimit).toEqual({ capacity: 1000, refillPerSecond: 300, share: 1, bulkShare: 0.2 });
    expect(config.corsAllowedOrigins).toEqual(["http://localhost:3000"]);
  });

  it("reads overrides and splits origin lists", () => {
    const config = loadConfig({
      PORT: "0",
      CHECKOUT_ALLOWED_ORIGINS: "https://shop.example.com, https://www.example.com",
      INTEGRATOR_RATE_SHARE: "0.5",
      INTEGRATOR_BULK_SHARE: "0.1",
      INTEGRATOR_API_URL: "https://api.eu.integrator.io/v1/",
    });
    expect(config.port).toBe(0);
    expect(config.checkoutAllowedOrigins).toEqual(["https://shop.example.com", "https://www.example.com"]);
    expect(config.rateLimit.share).toBe(0.5);
    expect(config.rateLimit.bulkShare).toBe(0.1);
    expect(config.integratorApiUrl).toBe("https://api.eu.integrator.io/v1");
  });

  it("points Stripe at Stripe itself once a real key is set", () => {
    const config = loadConfig({ STRIPE_SECRET_KEY: "sk_live_abc" });
    expect(config.stripeIsLocal).toBe(false);
    expect(config.stripeLivemode).toBe(true);
    expect(config.stripeApiUrl).toBe("https://api.stripe.com");
  });

  it.each([
    [{ PORT: "http" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ INTEGRATOR_RATE_SHARE: "2" }, "INTEGRATOR_RATE_SHARE"],
    [{ INTEGRATOR_BULK_SHARE: "0" }, "INTEGRATOR_BULK_SHARE"],
    [{ INTEGRATOR_BULK_SHARE: "1.5" }, "INTEGRATOR_BULK_SHARE"],
    [{ CORS_ALLOWED_ORIGINS: "not an origin" }, "CORS_ALLOWED_ORIGINS"],
    [{ INTEGRATOR_API_URL: "ftp://x" }, "INTEGRATOR_API_URL"],
    [{ LOG_LEVEL: "LOUD" }, "LOG_LEVEL"],
    [{ STRIPE_SECRET_KEY: "pk_test_123" }, "STRIPE_SECRET_KEY"],
  ])("fails naming the variable for %o", (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it("takes the Stripe mode from STRIPE_LIVEMODE where the key is not in the environment (Lambda)", () => {
    expect(loadConfig({ AWS_LAMBDA_FUNCTION_NAME: "fn", STRIPE_LIVEMODE: "true" }).stripeLivemode).toBe(true);
    expect(loadConfig({ AWS_LAMBDA_FUNCTION_NAME: "fn" }).stripeLivemode).toBe(false);
    expect(() => loadConfig({ STRIPE_SECRET_KEY: "sk_test_x", STRIPE_LIVEMODE: "true" })).toThrow(
      "STRIPE_LIVEMODE",
    );
  });

  it("never applies local secret defaults inside Lambda", () => {
    const config = loadConfig({ AWS_LAMBDA_FUNCTION_NAME: "fn", ADMIN_TOKEN_SECRET_ID: "arn:secret:admin" });
    expect(config.inLambda).toBe(true);
    expect(config.secrets).toEqual({});
    expect(config.secretIds).toEqual({ ADMIN_TOKEN: "arn:secret:admin" });
  });

  it("gives no local default to a secret with a Secrets Manager id, outside Lambda too", () => {
    const config = loadConfig({ ADMIN_TOKEN_SECRET_ID: "arn:secret:admin" });
    expect(config.secrets.ADMIN_TOKEN).toBeUndefined();
    expect(config.secrets.CURSOR_SIGNING_KEY).toBe("local-cursor-signing-key");
  });

  it("reads secrets again after SECRETS_MAX_AGE_SECONDS (default 5 minutes), a whole positive number", () => {
    expect(loadConfig({}).secretsMaxAgeSeconds).toBe(300);
    expect(loadConfig({ SECRETS_MAX_AGE_SECONDS: "60" }).secretsMaxAgeSeconds).toBe(60);
    for (const bad of ["0", "-5", "1.5", "soon"]) {
      expect(() => loadConfig({ SECRETS_MAX_AGE_SECONDS: bad }), bad).toThrow("SECRETS_MAX_AGE_SECONDS");
    }
  });
});

describe("checkStripeKey (the livemode guard)", () => {
  it("accepts a key of STRIPE_LIVEMODE's mode, secret or restricted", () => {
    for (const key of ["sk_test_1", "rk_test_1"]) expect(() => checkStripeKey(key, false)).not.toThrow();
    for (const key of ["sk_live_1", "rk_live_1"]) expect(() => checkStripeKey(key, true)).not.toThrow();
  });

  it("refuses a key of the other mode, naming both settings and never the key", () => {
    const refusal = (() => {
      try {
        checkStripeKey("sk_live_secretpart", false);
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(LivemodeMismatchError);
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as Error).message).toMatch(
      /STRIPE_LIVEMODE is false but STRIPE_SECRET_KEY is a live-mode key \(sk_live_…\)/,
    );
    expect((refusal as Error).message).not.toContain("secretpart");
    expect(() => checkStripeKey("rk_test_1", true)).toThrow(
      /STRIPE_LIVEMODE is true but STRIPE_SECRET_KEY is a test-mode key/,
    );
  });

  it("refuses a key of no mode as malformed, not as a mismatch", () => {
    expect(() => checkStripeKey("pk_live_1", true)).toThrow(
      /must start with sk_test_, sk_live_, rk_test_ or rk_live_/,
    );
    expect(() => checkStripeKey("pk_live_1", true)).not.toThrow(LivemodeMismatchError);
  });
});
