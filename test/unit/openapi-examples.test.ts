import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { describe, expect, it } from "vitest";
import type * as z from "zod/mini";
import { openApiDocument } from "#lib/openapi/document.ts";
import { API_INFO } from "#lib/openapi/info.ts";
import { type RouteDefinition, routeKey, routes } from "#lib/routes.ts";
import { stripeEventSchema } from "#lib/stripe/schemas.ts";

/**
 * Every operation of the OpenAPI document shows an example (docs/architecture.md §6): a request
 * body where the route takes one, and its success answer. The examples come from the route table
 * (`example`) and are validated here against the document's own schemas (ajv, as a client would
 * read them) and against the route's zod schemas, so they cannot say something the API does not.
 */

const document = openApiDocument(routes, API_INFO);
const ajv = new Ajv2020({ strict: false, allErrors: true });
formats.default(ajv);
ajv.addSchema(document, "openapi");

type Media = { schema?: Record<string, unknown>; example?: unknown };
type Operation = {
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
};
const operationOf = (route: RouteDefinition) =>
  document.paths[route.path]?.[route.method.toLowerCase()] as Operation | undefined;

/** `openapi#/paths/<path>/<method>/...` for ajv. */
const pointer = (route: RouteDefinition, ...rest: string[]) =>
  `openapi#/paths/${route.path.replaceAll("~", "~0").replaceAll("/", "~1")}/${route.method.toLowerCase()}/${rest.join("/")}`;

/** The status whose answer the example shows: the first of 200, 201, 202 with a JSON schema. */
const successStatus = (route: RouteDefinition) =>
  [200, 201, 202].find((status) => route.responses[status]?.schema !== undefined);

/** The body schema a route reads (validated by the stack, or checked by its handler). */
const bodySchema = (route: RouteDefinition): z.ZodMiniType | undefined =>
  route.request.body ?? route.request.handlerCheckedBody;

/** A route whose body carries something: a raw (signed) body, or a schema with fields. */
const takesContent = (route: RouteDefinition) => {
  if (route.rawBody) return true;
  const schema = operationOf(route)?.requestBody?.content["application/json"]?.schema;
  return Boolean(schema && Object.keys((schema.properties as object | undefined) ?? {}).length > 0);
};

const byKey = (list: readonly RouteDefinition[]) => list.map((route) => [routeKey(route), route] as const);

const errorsOf = (ref: string, value: unknown): string => {
  const validate = ajv.getSchema(ref);
  if (!validate) return `no schema at ${ref}`;
  return validate(value) ? "" : ajv.errorsText(validate.errors);
};

describe("examples of the OpenAPI document", () => {
  it.each(byKey(routes.filter((route) => successStatus(route) !== undefined)))(
    "%s shows an example of its success answer, valid against the document and the route's schema",
    (_key, route) => {
      const status = successStatus(route) ?? 200;
      const media = operationOf(route)?.responses[String(status)]?.content?.["application/json"];
      expect(route.example?.response, "the route's `example.response`").toBeDefined();
      expect(media?.example).toEqual(route.example?.response);
      expect(
        errorsOf(
          pointer(route, "responses", String(status), "content", "application~1json", "schema"),
          media?.example,
        ),
      ).toBe("");
      const schema = route.responses[status]?.schema;
      const parsed = schema?.safeParse(route.example?.response);
      expect(parsed?.success, JSON.stringify(parsed?.error?.issues)).toBe(true);
    },
  );

  it.each(byKey(routes.filter(takesContent)))(
    "%s shows a request body, valid against the document and the route's schema",
    (_key, route) => {
      const media = operationOf(route)?.requestBody?.content["application/json"];
      expect(route.example?.request, "the route's `example.request`").toBeDefined();
      expect(media?.example).toEqual(route.example?.request);
      expect(
        errorsOf(pointer(route, "requestBody", "content", "application~1json", "schema"), media?.example),
      ).toBe("");
      // The webhook verifies raw bytes first, then reads them as a Stripe event.
      const schema = route.rawBody ? stripeEventSchema : bodySchema(route);
      const parsed = schema?.safeParse(route.example?.request);
      expect(parsed?.success, JSON.stringify(parsed?.error?.issues)).toBe(true);
    },
  );

  it("shows no example a route could not answer: only on the success status and a body it reads", () => {
    for (const route of routes) {
      const op = operationOf(route);
      const shown = Object.entries(op?.responses ?? {}).filter(
        ([, response]) => response.content?.["application/json"]?.example !== undefined,
      );
      expect(
        shown.map(([status]) => status),
        routeKey(route),
      ).toEqual(route.example?.response === undefined ? [] : [String(successStatus(route))]);
      if (route.example?.request !== undefined) expect(takesContent(route), routeKey(route)).toBe(true);
    }
  });

  it("an example that breaks its schema fails the check", () => {
    const route = routes.find((r) => r.path === "/admin/reconcile" && r.method === "POST") as RouteDefinition;
    const ref = pointer(route, "responses", "202", "content", "application~1json", "schema");
    expect(errorsOf(ref, { runId: 42 })).not.toBe("");
    expect(errorsOf(ref, { runId: "r", extra: true })).not.toBe("");
  });
});
