import { badRequest } from "#lib/http/errors.ts";
import { InvalidCursorError } from "#lib/store/dynamo.ts";

/**
 * List cursors of the admin API: the store's cursor tagged with the list it belongs to, so a
 * cursor from another list (or a made-up one) is a clear 400 rather than a DynamoDB error.
 */
export function toPageCursor(list: string, storeCursor: string | undefined): string | undefined {
  return storeCursor === undefined
    ? undefined
    : Buffer.from(JSON.stringify({ list, at: storeCursor })).toString("base64url");
}

/** The store's cursor inside a page cursor of `list`; 400 for anything this API did not return. */
export function fromPageCursor(list: string, cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      list?: unknown;
      at?: unknown;
    };
    if (parsed.list === list && typeof parsed.at === "string") return parsed.at;
  } catch {
    // fall through
  }
  throw invalidCursor();
}

const invalidCursor = () =>
  badRequest("cursor is not one this list returned", [{ path: "query.cursor", message: "invalid cursor" }]);

/**
 * Runs a store read with a cursor: a cursor DynamoDB refuses (a tampered one, one from an older
 * index) is the caller's mistake, a 400, not a 500.
 */
export async function withCursor<T>(cursor: string | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (
      cursor !== undefined &&
      (error instanceof InvalidCursorError ||
        (error instanceof Error && error.name === "ValidationException"))
    ) {
      throw invalidCursor();
    }
    throw error;
  }
}

/** `?limit=` (validated as 1–100 digits by the route's schema), else `fallback`. */
export const pageLimit = (limit: string | undefined, fallback = 50) =>
  limit === undefined ? fallback : Number(limit);
