import type { z } from "zod/mini";
import { HttpError } from "./errors.ts";
import type { HttpEvent } from "./types.ts";

/** The request body as received, base64 decoded when API Gateway says so. */
export function rawBodyOf(event: HttpEvent): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
}

export function assertBodyLimit(body: Buffer, limit: number): void {
  if (body.length > limit) {
    throw new HttpError(
      413,
      "payload_too_large",
      `Body of ${body.length} bytes is over the limit of ${limit} bytes.`,
    );
  }
}

/**
 * How deeply a JSON body may nest. Every document the API takes is a few levels deep; a body nested
 * thousands of levels parses fine but overflows the stack of anything that walks it recursively
 * afterwards (`JSON.stringify`, a schema message, the DynamoDB marshaller): a 500 for bad input.
 */
export const MAX_JSON_DEPTH = 100;

/** True when the JSON text nests objects and arrays deeper than `limit` (strings are skipped). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Parses a JSON body; an empty body is `undefined`, malformed JSON a 400 naming the problem. */
export function parseJsonBody(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return undefined;
  if (contentType && !/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      `Content-Type must be application/json, not ${contentType}.`,
    );
  }
  const text = body.toString("utf8");
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new HttpError(400, "invalid_json", `JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : "unparseable";
    throw new HttpError(400, "invalid_json", `Malformed JSON body: ${reason}`);
  }
}

/** Validates `value` against a zod schema; a failure is a 400 whose details are the zod issues. */
export function validate<T extends z.ZodMiniType>(
  schema: T | undefined,
  value: unknown,
  where: string,
): z.infer<T> {
  if (!schema) return value as z.infer<T>;
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.infer<T>;
  const details = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join("."),
    message: issue.message,
    code: issue.code,
  }));
  const first = details[0];
  throw new HttpError(
    400,
    "invalid_request",
    `Invalid ${where}${first ? `: ${first.path} ${first.message}` : ""}`,
    {
      details,
    },
  );
}
