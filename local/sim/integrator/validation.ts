import type { z } from "zod";
import { invalidField, missingField } from "./errors.ts";
import { isObject, type JsonObject } from "./json.ts";

/** The request body as a JSON object, or `invalid_field` (422) naming the body. */
export function objectBody(body: unknown): JsonObject {
  if (body === undefined) return {};
  if (!isObject(body)) throw invalidField("body", "The body must be a JSON object.");
  return body;
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path)
    value = isObject(value) || Array.isArray(value) ? (value as JsonObject)[String(key)] : undefined;
  return value;
}

/**
 * Parses `body` with `schema`; the first problem becomes integrator.io's error: a field that is
 * absent is `missing_required_field`, one that is there but wrong is `invalid_field` (both 422).
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(objectBody(body));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path ?? [];
  const field = path.map(String).join(".") || "body";
  if (path.length > 0 && valueAt(body, path) === undefined) throw missingField(field);
  throw invalidField(field, `${field}: ${issue?.message ?? "invalid"}`);
}
