import { type IncomingHttpHeaders, request } from "node:http";
import { format } from "node:util";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { expect } from "vitest";
import { createDocumentClient } from "#lib/aws.ts";
import { loadConfig } from "#lib/config.ts";
import { matchRoute, type RouteDefinition } from "#lib/routes.ts";
import { isLive } from "#lib/store/table.ts";
import { eventually, type TestStack } from "./local-stack.ts";

/**
 * Tools of the hostile-input suite (test/e2e/hostile-input.test.ts): raw HTTP requests that fetch
 * would refuse to send (a body on a GET, any path as typed), a snapshot of the whole table, the
 * error formats of docs/architecture.md §6, and a capture of every line the stack writes.
 */

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface RawRequest {
  method: string;
  /** Sent exactly as given (percent-encode anything outside ASCII). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Sends requests as typed, and keeps every answer so a test can look through them all afterwards. */
export class RawClient {
  readonly answers: { request: RawRequest; answer: RawAnswer }[] = [];
  private readonly url: URL;

  constructor(baseUrl: string) {
    this.url = new URL(baseUrl);
  }

  send(req: RawRequest): Promise<RawAnswer> {
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    return new Promise((resolve, reject) => {
      const outgoing = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method: req.method,
          path: req.path,
          headers: { ...req.headers, ...(body ? { "content-length": String(body.length) } : {}) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            const answer = { status: response.statusCode ?? 0, headers: response.headers, text, json };
            this.answers.push({ request: { ...req, body: summarize(req.body) }, answer });
            resolve(answer);
          });
          response.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });
  }
}

const summarize = (body: RawRequest["body"]) =>
  body === undefined ? undefined : body.length > 200 ? `${body.slice(0, 200).toString()}…` : body.toString();

/** Path parameter values a route may be given on purpose or by accident, raw (already encoded). */
export const SAMPLE_PARAMS: Record<string, string> = {
  customerId: "cus_hostile",
  connector: "shopify-netsuite",
  eventId: "evt_hostile",
  runId: "hostile-run",
  key: "shopify-netsuite",
  id: "tpl_hostile",
};

/** A concrete path for a route template; `raw` values are put in as they are (already encoded). */
export function fillPath(path: string, raw: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\+?\}/g, (_, name: string) => raw[name] ?? SAMPLE_PARAMS[name] ?? "sample");
}

/** The names of a route template's path parameters. */
export const pathParams = (path: string) => [...path.matchAll(/\{(\w+)\+?\}/g)].map((m) => m[1] ?? "");

/** Odd path parameter values: oversized, control characters, traversal, unicode, numbers, prototype names. */
export const ODD_PATH_VALUES: Record<string, string> = {
  "very long (4 KB)": "a".repeat(4096),
  "over DynamoDB's sort key limit (1.5 KB of 3-byte characters)": "%E2%82%AC".repeat(512),
  NUL: "%00",
  "NUL inside": "cus_%00x",
  "dot-dot slashes": "..%2F..%2Fadmin%2Fcatalog",
  "encoded slash": "a%2Fb",
  "double-encoded dots": "%252e%252e%252f",
  "unicode and right-to-left override": "%F0%9F%92%A5%C3%A9%E2%80%AE",
  "invalid UTF-8": "%FF%FE",
  "lone surrogate": "%ED%A0%80",
  "broken escape": "%zz",
  "huge number": `1${"0".repeat(400)}`,
  "float exponent": "1e400",
  "negative zero": "-0",
  __proto__: "__proto__",
  constructor: "constructor",
  "markup and quotes": "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E",
  "only spaces": "%20%20",
};

/** A well-formed email far past SMTP's 254 characters (a DynamoDB key holds at most 1–2 KB). */
export const LONG_EMAIL = `${"a".repeat(60)}@${`${"b".repeat(60)}.`.repeat(50)}com`;

/** Odd query values, raw (already encoded). */
export const ODD_QUERY_VALUES: Record<string, string> = {
  "very long (4 KB)": "a".repeat(4096),
  NUL: "%00",
  "unicode and right-to-left override": "%F0%9F%92%A5%C3%A9%E2%80%AE",
  "lone surrogate": "%ED%A0%80",
  "huge number": `1${"0".repeat(400)}`,
  "float exponent": "1e400",
  negative: "-1",
  __proto__: "__proto__",
  "JSON object": "%7B%22%24ne%22%3Anull%7D",
  "3 KB email": LONG_EMAIL,
};

/** JSON nested `depth` levels deep, as text (never built as an object: stringify would overflow). */
export const deepArray = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
export const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

/** JSON scalars (as JSON text) every typed field should refuse or survive. */
export const HOSTILE_SCALARS: Record<string, string> = {
  "number beyond double": "1e400",
  "integer beyond 2^53": "9007199254740993123",
  "negative number": "-1e308",
  "unicode with NUL, RTL override and emoji": JSON.stringify("💥\u0000\u202eé"),
  "lone surrogate": '"\\ud800"',
  "100 KB string": JSON.stringify("x".repeat(100_000)),
  null: "null",
  "array of objects": '[{"__proto__":{"admin":true}}]',
  "prototype pollution": '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
};

type SchemaLike = { shape?: Record<string, unknown>; def?: { innerType?: SchemaLike } } | undefined;

/** The keys of an object schema, through `optional`/`default` wrappers (none for other schemas). */
function schemaKeys(schema: unknown): string[] {
  let current = schema as SchemaLike;
  while (current && !current.shape && current.def?.innerType) current = current.def.innerType;
  return current?.shape ? Object.keys(current.shape) : [];
}

/** The body keys a route's schema names (none for routes without a body schema). */
export const bodyKeys = (route: RouteDefinition): string[] => schemaKeys(route.request.body);

/** The query keys a route's schema names. */
export const queryKeys = (route: RouteDefinition): string[] => schemaKeys(route.request.query);

/** The error format that answers `path`: the matched route's, else the `$default` route's (`api`). */
export function errorFormatFor(method: string, path: string): RouteDefinition["errorFormat"] {
  const match = matchRoute(method, new URL(path, "http://localhost").pathname);
  return match.kind === "found" ? match.route.errorFormat : "api";
}

/**
 * Asserts a clear refusal: a 4xx (one of `statuses` when given) whose body is the error format of
 * docs/architecture.md §6 — `{"error":{code,message}}` or integrator.io's `{"errors":[{code,message}]}`.
 */
export function expectRefusal(
  answer: RawAnswer,
  errorFormat: RouteDefinition["errorFormat"],
  statuses?: number[],
  what = "",
): void {
  const context = `${what}: ${answer.status} ${answer.text.slice(0, 300)}`;
  if (statuses) expect(statuses, context).toContain(answer.status);
  expect(answer.status, context).toBeGreaterThanOrEqual(400);
  expect(answer.status, context).toBeLessThan(500);
  expect(answer.headers["content-type"], context).toMatch(/^application\/json/);
  const body = answer.json as Record<string, unknown> | undefined;
  if (errorFormat === "integrator") {
    const errors = (body as { errors?: unknown[] } | undefined)?.errors;
    expect(Array.isArray(errors) && errors.length > 0, context).toBe(true);
    for (const error of errors ?? [])
      expect(error, context).toEqual(
        expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
      );
  } else {
    expect(body, context).toEqual({
      error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
    });
  }
}

/** Anything but a 5xx (or a dropped connection); a 4xx must still be in the route's error format. */
export function expectNoServerError(
  answer: RawAnswer,
  errorFormat: RouteDefinition["errorFormat"],
  what = "",
): void {
  expect(answer.status, `${what}: ${answer.status} ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  if (answer.status >= 400) expectRefusal(answer, errorFormat, undefined, what);
}

export type StoreSnapshot = Record<string, unknown>[];

/**
 * Every item of the stack's table, sorted by key, without the shared rate-limit bucket (its tokens
 * move with every integrator.io call) and items whose TTL has passed (DynamoDB would have removed them).
 */
export async function storeSnapshot(stack: TestStack): Promise<StoreSnapshot> {
  const client = createDocumentClient(loadConfig(stack.env));
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: stack.config.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey;
  } while (start);
  const now = Date.now();
  return items
    .filter((item) => !String(item.pk).startsWith("RATELIMIT#") && isLive(item, now))
    .sort((a, b) => `${a.pk}\u0000${a.sk}`.localeCompare(`${b.pk}\u0000${b.sk}`));
}

/**
 * A snapshot once the stack is at rest: no inbox event waiting for the worker and two snapshots a
 * poll interval apart that agree.
 */
export async function quiescentSnapshot(stack: TestStack): Promise<StoreSnapshot> {
  return eventually(
    async () => {
      const first = await storeSnapshot(stack);
      const waiting = first.some(
        (item) =>
          String(item.pk).startsWith("EVENT#") && ["received", "enqueued"].includes(String(item.status)),
      );
      if (waiting) return undefined;
      await new Promise((r) => setTimeout(r, 1500));
      const second = await storeSnapshot(stack);
      return JSON.stringify(first) === JSON.stringify(second) ? second : undefined;
    },
    { what: "the store to come to rest", timeoutMs: 60_000, intervalMs: 500 },
  );
}

/** Every line written to this process's stdout/stderr and console, and what `add` is given (worker processes). */
export interface OutputCapture {
  readonly lines: string[];
  add(line: string): void;
  restore(): void;
}

/**
 * Captures (and silences) everything this process writes — Powertools loggers write to
 * `process.stdout`/`process.stderr`, the local gateway to `console` — until `restore()`.
 */
export function captureOutput(): OutputCapture {
  const lines: string[] = [];
  const add = (text: string) => {
    for (const line of text.split("\n")) if (line) lines.push(line);
  };
  const streams = [process.stdout, process.stderr] as const;
  const originalWrites = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      add(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  const methods = ["log", "info", "warn", "error", "debug", "trace"] as const;
  const originalConsole = methods.map((name) => console[name]);
  for (const name of methods) console[name] = (...args: unknown[]) => add(format(...args));
  return {
    lines,
    add,
    restore() {
      streams.forEach((stream, i) => {
        stream.write = originalWrites[i] as typeof stream.write;
      });
      methods.forEach((name, i) => {
        console[name] = originalConsole[i] as (typeof console)[typeof name];
      });
    },
  };
}

/** Where each secret value shows up in `texts` (empty when it is nowhere). */
export function secretSightings(
  texts: { where: string; text: string }[],
  secrets: Record<string, string>,
): string[] {
  const found: string[] = [];
  for (const { where, text } of texts) {
    for (const [name, value] of Object.entries(secrets)) {
      if (text.includes(value)) found.push(`${name} in ${where}: ${text.slice(0, 200)}`);
    }
  }
  return found;
}
