import type { Context } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cutText } from "#lib/bounded-text.ts";
import { httpFunction } from "#lib/http/http-function.ts";
import { addLambdaContext, createLogger, MAX_LOG_FIELD_LENGTH } from "#lib/observability/logger.ts";
import { writtenDuring } from "#test/helpers/function-harness.ts";
import { httpEvent } from "#test/helpers/http-events.ts";

/** The lines `work` writes to stdout and stderr (errors and warnings go to stderr). */
async function linesOf(work: () => void): Promise<string[]> {
  const written = await writtenDuring(async () => work(), [process.stdout, process.stderr]);
  return written.split("\n").filter(Boolean);
}

describe("log lines", () => {
  const logger = () => createLogger("test", { logLevel: "INFO" });

  it(`cut each field to ${MAX_LOG_FIELD_LENGTH} characters: long text, large objects and errors`, async () => {
    const metadata = Object.fromEntries(Array.from({ length: 15_000 }, (_, i) => [`k${i}`, i]));
    const [line = ""] = await linesOf(() =>
      logger()
        .createChild()
        .error("x".repeat(100_000), {
          detail: "d".repeat(500_000),
          metadata,
          error: new Error("e".repeat(300_000)),
          eventId: "evt_1",
        }),
    );
    expect(line.length).toBeLessThanOrEqual(5 * MAX_LOG_FIELD_LENGTH);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    for (const key of ["message", "detail", "metadata", "error"]) {
      expect(String(parsed[key]).length, key).toBeLessThanOrEqual(MAX_LOG_FIELD_LENGTH);
      expect(String(parsed[key]), key).toMatch(/… \(\d+ more characters\)$/);
    }
    expect(parsed.eventId).toBe("evt_1");
  });

  it("leave small fields as they are, errors formatted as usual", async () => {
    const [line = ""] = await linesOf(() =>
      logger().warn("small", { error: new Error("boom"), n: 1, list: [1, 2] }),
    );
    const parsed = JSON.parse(line) as {
      error: { name: string; message: string };
      n: number;
      list: number[];
    };
    expect(parsed.error).toMatchObject({ name: "Error", message: "boom" });
    expect(parsed.n).toBe(1);
    expect(parsed.list).toEqual([1, 2]);
  });
});

describe("Lambda's context in every line", () => {
  // Lambda sets it; Powertools tells a cold start only where it is "on-demand".
  const onDemandLogger = () => {
    vi.stubEnv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    return createLogger("test", { logLevel: "INFO" });
  };
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const context = (requestId: string) =>
    ({
      awsRequestId: requestId,
      functionName: "IntegratorLicensing-worker",
      functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:IntegratorLicensing-worker",
      memoryLimitInMB: "512",
    }) as Context;
  const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

  it("request id, function name and cold start, in child loggers too: cold only on the first invocation", async () => {
    const logger = onDemandLogger();
    const invocation = (requestId: string) =>
      linesOf(() => {
        addLambdaContext(logger, context(requestId));
        logger.warn("parent");
        // As the engine does per event, the reconcile run per customer: a child per unit of work.
        logger.createChild({ persistentKeys: { eventId: `evt_${requestId}` } }).warn("child");
      });
    const cold = parsed(await invocation("req-1"));
    const warm = parsed(await invocation("req-2"));
    for (const line of [...cold, ...warm]) {
      expect(line).toMatchObject({
        function_name: "IntegratorLicensing-worker",
        function_memory_size: "512",
      });
    }
    expect(cold.map((line) => [line.function_request_id, line.cold_start])).toEqual([
      ["req-1", true],
      ["req-1", true],
    ]);
    expect(warm.map((line) => [line.function_request_id, line.cold_start])).toEqual([
      ["req-2", false],
      ["req-2", false],
    ]);
  });

  it("httpFunction adds it to what its routes log", async () => {
    const logger = onDemandLogger();
    const handle = httpFunction(
      {
        "GET /health": async () => {
          logger.warn("in the route");
          return { status: 200, body: {} };
        },
      },
      { logger },
    );
    const request = async (requestId: string) =>
      parsed(
        (
          await writtenDuring(
            () => handle(httpEvent("GET /health"), context(requestId)),
            [process.stdout, process.stderr],
          )
        )
          .split("\n")
          .filter(Boolean),
      );
    const route = { message: "in the route", function_name: "IntegratorLicensing-worker" };
    expect(await request("req-http-1")).toEqual([
      expect.objectContaining({ ...route, function_request_id: "req-http-1", cold_start: true }),
    ]);
    expect(await request("req-http-2")).toEqual([
      expect.objectContaining({ ...route, function_request_id: "req-http-2", cold_start: false }),
    ]);
  });
});

describe("cutText", () => {
  it("keeps a short text whole, and never splits a surrogate pair", () => {
    expect(cutText("short", 100)).toBe("short");
    const cut = cutText(`${"a".repeat(59)}💥💥💥${"b".repeat(100)}`, 100);
    expect(cut.length).toBeLessThanOrEqual(100);
    expect(cut).toBe(`${"a".repeat(59)}… (${165 - 59} more characters)`);
  });
});
