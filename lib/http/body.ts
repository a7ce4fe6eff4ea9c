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
  try {
    return JSON.parse(body.toString("utf8"));
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
