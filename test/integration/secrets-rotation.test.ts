import { beforeAll, describe, expect, it, vi } from "vitest";
import * as admin from "#functions/admin.ts";
import * as worker from "#functions/provision-worker.ts";
import * as webhook from "#functions/stripe-webhook.ts";
import { LivemodeMismatchError } from "#lib/config.ts";
import { signedDelivery, writtenDuring } from "#test/helpers/function-harness.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";
import { useLambdaEnvironment } from "#test/helpers/lambda-environment.ts";
import { makeEvent } from "#test/helpers/stripe-fixtures.ts";

/**
 * The exported Lambda handlers as AWS runs them (lib/runtime.ts `lambdaHandler`: a cold start,
 * then warm invocations of the same instance), configured as CDK configures them — `*_SECRET_ID`s
 * only — against Secrets Manager at the process edge (a loopback server speaking its protocol).
 * `SECRETS_MAX_AGE_SECONDS=1`: a secret rotated with put-secret-value takes effect on the warm
 * function a second later, without a cold start.
 */

const MAX_AGE_MS = 1000;
const SECRETS = {
  STRIPE_SECRET_KEY: "sk_test_rotation",
  STRIPE_WEBHOOK_SECRET: "whsec_old",
  INTEGRATOR_TOKEN: "integrator-token",
  ADMIN_TOKEN: "root-one",
  CURSOR_SIGNING_KEY: "cursor-key",
  CONSOLE_SESSION_KEY: "session-key",
};

const lambda = useLambdaEnvironment("IntegratorLicensing", SECRETS, {
  SECRETS_MAX_AGE_SECONDS: String(MAX_AGE_MS / 1000),
  STRIPE_LIVEMODE: "false",
  LOG_LEVEL: "SILENT",
});

const pastMaxAge = () => new Promise((resolve) => setTimeout(resolve, MAX_AGE_MS + 100));

describe("a rotated secret takes effect on warm functions within maxAge", () => {
  it("admin: the old ADMIN_TOKEN is refused and the new one accepted, without a cold start", async () => {
    const list = async (token: string) =>
      (
        await admin.handler(
          httpEvent("GET /admin/operators", { headers: { authorization: `Bearer ${token}` } }),
          lambdaContext,
        )
      ).statusCode;
    expect(await list("root-one")).toBe(200);
    expect(await list("root-two")).toBe(403);

    // (Within maxAge the value read is kept: test/integration/secrets.test.ts, on a fake clock.)
    lambda.rotate("ADMIN_TOKEN", "root-two");
    await pastMaxAge();
    expect(await list("root-one")).toBe(403);
    expect(await list("root-two")).toBe(200);
  });

  it("webhook: a second signing secret added after the first verifies, both during the roll, then only the new", async () => {
    let n = 0;
    const deliver = async (secret: string) => {
      n += 1;
      // A type the product does not handle: recorded as ignored, nothing queued.
      const payload = JSON.stringify(makeEvent("charge.succeeded", { id: `ch_rotation_${n}` }));
      return (await webhook.handler(signedDelivery(payload, secret), lambdaContext)).statusCode;
    };
    expect(await deliver("whsec_old")).toBe(200);
    expect(await deliver("whsec_new")).toBe(400);

    lambda.rotate("STRIPE_WEBHOOK_SECRET", "whsec_old,whsec_new");
    await pastMaxAge();
    expect(await deliver("whsec_new")).toBe(200);
    expect(await deliver("whsec_old")).toBe(200);
    expect(await deliver("whsec_other")).toBe(400);

    lambda.rotate("STRIPE_WEBHOOK_SECRET", "whsec_new");
    await pastMaxAge();
    expect(await deliver("whsec_new")).toBe(200);
    expect(await deliver("whsec_old")).toBe(400);
  });
});

describe("the livemode guard in a function holding the Stripe key", () => {
  const invoke = () => worker.handler({ Records: [] }, lambdaContext);
  // Read when the worker's metrics are built, at its cold start (the test config disables them).
  beforeAll(() => {
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
  });

  it("a live key with STRIPE_LIVEMODE=false: the cold start refuses (LivemodeMismatch), every retry too, until the key is fixed", async () => {
    lambda.rotate("STRIPE_SECRET_KEY", "sk_live_wrong_mode_key");
    for (let attempt = 0; attempt < 2; attempt += 1) {
      let refusal: unknown;
      const written = await writtenDuring(async () => {
        refusal = await invoke().catch((error: unknown) => error);
      });
      expect(refusal).toBeInstanceOf(LivemodeMismatchError);
      expect((refusal as Error).message).toMatch(
        /STRIPE_LIVEMODE is false but STRIPE_SECRET_KEY is a live-mode key/,
      );
      expect(written).toContain('"LivemodeMismatch":1');
      expect(written).toContain('"service":"integrator-licensing.provision-worker"');
    }
    lambda.rotate("STRIPE_SECRET_KEY", "sk_test_fixed");
    expect(await invoke()).toEqual({ batchItemFailures: [] });
  });

  it("a warm function refuses once a rotated key of the other mode arrives", async () => {
    expect(await invoke()).toEqual({ batchItemFailures: [] });
    lambda.rotate("STRIPE_SECRET_KEY", "rk_live_rotated_wrong");
    await pastMaxAge();
    const written = await writtenDuring(async () => {
      await expect(invoke()).rejects.toThrow(
        /STRIPE_LIVEMODE is false but STRIPE_SECRET_KEY is a live-mode key/,
      );
    });
    expect(written).toContain('"LivemodeMismatch":1');
    lambda.rotate("STRIPE_SECRET_KEY", "rk_test_rotated_right");
    await pastMaxAge();
    expect(await invoke()).toEqual({ batchItemFailures: [] });
  });
});
