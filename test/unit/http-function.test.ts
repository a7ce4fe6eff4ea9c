import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import { z } from "zod/mini";
import { AdminAccess } from "#lib/access/access.ts";
import { HttpError } from "#lib/http/errors.ts";
import { describeError, httpFunction } from "#lib/http/http-function.ts";
import type { RouteDefinition } from "#lib/routes.ts";
import { InvalidCursorError } from "#lib/store/dynamo.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";

const base = {
  function: "health",
  rawBody: false,
  cors: false,
  summary: "t",
  request: {},
  responses: {},
} as const;
const testRoutes: RouteDefinition[] = [
  {
    ...base,
    method: "POST",
    path: "/things",
    auth: "public",
    bodyLimit: 64,
    errorFormat: "api",
    request: { body: z.object({ name: z.string().check(z.minLength(1)), count: z.number() }) },
  },
  { ...base, method: "GET", path: "/admin/things", auth: "admin", bodyLimit: 1024, errorFormat: "api" },
  {
    ...base,
    method: "POST",
    path: "/integrator/function",
    auth: "system",
    bodyLimit: 1024,
    errorFormat: "integrator",
  },
  { ...base, method: "GET", path: "/boom", auth: "public", bodyLimit: 1024, errorFormat: "api" },
  { ...base, method: "GET", path: "/stale-cursor", auth: "public", bodyLimit: 1024, errorFormat: "api" },
];

const calls: unknown[] = [];
const handler = httpFunction(
  {
    "POST /things": async (input) => {
      calls.push(input.body);
      return { status: 201, body: { created: input.body } };
    },
    "GET /admin/things": async () => ({ body: { data: [] } }),
    "POST /integrator/function": async () => {
      throw new HttpError(422, "invalid_function", "No such function.");
    },
    "GET /boom": async () => {
      throw new Error("database password is hunter2");
    },
    "GET /stale-cursor": async () => {
      throw new InvalidCursorError("cursor is not one this API returned");
    },
  },
  {
    logger: new Logger({ logLevel: "SILENT" }),
    admin: new AdminAccess({ rootToken: "admin-secret" }),
    tokens: { system: "system-secret" },
    findRoute: (key) => testRoutes.find((r) => `${r.method} ${r.path}` === key),
  },
);

const call = async (routeKey: string, init: Parameters<typeof httpEvent>[1] = {}) => {
  const result = await handler(httpEvent(routeKey, init), lambdaContext);
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    body: result.body ? JSON.parse(result.body) : undefined,
  };
};
const json = { "content-type": "application/json" };

describe("the shared HTTP stack", () => {
  it("parses, validates and answers", async () => {
    const response = await call("POST /things", { headers: json, body: '{"name":"a","count":2}' });
    expect(response).toMatchObject({ status: 201, body: { created: { name: "a", count: 2 } } });
  });

  it("answers 400 naming the problem for malformed JSON, and never calls the handler", async () => {
    calls.length = 0;
    const response = await call("POST /things", { headers: json, body: '{"name":' });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_json");
    expect(response.body.error.message).toMatch(/Malformed JSON/);
    expect(calls).toEqual([]);
  });

  it("answers 400 with zod details for a schema violation", async () => {
    const response = await call("POST /things", { headers: json, body: '{"name":"","count":"x"}' });
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      "body.name",
      "body.count",
    ]);
  });

  it("answers 413 over the route's body limit", async () => {
    const response = await call("POST /things", {
      headers: json,
      body: JSON.stringify({ name: "x".repeat(100), count: 1 }),
    });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe("payload_too_large");
  });

  it("answers 415 for a body that is not JSON", async () => {
    const response = await call("POST /things", {
      headers: { "content-type": "text/plain" },
      body: "name=a",
    });
    expect(response.status).toBe(415);
  });

  it("refuses admin routes: 401 without a token, 403 with a wrong one", async () => {
    expect((await call("GET /admin/things")).status).toBe(401);
    const wrong = await call("GET /admin/things", { headers: { authorization: "Bearer nope" } });
    expect(wrong).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    const right = await call("GET /admin/things", { headers: { authorization: "Bearer admin-secret" } });
    expect(right).toMatchObject({ status: 200, body: { data: [] } });
  });

  it("uses integrator.io's error format and WWW-Authenticate on the stack route", async () => {
    const denied = await call("POST /integrator/function", { headers: { authorization: "Bearer wrong" } });
    expect(denied.status).toBe(401);
    expect(denied.headers["www-authenticate"]).toBe("invalid system token");
    expect(denied.body).toEqual({ errors: [{ code: "unauthorized", message: "Invalid system token." }] });
    const failed = await call("POST /integrator/function", {
      headers: { authorization: "Bearer system-secret" },
    });
    expect(failed).toMatchObject({
      status: 422,
      body: { errors: [{ code: "invalid_function", message: "No such function." }] },
    });
  });

  it("answers HEAD with the GET's status and headers, Content-Length included, and no body", async () => {
    const admin = { authorization: "Bearer admin-secret" };
    const get = await handler(httpEvent("GET /admin/things", { headers: admin }), lambdaContext);
    const head = await handler(httpEvent("HEAD /admin/things", { headers: admin }), lambdaContext);
    expect(head).toEqual({
      ...get,
      headers: { ...get.headers, "content-length": String(Buffer.byteLength(get.body ?? "")) },
      body: "",
    });
    const refused = await handler(httpEvent("HEAD /admin/things"), lambdaContext);
    expect(refused).toMatchObject({ statusCode: 401, headers: { "www-authenticate": "Bearer" }, body: "" });
  });

  it("ignores a body on a route that takes none, up to the route's limit", async () => {
    const admin = { authorization: "Bearer admin-secret" };
    for (const [type, body] of [
      ["application/json", '{"name":'],
      ["text/plain", "anything"],
    ] as const) {
      const ignored = await call("GET /admin/things", { headers: { ...admin, "content-type": type }, body });
      expect(ignored, type).toMatchObject({ status: 200, body: { data: [] } });
    }
    const over = await call("GET /admin/things", { headers: admin, body: "x".repeat(1025) });
    expect(over).toMatchObject({ status: 413, body: { error: { code: "payload_too_large" } } });
  });

  it("answers 500 without internals", async () => {
    const response = await call("GET /boom");
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.body)).not.toContain("hunter2");
    expect(response.body).toEqual({ error: { code: "internal_error", message: "Internal error." } });
  });
});

describe("describeError", () => {
  it("names a schema error's issues on one line, each with its path", () => {
    const schema = z.object({
      id: z.string(),
      items: z.object({ data: z.array(z.object({ quantity: z.number() })) }),
    });
    const result = schema.safeParse({ items: { data: [{ quantity: "3" }] } });
    expect(result.success).toBe(false);
    const { name, message } = describeError(result.error);
    expect(name).toBe(result.error?.name);
    expect(message).not.toContain("\n");
    expect(message).toMatch(/^id: .+; items\.data\.0\.quantity: .+$/);
  });

  it("keeps any other error's name and message", () => {
    expect(describeError(new RangeError("out of range"))).toEqual({
      name: "RangeError",
      message: "out of range",
    });
    expect(describeError("just a string")).toEqual({ name: "Unknown", message: "just a string" });
  });
});

describe("a cursor the store cannot read", () => {
  it("is the caller's 400 invalid_cursor, never a 500", async () => {
    const result = (await handler(httpEvent("GET /stale-cursor"), lambdaContext)) as {
      statusCode: number;
      body: string;
    };
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.code).toBe("invalid_cursor");
  });
});
