import * as z from "zod/mini";
import type { AuthKind } from "#lib/http/types.ts";
import {
  apiErrorBody,
  integratorErrorBody,
  type RouteDefinition,
  type RouteResponse,
  requiredRole,
  takesBody,
} from "#lib/routes.ts";
import { apiErrorCodeDescription } from "./error-codes.ts";

/**
 * The OpenAPI 3.1 document, generated from the route table: paths, parameters, request bodies and
 * responses come from each route's zod schemas through `z.toJSONSchema` (JSON Schema 2020-12, the
 * dialect of OpenAPI 3.1), so the document cannot drift from what the handlers validate. What the
 * shared HTTP stack and API Gateway add to every route — auth failures, malformed JSON, body
 * limits, throttling, 500 — is
 * derived from the route's auth kind, what it reads and its error format. Every status an operation
 * answers is listed (no `default`); every GET has its HEAD, the same answers without a body. Each
 * operation shows the route's `example` (request body, success answer); the two error formats are
 * components, `ApiError.code` an enum of every code the API answers (lib/openapi/error-codes.ts).
 */

type JsonSchema = Record<string, unknown>;
type JsonObject = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  servers: { url: string; description: string }[];
  tags: { name: string }[];
  paths: Record<string, Record<string, JsonObject>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonObject> };
}

const SECURITY_SCHEMES: Record<Exclude<AuthKind, "public">, { name: string; scheme: JsonObject }> = {
  admin: {
    name: "adminToken",
    scheme: {
      type: "http",
      scheme: "bearer",
      description:
        "`ADMIN_TOKEN` (root) or a named operator's token; the console's session cookie works too, with `X-CSRF-Token` on every request but GET and HEAD. Each route needs a role: `viewer` to read, `operator` to act, `admin` for operators.",
    },
  },
  system: {
    name: "stackSystemToken",
    scheme: {
      type: "http",
      scheme: "bearer",
      description:
        "The stack's system token integrator.io sends (`INTEGRATOR_SYSTEM_TOKEN`), compared in constant time.",
    },
  },
  stripe: {
    name: "stripeSignature",
    scheme: {
      type: "apiKey",
      in: "header",
      name: "Stripe-Signature",
      description:
        "Stripe's signature of the raw body with the endpoint secret (`STRIPE_WEBHOOK_SECRET`), 300 s tolerance.",
    },
  },
};

const ERROR_SCHEMAS = { api: "ApiError", integrator: "IntegratorError" } as const;
/** The statuses whose answer the route's `example.response` shows, the first one it declares. */
const SUCCESS_STATUSES = ["200", "201", "202"];

/**
 * `servers`: relative, so the document holds wherever it is served from — the stack's `ApiUrl`
 * (or the edge's domain) in AWS, `http://localhost:3000` under `npm start`, a tunnel's URL.
 */
export const SERVERS = [
  {
    url: "/",
    description:
      "The API's base URL: the origin this document is served from (in AWS the stack's `ApiUrl` output, or the CloudFront domain with the edge; locally http://localhost:3000).",
  },
];
/** What API Gateway itself answers (a throttled request, a function that failed outright): `{"message"}`. */
const GATEWAY_SCHEMA = "GatewayMessage";
const gatewayMessage = z.object({
  message: z
    .string()
    .check(z.describe("API Gateway's own words: `Too Many Requests`, `Internal Server Error`.")),
});

/** The responses the shared HTTP stack itself may answer on a route (lib/http/http-function.ts). */
function stackResponses(route: RouteDefinition): Record<number, RouteResponse> {
  const jsonBody = takesBody(route) && !route.rawBody;
  const schemas = Boolean(route.request.body ?? route.request.query ?? route.request.params);
  const out: Record<number, RouteResponse> = {};
  if (jsonBody || schemas) {
    const problems = [
      ...(jsonBody ? ["malformed JSON"] : []),
      ...(schemas ? ["a value its schema refuses"] : []),
    ].join(", or ");
    // integrator.io's error format has no `details`.
    out[400] = {
      description: `Invalid input: ${problems}${route.errorFormat === "api" && schemas ? " (each problem in `details`)" : ""}.`,
    };
  }
  if (route.auth === "admin") {
    out[401] = { description: "No bearer token.", headers: { "WWW-Authenticate": "`Bearer`." } };
    out[403] = {
      description: `Wrong or revoked token, a role below \`${requiredRole(route)}\` (the least this route needs), or a console session's write without \`X-CSRF-Token\`.`,
    };
  }
  if (route.auth === "system") {
    out[401] = {
      description: "Missing or wrong system token.",
      headers: { "WWW-Authenticate": "`invalid system token`." },
    };
  }
  out[413] = {
    description: takesBody(route)
      ? `Body over ${route.bodyLimit} bytes.`
      : `A body over ${route.bodyLimit} bytes (the route ignores a smaller one).`,
  };
  if (jsonBody) out[415] = { description: "Content-Type is not JSON." };
  out[429] = {
    description: "Over the route's request rate: API Gateway's throttle answers, in its own format.",
  };
  out[500] = {
    description:
      "Internal error, without internals; in API Gateway's own format when the function failed outright.",
  };
  return out;
}

/** Builds the document for `routes` (the project's route table). */
export function openApiDocument(
  routes: readonly RouteDefinition[],
  info: { title: string; version: string; description: string },
): OpenApiDocument {
  const components: OpenApiDocument["components"] = {
    schemas: {
      [ERROR_SCHEMAS.api]: withCodeDescription(toSchema(apiErrorBody, "output", "ApiError", undefined)),
      [ERROR_SCHEMAS.integrator]: toSchema(integratorErrorBody, "output", "IntegratorError", undefined),
      [GATEWAY_SCHEMA]: toSchema(gatewayMessage, "output", GATEWAY_SCHEMA, undefined),
    },
    securitySchemes: {},
  };
  const paths: OpenApiDocument["paths"] = {};
  const tags = new Set<string>();
  for (const route of routes) {
    const id = operationId(route);
    const tag = tagOf(route.path);
    tags.add(tag);
    const convert = (schema: z.ZodMiniType, io: "input" | "output", name: string) =>
      toSchema(schema, io, `${id}${name}`, components.schemas);
    const cacheable = route.responses[304] !== undefined;
    const operation: JsonObject = {
      operationId: id,
      summary: route.summary,
      tags: [tag],
      security: route.auth === "public" ? [] : [{ [securityScheme(route.auth, components)]: [] }],
    };
    const parameters = [
      ...pathParameters(route, convert),
      ...queryParameters(route, convert),
      ...(cacheable
        ? [
            {
              name: "If-None-Match",
              in: "header",
              required: false,
              schema: { type: "string" },
              description: "An ETag of an earlier answer: 304 when unchanged.",
            },
          ]
        : []),
    ];
    if (parameters.length > 0) operation.parameters = parameters;
    const requestBody = requestBodyOf(route, convert);
    if (requestBody) operation.requestBody = requestBody;
    const errorSchema = { $ref: `#/components/schemas/${ERROR_SCHEMAS[route.errorFormat]}` };
    const responses: Record<string, JsonObject> = {};
    const exampleStatus = SUCCESS_STATUSES.find((status) => route.responses[Number(status)]?.schema);
    const withSchema = (response: RouteResponse, status: string, schema: JsonSchema | undefined) => ({
      description: response.description,
      ...(response.contentType
        ? { content: { [response.contentType.split(";")[0] ?? ""]: { schema: { type: "string" } } } }
        : schema
          ? {
              content: {
                "application/json": {
                  schema,
                  ...(status === exampleStatus && route.example?.response !== undefined
                    ? { example: route.example.response }
                    : {}),
                },
              },
            }
          : {}),
      ...headersOf(response, cacheable && (status === "200" || status === "304")),
    });
    const gateway = { $ref: `#/components/schemas/${GATEWAY_SCHEMA}` };
    const stackBodies: Record<string, JsonSchema> = { 429: gateway, 500: { anyOf: [errorSchema, gateway] } };
    for (const [status, response] of Object.entries(stackResponses(route)))
      responses[status] = withSchema(response, status, stackBodies[status] ?? errorSchema);
    for (const [status, response] of Object.entries(route.responses)) {
      const schema = response.schema ? responseSchema(response.schema, convert, status) : undefined;
      responses[status] = withSchema(response, status, schema);
    }
    operation.responses = responses;
    const methods: Record<string, JsonObject> = { [route.method.toLowerCase()]: operation };
    if (route.method === "GET") methods.head = headOperation(route, operation, responses);
    paths[route.path] = { ...paths[route.path], ...methods };
  }
  return {
    openapi: "3.1.0",
    info,
    servers: SERVERS,
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components,
  };
}

/** The HEAD of a GET: the same parameters, statuses and headers, never a body. */
function headOperation(
  route: RouteDefinition,
  get: JsonObject,
  responses: Record<string, JsonObject>,
): JsonObject {
  return {
    ...get,
    operationId: operationId({ method: "HEAD", path: route.path }),
    summary: `The headers of GET ${route.path}, without the body.`,
    responses: Object.fromEntries(
      Object.entries(responses).map(([status, { content: _content, ...response }]) => [status, response]),
    ),
  };
}

/** A route's response schema; the two error bodies by reference to their components. */
function responseSchema(schema: z.ZodMiniType, convert: Convert, status: string): JsonSchema {
  if (schema === apiErrorBody) return { $ref: `#/components/schemas/${ERROR_SCHEMAS.api}` };
  if (schema === integratorErrorBody) return { $ref: `#/components/schemas/${ERROR_SCHEMAS.integrator}` };
  return convert(schema, "output", `Response${status}`);
}

/** `ApiError` with its `code` enum described, code by code. */
function withCodeDescription(schema: JsonSchema): JsonSchema {
  const error = (schema.properties as Record<string, JsonSchema> | undefined)?.error;
  const code = (error?.properties as Record<string, JsonSchema> | undefined)?.code;
  if (code) code.description = apiErrorCodeDescription();
  return schema;
}

function requestBodyOf(route: RouteDefinition, convert: Convert): JsonObject | undefined {
  const body = route.request.body ?? route.request.handlerCheckedBody;
  const example = route.example?.request === undefined ? {} : { example: route.example.request };
  if (route.rawBody) {
    return {
      required: true,
      content: {
        "application/json": {
          schema: { description: "Verified on the raw bytes before it is parsed." },
          ...example,
        },
      },
    };
  }
  if (!body) return undefined;
  return {
    required: !body.safeParse(undefined).success,
    content: { "application/json": { schema: convert(body, "input", "Request"), ...example } },
  };
}

function headersOf(response: RouteResponse, cacheable: boolean): { headers?: JsonObject } {
  const headers: JsonObject = cacheable ? { ...CACHE_HEADERS } : {};
  for (const [name, description] of Object.entries(response.headers ?? {}))
    headers[name] = { description, schema: { type: "string" } };
  return Object.keys(headers).length > 0 ? { headers } : {};
}

const CACHE_HEADERS = {
  ETag: {
    description: "Strong validator of the body; send it back in If-None-Match.",
    schema: { type: "string" },
  },
  "Cache-Control": { description: "How long the answer may be reused.", schema: { type: "string" } },
};

function securityScheme(
  auth: Exclude<AuthKind, "public">,
  components: OpenApiDocument["components"],
): string {
  const { name, scheme } = SECURITY_SCHEMES[auth];
  components.securitySchemes[name] = scheme;
  return name;
}

type Convert = (schema: z.ZodMiniType, io: "input" | "output", name: string) => JsonSchema;

function pathParameters(route: RouteDefinition, convert: Convert): JsonObject[] {
  const declared = objectProperties(
    route.request.params ? convert(route.request.params, "input", "Params") : {},
  );
  const names = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map((match) => match[1] ?? "");
  return names.map((name) => ({
    name,
    in: "path",
    required: true,
    schema: declared.properties[name] ?? { type: "string" },
  }));
}

function queryParameters(route: RouteDefinition, convert: Convert): JsonObject[] {
  if (!route.request.query) return [];
  const { properties, required } = objectProperties(convert(route.request.query, "input", "Query"));
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: "query",
      required: required.includes(name),
      schema: rest,
      ...(description ? { description } : {}),
    };
  });
}

function objectProperties(schema: JsonSchema): {
  properties: Record<string, JsonSchema>;
  required: string[];
} {
  return {
    properties: (schema.properties ?? {}) as Record<string, JsonSchema>,
    required: (schema.required ?? []) as string[],
  };
}

/**
 * One zod schema as an OpenAPI schema object: `$schema` dropped (the document's dialect applies)
 * and any `$defs` (reused or recursive parts) moved to `components.schemas` under `name`-prefixed
 * names, since a `$ref` inside the document resolves against the document, not the fragment.
 */
function toSchema(
  schema: z.ZodMiniType,
  io: "input" | "output",
  name: string,
  components: Record<string, JsonSchema> | undefined,
): JsonSchema {
  const {
    $schema: _dialect,
    $defs,
    ...rest
  } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  const defs = ($defs ?? {}) as Record<string, JsonSchema>;
  const rename = (ref: string) => ref.replace(/^#\/\$defs\//, `#/components/schemas/${name}_`);
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => [
        key,
        key === "$ref" && typeof entry === "string" ? rename(entry) : rewrite(entry),
      ]),
    );
  };
  for (const [defName, def] of Object.entries(defs)) {
    if (!components) throw new Error(`schema ${name} has shared parts; it cannot be a component itself`);
    components[`${name}_${defName}`] = rewrite(def) as JsonSchema;
  }
  return rewrite(rest) as JsonSchema;
}

/** `GET /marketplace/connectors/{key}` → `getMarketplaceConnectorsByKey`. */
export function operationId(route: { method: string; path: string }): string {
  const words = route.path
    .split("/")
    .filter(Boolean)
    .flatMap((segment) => {
      const param = /^\{(\w+)\+?\}$/.exec(segment);
      return param ? ["by", param[1] ?? ""] : segment.split(/[^A-Za-z0-9]+/);
    })
    .filter(Boolean);
  return [route.method.toLowerCase(), ...words.map((word) => word[0]?.toUpperCase() + word.slice(1))].join(
    "",
  );
}

/** The first path segment names the tag: `/admin/licenses` → `admin`, `/openapi.json` → `openapi`. */
function tagOf(path: string): string {
  return (path.split("/")[1] ?? "").split(".")[0] || "root";
}
