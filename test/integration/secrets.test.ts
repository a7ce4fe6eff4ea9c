import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { LivemodeMismatchError, loadConfig, SECRET_PLACEHOLDER } from "#lib/config.ts";
import { ProductMetrics } from "#lib/observability/metrics.ts";
import { NotConfiguredError, SecretSource } from "#lib/secrets.ts";
import { stripeKeyOf } from "#lib/stripe/key.ts";
import { type FakeSecretsManager, startFakeSecretsManager } from "#test/helpers/fake-secrets-manager.ts";
import { writtenDuring } from "#test/helpers/function-harness.ts";

/**
 * lib/secrets.ts against Secrets Manager at the process edge: the real Powertools Parameters provider
 * and AWS SDK client, pointed at a loopback server speaking Secrets Manager's protocol. The clock
 * is faked (only `Date`, which Powertools' cache reads) to step past `maxAge`.
 */

let secretsManager: FakeSecretsManager;

beforeAll(async () => {
  secretsManager = await startFakeSecretsManager();
});
afterAll(async () => {
  await secretsManager?.stop();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  secretsManager.failing = false;
});

let ids = 0;
/** A source as a function in AWS has it: `*_SECRET_ID`s only, no values in the environment. */
function sourceOf(secrets: Record<string, string>, settings: Record<string, string> = {}) {
  ids += 1;
  const env: Record<string, string> = {
    AWS_LAMBDA_FUNCTION_NAME: "secrets-test",
    SECRETS_MANAGER_ENDPOINT: secretsManager.endpoint,
    ...settings,
  };
  for (const [name, value] of Object.entries(secrets)) {
    const id = `test-${ids}/${name}`;
    secretsManager.put(id, value);
    env[`${name}_SECRET_ID`] = id;
  }
  const config = loadConfig(env);
  const put = (name: string, value: string) => secretsManager.put(`test-${ids}/${name}`, value);
  const readsOf = (name: string) => secretsManager.reads.filter((id) => id === `test-${ids}/${name}`).length;
  return { config, source: new SecretSource(config), put, readsOf };
}

const seconds = (n: number) => n * 1000;

describe("SecretSource (Powertools Parameters, maxAge)", () => {
  it("reads a secret once, serves it for maxAge, then reads the rotated value", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const { config, source, put, readsOf } = sourceOf({ ADMIN_TOKEN: "token-one" });
    expect(config.secretsMaxAgeSeconds).toBe(300);
    expect(source.has("ADMIN_TOKEN")).toBe(true);
    expect(source.get("ADMIN_TOKEN")).toBeUndefined();

    expect(await source.current("ADMIN_TOKEN")).toBe("token-one");
    expect(source.get("ADMIN_TOKEN")).toBe("token-one");
    put("ADMIN_TOKEN", "token-two");
    vi.setSystemTime(start + seconds(299));
    expect(await source.current("ADMIN_TOKEN")).toBe("token-one");
    await source.refresh();
    expect(source.get("ADMIN_TOKEN")).toBe("token-one");
    expect(readsOf("ADMIN_TOKEN")).toBe(1);

    vi.setSystemTime(start + seconds(301));
    await source.refresh();
    expect(source.get("ADMIN_TOKEN")).toBe("token-two");
    expect(await source.current("ADMIN_TOKEN")).toBe("token-two");
    expect(readsOf("ADMIN_TOKEN")).toBe(2);
  });

  it("takes maxAge from SECRETS_MAX_AGE_SECONDS", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const { source, put } = sourceOf({ INTEGRATOR_TOKEN: "one" }, { SECRETS_MAX_AGE_SECONDS: "30" });
    expect(await source.current("INTEGRATOR_TOKEN")).toBe("one");
    put("INTEGRATOR_TOKEN", "two");
    vi.setSystemTime(start + seconds(29));
    expect(await source.current("INTEGRATOR_TOKEN")).toBe("one");
    vi.setSystemTime(start + seconds(31));
    expect(await source.current("INTEGRATOR_TOKEN")).toBe("two");
  });

  it("refresh reads every configured secret; the environment's values never reach Secrets Manager", async () => {
    const before = secretsManager.reads.length;
    const config = loadConfig({ ADMIN_TOKEN: "from-env", CURSOR_SIGNING_KEY: "cursor-env" });
    const local = new SecretSource(config);
    await local.refresh();
    expect(local.get("ADMIN_TOKEN")).toBe("from-env");
    expect(await local.current("CURSOR_SIGNING_KEY")).toBe("cursor-env");
    expect(secretsManager.reads.length).toBe(before);

    const { source, readsOf } = sourceOf({ ADMIN_TOKEN: " padded \n", CONSOLE_SESSION_KEY: "k" });
    await source.refresh();
    expect([source.get("ADMIN_TOKEN"), source.get("CONSOLE_SESSION_KEY")]).toEqual(["padded", "k"]);
    expect([readsOf("ADMIN_TOKEN"), readsOf("CONSOLE_SESSION_KEY")]).toEqual([1, 1]);
    expect(source.has("STRIPE_SECRET_KEY")).toBe(false);
    expect(await source.current("STRIPE_SECRET_KEY")).toBeUndefined();
  });

  it("a failed read throws naming the secret, and serves no stale value past maxAge", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const { source } = sourceOf({ ADMIN_TOKEN: "token" });
    await source.refresh();
    secretsManager.failing = true;
    vi.setSystemTime(start + seconds(301));
    await expect(source.refresh()).rejects.toThrow(/^ADMIN_TOKEN could not be read from Secrets Manager/);
    secretsManager.failing = false;
    await source.refresh();
    expect(source.get("ADMIN_TOKEN")).toBe("token");
  });

  it("an id Secrets Manager does not know is an error naming it", async () => {
    const config = loadConfig({
      AWS_LAMBDA_FUNCTION_NAME: "secrets-test",
      SECRETS_MANAGER_ENDPOINT: secretsManager.endpoint,
      ADMIN_TOKEN_SECRET_ID: "no-such-secret",
    });
    await expect(new SecretSource(config).current("ADMIN_TOKEN")).rejects.toThrow(
      "ADMIN_TOKEN could not be read from Secrets Manager (no-such-secret)",
    );
  });
});

describe("the livemode guard (lib/stripe/key.ts)", () => {
  type Emf = {
    service: string;
    LivemodeMismatch?: number;
    _aws: { CloudWatchMetrics: { Namespace: string }[] };
  };
  const emfOf = (written: string) =>
    written
      .split("\n")
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Emf);

  it("refuses a live key where STRIPE_LIVEMODE=false, at cold start, counting LivemodeMismatch", async () => {
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    const { config, source } = sourceOf(
      { STRIPE_SECRET_KEY: "sk_live_abcdefghijklmnop" },
      { STRIPE_LIVEMODE: "false" },
    );
    let refusal: unknown;
    const written = await writtenDuring(async () => {
      refusal = await stripeKeyOf(source, config, new ProductMetrics("provision-worker")).catch((e) => e);
    });
    expect(refusal).toBeInstanceOf(LivemodeMismatchError);
    const message = (refusal as Error).message;
    expect(message).toContain("STRIPE_LIVEMODE is false");
    expect(message).toContain("STRIPE_SECRET_KEY is a live-mode key");
    expect(message).not.toContain("abcdefghijklmnop");
    const [document] = emfOf(written);
    expect(document).toMatchObject({ service: "integrator-licensing.provision-worker", LivemodeMismatch: 1 });
    expect(document?._aws.CloudWatchMetrics[0]?.Namespace).toBe("IntegratorLicensing");
  });

  it("refuses a test key where STRIPE_LIVEMODE=true", async () => {
    const { config, source } = sourceOf(
      { STRIPE_SECRET_KEY: "rk_test_abcdefghijklmnop" },
      { STRIPE_LIVEMODE: "true" },
    );
    await expect(stripeKeyOf(source, config, new ProductMetrics("reconcile"))).rejects.toThrow(
      /STRIPE_LIVEMODE is true but STRIPE_SECRET_KEY is a test-mode key/,
    );
  });

  it("a key of no mode (a placeholder) is not configured, not a livemode mismatch: each use answers 503", async () => {
    for (const key of ["placeholder-until-set", `{"placeholder":"${SECRET_PLACEHOLDER}","unused":"x"}`]) {
      const { config, source } = sourceOf({ STRIPE_SECRET_KEY: key }, { STRIPE_LIVEMODE: "true" });
      const read = await stripeKeyOf(source, config, new ProductMetrics("reconcile"));
      const refusal = await read().catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(NotConfiguredError);
      expect(refusal).toMatchObject({ status: 503, code: "not_configured", setting: "STRIPE_SECRET_KEY" });
      expect(source.notConfigured()).toEqual(["STRIPE_SECRET_KEY"]);
    }
  });

  it("checks each rotated key when it arrives: a key of the wrong mode is refused at every read until fixed", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const { config, source, put } = sourceOf(
      { STRIPE_SECRET_KEY: "sk_live_first" },
      { STRIPE_LIVEMODE: "true" },
    );
    const key = await stripeKeyOf(source, config, new ProductMetrics("admin"));
    expect(await key()).toBe("sk_live_first");

    put("STRIPE_SECRET_KEY", "sk_test_wrong_mode");
    vi.setSystemTime(start + seconds(301));
    await expect(key()).rejects.toBeInstanceOf(LivemodeMismatchError);
    await expect(source.refresh()).rejects.toBeInstanceOf(LivemodeMismatchError);
    expect(source.get("STRIPE_SECRET_KEY")).toBe("sk_live_first");

    put("STRIPE_SECRET_KEY", "rk_live_second");
    vi.setSystemTime(start + seconds(602));
    expect(await key()).toBe("rk_live_second");
    await source.refresh();
  });
});
