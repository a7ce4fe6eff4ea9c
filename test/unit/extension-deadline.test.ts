import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { makeHandler } from "#functions/integrator-extension.ts";
import { ANSWER_MARGIN_MS, deadlineFrom } from "#lib/extension/dispatch.ts";
import { ExtensionRegistry } from "#lib/extension/registry.ts";
import { defineConnector, type ExtensionServices } from "#lib/extension/types.ts";
import type { ExtensionDeps } from "#lib/extension/wiring.ts";
import { functionTable } from "#lib/functions.ts";
import { TEST_APP, testCatalog } from "#test/helpers/extension-harness.ts";
import { httpEvent } from "#test/helpers/http-events.ts";

// The integrator.io stack's own work is bounded by the invocation's time left: a call still
// running a second before the function's timeout answers an integrator.io-format `timeout`
// error (422), never API Gateway's 503 or a Lambda timeout (issue 23, deliverable 6).

const SYSTEM_TOKEN = "deadline-test-system-token";
let sawAbort = false;
const testApp = defineConnector({
  key: TEST_APP.key,
  functions: {
    // A slow integrator.io call: resolves after 10 s unless the call's signal stops it.
    slow: (_options, context) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ late: true }), 10_000);
        context.signal?.addEventListener("abort", () => {
          sawAbort = true;
          clearTimeout(timer);
          reject(context.signal?.reason);
        });
      }),
    quick: async () => ({ quick: true }),
  },
});

const logger = new Logger({ logLevel: "SILENT" });
const deps = {
  registry: new ExtensionRegistry(testCatalog, [testApp]),
  services: {
    catalog: testCatalog,
    logger,
    now: () => new Date(),
    vendor: { forToken: () => ({}) },
  } as unknown as ExtensionServices,
  logger,
  metrics: { metrics: { hasStoredMetrics: () => false }, flush: () => undefined },
  systemToken: SYSTEM_TOKEN,
} as unknown as ExtensionDeps;
const handler = makeHandler(deps);

/** A Lambda context with `remainingMs` left. */
const contextWith = (remainingMs: number, clientContext?: unknown) =>
  ({
    awsRequestId: "deadline-test",
    getRemainingTimeInMillis: () => remainingMs,
    ...(clientContext ? { clientContext } : {}),
  }) as unknown as Context;

async function post(fn: string, remainingMs: number) {
  const event = httpEvent("POST /integrator/function", {
    headers: { authorization: `Bearer ${SYSTEM_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ _connectorId: TEST_APP.id, function: fn, options: {} }),
  });
  const started = Date.now();
  const result = (await handler(event, contextWith(remainingMs))) as { statusCode: number; body: string };
  return { status: result.statusCode, body: JSON.parse(result.body), elapsedMs: Date.now() - started };
}

describe("integrator-extension: the call's work bounded by the invocation's time left", () => {
  it("keeps the function's timeout under API Gateway's 30 s integration limit (with room to answer)", () => {
    expect(functionTable["integrator-extension"].timeoutSeconds).toBeLessThan(29);
  });

  it("answers a call still running at the deadline with a 422 timeout, and aborts its signal", async () => {
    sawAbort = false;
    const answer = await post("slow", ANSWER_MARGIN_MS + 200);
    expect(answer.status).toBe(422);
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors[0].code).toBe("timeout");
    expect(answer.body.errors[0].message).toMatch(/slow did not finish/);
    expect(answer.elapsedMs).toBeLessThan(2000);
    expect(sawAbort).toBe(true);
  });

  it("answers a call that finishes in time as usual", async () => {
    const answer = await post("quick", ANSWER_MARGIN_MS + 200);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ quick: true });
  });

  it("bounds a Lambda-stack invoke the same way (a 422 LambdaStackError)", async () => {
    const envelope = { _connectorId: TEST_APP.id, function: "slow" };
    const error = (await handler({}, contextWith(ANSWER_MARGIN_MS + 100, envelope)).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.name).toBe("LambdaStackError");
    expect(JSON.parse(error.message)).toMatchObject({ statusCode: 422, errors: [{ code: "timeout" }] });
  });

  it("keeps a margin to answer, and never a deadline in the past", () => {
    expect(deadlineFrom(25_000, 0)).toBe(25_000 - ANSWER_MARGIN_MS);
    expect(deadlineFrom(10, 5)).toBe(5);
  });
});
