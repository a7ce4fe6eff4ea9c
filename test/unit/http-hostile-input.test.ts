import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import { z } from "zod/mini";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "#lib/http/body.ts";
import { HttpError } from "#lib/http/errors.ts";
import { httpFunction } from "#lib/http/http-function.ts";
import { PageCursors } from "#lib/http/page-cursor.ts";
import type { RouteDefinition } from "#lib/routes.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";

describe("nestsDeeperThan", () => {
  it.each([
    ["[[[]]]", 3, false],
    ["[[[[]]]]", 3, true],
    ['{"a":{"b":{"c":1}}}', 3, false],
    ['{"a":{"b":{"c":{}}}}', 3, true],
    // Brackets inside strings do not nest, escaped quotes do not end the string.
    ['{"a":"[[[[[[{{{{"}', 1, false],
    ['["\\"[[[[[", "\\\\", []]', 2, false],
    ['["\\\\"]', 1, false],
    ["", 0, false],
  ])("%s deeper than %i: %s", (text, limit, deeper) => {
    expect(nestsDeeperThan(text, limit)).toBe(deeper);
  });
});

describe("the shared HTTP stack", () => {
  const route: RouteDefinition = {
    method: "POST",
    path: "/admin/customers/{customerId}/notes",
    function: "admin",
    auth: "public",
    bodyLimit: 1024 * 1024,
    rawBody: false,
    errorFormat: "api",
    cors: false,
    summary: "t",
    request: { body: z.object({ note: z.unknown() }), params: z.object({ customerId: z.string() }) },
    responses: {},
  };
  const key = "POST /admin/customers/{customerId}/notes";

  function handlerLogging(lines: Record<string, unknown>[]) {
    const logger = new Logger({ serviceName: "t", logLevel: "INFO" });
    const original = process.stdout.write;
    const capture =
      <T>(work: () => Promise<T>) =>
      async () => {
        process.stdout.write = ((chunk: string) => {
          for (const line of String(chunk).split("\n"))
            if (line.startsWith("{")) lines.push(JSON.parse(line));
          return true;
        }) as typeof process.stdout.write;
        try {
          return await work();
        } finally {
          process.stdout.write = original;
        }
      };
    const handler = httpFunction(
      {
        [key]: async ({ params }) => {
          logger.info("working");
          if (params.customerId === "cus_refused") throw new HttpError(409, "conflict", "No.");
          return { body: { ok: true } };
        },
      },
      { logger, findRoute: (k) => (k === key ? route : undefined) },
    );
    const call = (customerId: string, body: string) =>
      capture(() =>
        handler(
          httpEvent(key, {
            path: `/admin/customers/${customerId}/notes`,
            headers: { "content-type": "application/json" },
            body,
            pathParameters: { customerId },
          }),
          lambdaContext,
        ),
      )();
    return { call, logger };
  }

  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels with a 400, and takes ${MAX_JSON_DEPTH}`, async () => {
    const { call } = handlerLogging([]);
    const nested = (depth: number) => `{"note":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`;
    const deep = await call("cus_1", nested(MAX_JSON_DEPTH + 1));
    expect(deep.statusCode).toBe(400);
    expect(JSON.parse(deep.body ?? "")).toEqual({
      error: { code: "invalid_json", message: `JSON body nests deeper than ${MAX_JSON_DEPTH} levels.` },
    });
    expect((await call("cus_1", nested(MAX_JSON_DEPTH))).statusCode).toBe(200);
    expect((await call("cus_1", nested(10_000))).statusCode).toBe(400);
  });

  it("puts the customer of the path on every log line of the request, and only of that request", async () => {
    const lines: Record<string, unknown>[] = [];
    const { call, logger } = handlerLogging(lines);
    await call("cus_a", '{"note":1}');
    await call("cus_refused", '{"note":1}');
    expect(lines.map((l) => [l.message, l.customerId])).toEqual([
      ["working", "cus_a"],
      ["working", "cus_refused"],
      ["request refused", "cus_refused"],
    ]);
    const after: Record<string, unknown>[] = [];
    const original = process.stdout.write;
    process.stdout.write = ((chunk: string) => {
      after.push(JSON.parse(String(chunk)));
      return true;
    }) as typeof process.stdout.write;
    try {
      logger.info("between requests");
    } finally {
      process.stdout.write = original;
    }
    expect(after[0]?.customerId).toBeUndefined();
  });
});

describe("page cursors", () => {
  const cursors = new PageCursors("unit-test-key");
  const scope = { list: "events", filters: { status: "failed", type: undefined } };
  const position = Buffer.from(JSON.stringify({ pk: "EVENT#evt_1", sk: "EVENT" })).toString("base64url");
  const issued = cursors.issue(scope, position) as string;
  const refusal = (cursor: string) => {
    try {
      cursors.read(scope, cursor);
    } catch (error) {
      return error instanceof HttpError ? { status: error.status, code: error.code } : error;
    }
    return "accepted";
  };

  it("gives back the position of a cursor it issued for the same list and filters, and nothing at the end", () => {
    expect(cursors.read(scope, issued)).toBe(position);
    expect(cursors.read({ list: "events", filters: { type: undefined, status: "failed" } }, issued)).toBe(
      position,
    );
    expect(cursors.read(scope, undefined)).toBeUndefined();
    expect(cursors.issue(scope, undefined)).toBeUndefined();
  });

  it.each([
    [
      "a position changed after issue",
      `${Buffer.from(JSON.stringify({ pk: 1 })).toString("base64url")}${issued.slice(issued.lastIndexOf("."))}`,
    ],
    ["a truncated cursor", issued.slice(0, -1)],
    ["the position alone", position],
    ["the MAC alone", issued.slice(issued.lastIndexOf("."))],
    ["a made-up one", "not-a-cursor"],
    ["one with extra characters", `${issued}=`],
    ["an empty MAC", `${position}.`],
    ["a lone surrogate", `${position}.\ud800`],
    [
      "another list's",
      new PageCursors("unit-test-key").issue(
        { list: "licenses", filters: scope.filters },
        position,
      ) as string,
    ],
    [
      "another filter's",
      new PageCursors("unit-test-key").issue(
        { list: "events", filters: { status: "processed" } },
        position,
      ) as string,
    ],
    ["another key's", new PageCursors("another-key").issue(scope, position) as string],
  ])("refuses %s with 400 invalid_cursor", (_what, cursor) => {
    expect(refusal(cursor)).toEqual({ status: 400, code: "invalid_cursor" });
  });
});
