import { Logger } from "@aws-lambda-powertools/logger";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { z } from "zod/mini";
import { makeHandler } from "#functions/openapi.ts";
import { openApiDocument, operationId } from "#lib/openapi/document.ts";
import { API_INFO } from "#lib/openapi/info.ts";
import { methodsOf, type RouteDefinition, routeKey, routes, takesBody } from "#lib/routes.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";

type Operation = {
  parameters?: { name: string; in: string; required: boolean; schema?: Record<string, unknown> }[];
  operationId: string;
  security: Record<string, string[]>[];
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema: Record<string, unknown> }> }
  >;
};
const operation = (document: ReturnType<typeof openApiDocument>, route: { method: string; path: string }) =>
  document.paths[route.path]?.[route.method.toLowerCase()] as Operation | undefined;

const validate = async (document: unknown) => {
  const result = await new Validator().validate(document as Record<string, unknown>);
  return { valid: result.valid, errors: JSON.stringify(result.errors ?? []) };
};

describe("OpenAPI document", () => {
  const document = openApiDocument(routes, API_INFO);

  it("is a valid OpenAPI 3.1 document", async () => {
    expect(document.openapi).toBe("3.1.0");
    const { valid, errors } = await validate(document);
    expect(errors).toBe("[]");
    expect(valid).toBe(true);
  });

  it("covers every route of lib/routes.ts (a GET's HEAD too), with its request and response schemas", () => {
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(
      routes.flatMap((route) => methodsOf(route).map((method) => `${method} ${route.path}`)).sort(),
    );
    for (const route of routes) {
      const op = operation(document, route);
      const key = `${route.method} ${route.path}`;
      expect(op?.operationId, key).toBe(operationId(route));
      for (const [status, response] of Object.entries(route.responses)) {
        expect(op?.responses[status]?.description, `${key} ${status}`).toBe(response.description);
        if (response.schema)
          expect(op?.responses[status]?.content?.["application/json"]?.schema, `${key} ${status}`).toBeTypeOf(
            "object",
          );
      }
      if (route.request.body)
        expect(op?.requestBody?.content["application/json"]?.schema, key).toMatchObject({ type: "object" });
      for (const name of route.path.match(/\{\w+\}/g) ?? []) {
        expect(op?.parameters, key).toContainEqual(
          expect.objectContaining({ name: name.slice(1, -1), in: "path", required: true }),
        );
      }
    }
  });

  it("lists every status explicitly, never a `default`, and is served relative to its own URL", () => {
    expect(document.servers).toEqual([{ url: "/", description: expect.stringContaining("ApiUrl") }]);
    for (const [path, methods] of Object.entries(document.paths))
      for (const [method, op] of Object.entries(methods))
        for (const status of Object.keys((op as Operation).responses))
          expect(status, `${method} ${path}`).toMatch(/^[1-5]\d\d$/);
  });

  it("declares a request body for every route that reads one, and 400/415 only where a body or query is read", () => {
    for (const route of routes) {
      const op = operation(document, route);
      const key = `${route.method} ${route.path}`;
      const reads = takesBody(route) || route.request.query || route.request.params;
      expect(op?.requestBody !== undefined, key).toBe(takesBody(route));
      if (!reads) expect(op?.responses["400"], key).toBeUndefined();
      if (!takesBody(route) || route.rawBody) expect(op?.responses["415"], key).toBeUndefined();
    }
    const stack = operation(document, { method: "POST", path: "/integrator/function" });
    expect(stack?.requestBody?.content["application/json"]?.schema).toMatchObject({
      required: ["_connectorId", "function", "options"],
    });
    // A POST that takes no input says so: no body, or an empty object.
    const redrive = operation(document, { method: "POST", path: "/admin/dlq/redrive" });
    expect(redrive?.requestBody).toEqual({
      required: false,
      content: {
        "application/json": { schema: { type: "object", properties: {}, additionalProperties: false } },
      },
    });
  });

  it("answers the stack's 400 in integrator.io's format, which has no `details`", () => {
    const stack = operation(document, { method: "POST", path: "/integrator/function" });
    expect(stack?.responses["400"]?.description).not.toMatch(/details/);
    expect(stack?.responses["400"]?.content?.["application/json"]?.schema).toEqual({
      $ref: "#/components/schemas/IntegratorError",
    });
    expect(JSON.stringify(document.components.schemas.IntegratorError)).not.toMatch(/details|field/);
  });

  it("declares what API Gateway answers on every operation: 429 when throttled, its own 500", () => {
    const gateway = { $ref: "#/components/schemas/GatewayMessage" };
    expect(document.components.schemas.GatewayMessage).toMatchObject({ required: ["message"] });
    for (const route of routes) {
      const op = operation(document, route);
      const errors = {
        $ref: `#/components/schemas/${route.errorFormat === "api" ? "ApiError" : "IntegratorError"}`,
      };
      expect(op?.responses["429"]?.content?.["application/json"]?.schema, routeKey(route)).toEqual(gateway);
      expect(op?.responses["500"]?.content?.["application/json"]?.schema, routeKey(route)).toEqual({
        anyOf: [errors, gateway],
      });
    }
  });

  it("describes every field of the admin API and the console session: parameters, bodies and answers", () => {
    const undescribed: string[] = [];
    /** Every property of `schema` (nested objects, arrays' items, variants) without a description. */
    const walk = (schema: unknown, at: string): void => {
      if (!schema || typeof schema !== "object") return;
      const s = schema as Record<string, unknown>;
      if (typeof s.$ref === "string") {
        const name = s.$ref.replace("#/components/schemas/", "");
        walk(document.components.schemas[name], name);
        return;
      }
      for (const [name, property] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) {
        if (!(property as { description?: unknown }).description) undescribed.push(`${at}.${name}`);
        walk(property, `${at}.${name}`);
      }
      for (const key of ["items", "additionalProperties"]) walk(s[key], `${at}[]`);
      for (const key of ["anyOf", "oneOf", "allOf"])
        for (const variant of (s[key] ?? []) as unknown[]) walk(variant, at);
    };
    const described = routes.filter((r) => r.path.startsWith("/admin/") || r.path === "/console/session");
    expect(described.length).toBeGreaterThan(20);
    for (const route of described) {
      const op = operation(document, route);
      const key = routeKey(route);
      for (const parameter of op?.parameters ?? [])
        if (
          parameter.in !== "header" &&
          !(parameter as { description?: string }).description &&
          !parameter.schema?.description
        )
          undescribed.push(`${key} ${parameter.in} ${parameter.name}`);
      walk(op?.requestBody?.content["application/json"]?.schema, `${key} body`);
      for (const [status, response] of Object.entries(op?.responses ?? {}))
        walk(response.content?.["application/json"]?.schema, `${key} ${status}`);
    }
    expect([...new Set(undescribed)]).toEqual([]);
  });

  it("types `limit` as an integer from 1 on every list", () => {
    const limits = Object.values(document.paths)
      .flatMap((methods) => Object.values(methods) as Operation[])
      .flatMap((op) => (op.parameters ?? []).filter((p) => p.name === "limit"));
    expect(limits.length).toBeGreaterThanOrEqual(10);
    for (const limit of limits)
      expect(limit).toMatchObject({ in: "query", schema: { type: "integer", minimum: 1 } });
  });

  it("documents each HEAD as its GET without bodies", () => {
    for (const route of routes.filter((r) => r.method === "GET")) {
      const get = operation(document, route);
      const head = operation(document, { method: "HEAD", path: route.path });
      expect(Object.keys(head?.responses ?? {}), route.path).toEqual(Object.keys(get?.responses ?? {}));
      for (const response of Object.values(head?.responses ?? {})) expect(response.content).toBeUndefined();
      expect(head?.parameters).toEqual(get?.parameters);
    }
  });

  it("documents the checkout body and the template query from their zod schemas", () => {
    const checkout = operation(document, { method: "POST", path: "/checkout/sessions" });
    const body = checkout?.requestBody?.content["application/json"]?.schema;
    expect(body).toMatchObject({
      type: "object",
      required: ["connector", "edition", "integratorEmail", "successUrl", "cancelUrl"],
      additionalProperties: false,
      properties: { interval: { enum: ["month", "year"] }, integratorEmail: { format: "email" } },
    });
    const templates = operation(document, { method: "GET", path: "/marketplace/templates" });
    expect(templates?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual([
      "query:application",
      "query:q",
      "query:limit",
      "query:cursor",
      "header:If-None-Match",
    ]);
  });

  it("names the auth scheme of every non-public route", () => {
    expect(document.components.securitySchemes).toMatchObject({
      adminToken: { type: "http", scheme: "bearer" },
    });
    for (const route of routes) {
      const op = operation(document, route);
      if (route.auth === "public") expect(op?.security).toEqual([]);
      if (route.auth === "admin") expect(op?.security).toEqual([{ adminToken: [] }]);
      if (route.auth === "stripe") expect(op?.security).toEqual([{ stripeSignature: [] }]);
      if (route.auth === "system") expect(op?.security).toEqual([{ stackSystemToken: [] }]);
    }
  });

  it("adds the shared stack's error responses in the route's error format, and every auth scheme", async () => {
    const base = {
      bodyLimit: 1024,
      rawBody: false,
      cors: false,
      request: {},
      summary: "s",
      function: "health",
    } as const;
    const sample: RouteDefinition[] = [
      {
        ...base,
        method: "POST",
        path: "/integrator/function",
        auth: "system",
        errorFormat: "integrator",
        bodyLimit: 6 * 1024 * 1024,
        request: { body: z.object({ function: z.string() }) },
        responses: { 200: { description: "ok" } },
      },
      {
        ...base,
        method: "GET",
        path: "/admin/things/{id}",
        auth: "admin",
        errorFormat: "api",
        responses: { 200: { description: "ok" } },
      },
      {
        ...base,
        method: "POST",
        path: "/webhooks/stripe",
        auth: "stripe",
        errorFormat: "api",
        rawBody: true,
        responses: { 200: { description: "ok" } },
      },
    ];
    const doc = openApiDocument(sample, API_INFO);
    expect((await validate(doc)).valid).toBe(true);
    const ref = (op: Operation | undefined, status: string) =>
      op?.responses[status]?.content?.["application/json"]?.schema.$ref;

    const extension = operation(doc, sample[0] as RouteDefinition);
    expect(extension?.security).toEqual([{ stackSystemToken: [] }]);
    for (const status of ["400", "401", "413", "415"])
      expect(ref(extension, status)).toBe("#/components/schemas/IntegratorError");

    const admin = operation(doc, sample[1] as RouteDefinition);
    expect(admin?.security).toEqual([{ adminToken: [] }]);
    for (const status of ["401", "403"]) expect(ref(admin, status)).toBe("#/components/schemas/ApiError");
    // Nothing to validate and no body: the shared stack cannot answer 400 here.
    expect(admin?.responses["400"]).toBeUndefined();
    expect(admin?.parameters).toEqual([
      { name: "id", in: "path", required: true, schema: { type: "string" } },
    ]);

    const webhook = operation(doc, sample[2] as RouteDefinition);
    expect(webhook?.security).toEqual([{ stripeSignature: [] }]);
    expect(webhook?.responses["415"]).toBeUndefined();
    expect(doc.components.securitySchemes).toMatchObject({
      stripeSignature: { type: "apiKey", in: "header", name: "Stripe-Signature" },
      stackSystemToken: { type: "http", scheme: "bearer" },
    });
    expect(doc.components.schemas.IntegratorError).toMatchObject({
      properties: { errors: { type: "array" } },
    });
  });

  it("moves shared parts of a schema to components, so every $ref resolves in the document", async () => {
    const item = z.object({ name: z.string() }).register(z.globalRegistry, { id: "SharedItem" });
    const sample: RouteDefinition = {
      method: "GET",
      path: "/things",
      function: "health",
      auth: "public",
      bodyLimit: 1024,
      rawBody: false,
      errorFormat: "api",
      cors: false,
      summary: "s",
      request: {},
      responses: { 200: { description: "ok", schema: z.object({ first: item, rest: z.array(item) }) } },
    };
    const doc = openApiDocument([sample], API_INFO);
    const text = JSON.stringify(doc);
    for (const [, ref] of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
      expect(doc.components.schemas, ref).toHaveProperty(ref ?? "");
    }
    expect(text).not.toContain("$defs");
    expect((await validate(doc)).valid).toBe(true);
    z.globalRegistry.remove(item);
  });
});

describe("GET /openapi.json", () => {
  it("serves the document with an ETag, and 304 when unchanged", async () => {
    const handler = makeHandler({ logger: new Logger({ logLevel: "SILENT" }) });
    const first = await handler(httpEvent("GET /openapi.json"), lambdaContext);
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body ?? "{}")).toEqual(openApiDocument(routes, API_INFO));
    const etag = first.headers?.etag as string;
    const again = await handler(
      httpEvent("GET /openapi.json", { headers: { "if-none-match": etag } }),
      lambdaContext,
    );
    expect(again.statusCode).toBe(304);
  });
});
