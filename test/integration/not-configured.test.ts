import { describe, expect, it, vi } from "vitest";
import * as admin from "#functions/admin.ts";
import * as health from "#functions/health.ts";
import * as listingsSync from "#functions/listings-sync.ts";
import * as reconcile from "#functions/reconcile.ts";
import * as webhook from "#functions/stripe-webhook.ts";
import { SECRET_PLACEHOLDER } from "#lib/config.ts";
import { signedDelivery, writtenDuring } from "#test/helpers/function-harness.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";
import { useLambdaEnvironment } from "#test/helpers/lambda-environment.ts";
import { makeEvent } from "#test/helpers/stripe-fixtures.ts";

/**
 * A stack deployed before its vendor-set secrets are set (issue 23, deliverable 4): the exported
 * Lambda handlers as AWS runs them (`*_SECRET_ID`s only, Secrets Manager at the process edge), the
 * Stripe key and the integrator.io token holding CDK's placeholder, the webhook secret of the
 * wrong form. Nothing calls Stripe or integrator.io (both URLs are closed): what needs a secret
 * answers 503 `not_configured` naming it, `/health` names them, the schedules skip with one warning
 * and count `NotConfigured`.
 */

/** What cdk/secrets.ts creates: `{"placeholder":"NOT_CONFIGURED_YET","unused":"<random>"}`. */
const CDK_PLACEHOLDER = JSON.stringify({ placeholder: SECRET_PLACEHOLDER, unused: "Zx81kq0PLmW2" });
const SECRETS = {
  STRIPE_SECRET_KEY: CDK_PLACEHOLDER,
  STRIPE_WEBHOOK_SECRET: "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY",
  INTEGRATOR_TOKEN: CDK_PLACEHOLDER,
  ADMIN_TOKEN: "root-token",
  CURSOR_SIGNING_KEY: "cursor-key",
  CONSOLE_SESSION_KEY: "session-key",
};
/** Logs (warnings on stderr) and EMF metrics (stdout). */
const STREAMS = [process.stdout, process.stderr];

const lambda = useLambdaEnvironment("NotConfigured", SECRETS, {
  STRIPE_LIVEMODE: "true",
  LOG_LEVEL: "WARN",
  POWERTOOLS_METRICS_DISABLED: "false",
});

const bodyOf = (result: { body?: string }) => JSON.parse(result.body ?? "{}") as Record<string, unknown>;
/** The API's error format: `{"error": {"code", "message"}}`. */
const errorOf = (result: { body?: string }) => (bodyOf(result).error ?? {}) as Record<string, unknown>;

describe("secrets still holding their placeholders", () => {
  it("admin: a route that needs Stripe answers 503 not_configured naming the setting, not a livemode mismatch", async () => {
    const result = await admin.handler(
      httpEvent("POST /admin/listings/sync", { headers: { authorization: "Bearer root-token" } }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(503);
    const body = errorOf(result);
    expect(body.code).toBe("not_configured");
    expect(String(body.message)).toMatch(/(STRIPE_SECRET_KEY|INTEGRATOR_TOKEN) is not configured yet/);
    expect(String(body.message)).not.toMatch(/LIVEMODE/);
    // A route that needs neither still works.
    const operators = await admin.handler(
      httpEvent("GET /admin/operators", { headers: { authorization: "Bearer root-token" } }),
      lambdaContext,
    );
    expect(operators.statusCode).toBe(200);
  });

  it("webhook: a signing secret of the wrong form answers 503 not_configured (Stripe retries later) and counts NotConfigured", async () => {
    const payload = JSON.stringify(makeEvent("charge.succeeded", { id: "ch_not_configured" }));
    let result: Awaited<ReturnType<typeof webhook.handler>> | undefined;
    const written = await writtenDuring(async () => {
      result = await webhook.handler(signedDelivery(payload, "whsec_anything"), lambdaContext);
    }, STREAMS);
    expect(result?.statusCode).toBe(503);
    expect(errorOf(result ?? {})).toMatchObject({ code: "not_configured" });
    expect(String(errorOf(result ?? {}).message)).toMatch(/STRIPE_WEBHOOK_SECRET is not configured yet/);
    expect(written).toContain('"NotConfigured":1');
  });

  it("health names each secret not configured yet", async () => {
    const result = await health.handler(httpEvent("GET /health"), lambdaContext);
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result)).toMatchObject({
      status: "degraded",
      checks: { STRIPE_SECRET_KEY: "not_configured", INTEGRATOR_TOKEN: "not_configured" },
    });
  });

  it("reconcile's schedule skips its run with one warning and counts NotConfigured", async () => {
    let outcome: unknown = "unset";
    const written = await writtenDuring(async () => {
      outcome = await reconcile.handler(
        { source: "aws.events", "detail-type": "Scheduled Event", detail: {} },
        lambdaContext,
      );
    }, STREAMS);
    expect(outcome).toBeUndefined();
    const warnings = written.split("\n").filter((line) => line.includes('"level":"WARN"'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("reconcile skipped: not configured yet");
    expect(warnings[0]).toContain("STRIPE_SECRET_KEY");
    expect(warnings[0]).toContain("INTEGRATOR_TOKEN");
    expect(written).toContain('"NotConfigured":1');
    expect(written).toContain('"service":"integrator-licensing.reconcile"');
  });

  it("the listings sync's schedule skips likewise", async () => {
    let outcome: unknown = "unset";
    const written = await writtenDuring(async () => {
      outcome = await listingsSync.handler({}, lambdaContext);
    }, STREAMS);
    expect(outcome).toBeUndefined();
    expect(written.split("\n").filter((line) => line.includes('"level":"WARN"'))).toHaveLength(1);
    expect(written).toContain("listings sync skipped: not configured yet");
    expect(written).toContain('"NotConfigured":1');
  });

  it("once the secrets are set, health reports them configured", async () => {
    lambda.rotate("STRIPE_SECRET_KEY", "sk_live_set_after_deploy");
    lambda.rotate("INTEGRATOR_TOKEN", "a-real-token");
    vi.stubEnv("SECRETS_MAX_AGE_SECONDS", "1");
    // A cold start of a new instance reads them (the warm one within maxAge).
    vi.resetModules();
    const fresh = await import("#functions/health.ts");
    const result = await fresh.handler(httpEvent("GET /health"), lambdaContext);
    expect(bodyOf(result).checks).not.toHaveProperty("STRIPE_SECRET_KEY");
    expect(bodyOf(result).checks).not.toHaveProperty("INTEGRATOR_TOKEN");
  });
});
