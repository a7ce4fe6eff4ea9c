import { createHmac, timingSafeEqual } from "node:crypto";
import { requiredSecret, type SecretSource, type SyncSecretValue } from "../secrets.ts";
import { HttpError } from "./errors.ts";

/** What a page is of: a list and the filters that choose its index and partition. */
export interface PageScope {
  list: string;
  filters?: Record<string, string | number | undefined>;
}

/**
 * The cursors of every list the API pages through (docs/architecture.md §6). A list's position in
 * the store — a DynamoDB key, the install list's connector and key, a template's name — goes out
 * as `<position>.<mac>`, the MAC being HMAC-SHA256 under `CURSOR_SIGNING_KEY` over the scope (the
 * list and its filters) and the position. A cursor tampered with, truncated, made up, handed out
 * by another list or for other filters, or under another key is a 400 `invalid_cursor` before any
 * query: the store only ever reads from positions it gave out itself, for the same query.
 * The key is read at each use (a getter in a function: the value of the invocation's secrets).
 */
export class PageCursors {
  constructor(private readonly key: SyncSecretValue) {}

  /** The cursor for the store's `position` in `scope` (undefined at the end of the list). */
  issue(scope: PageScope, position: string | undefined): string | undefined {
    return position === undefined ? undefined : `${position}.${this.mac(scope, position)}`;
  }

  /** The store's position in a cursor issued for `scope`; undefined without one; 400 otherwise. */
  read(scope: PageScope, cursor: string | undefined): string | undefined {
    if (cursor === undefined) return undefined;
    const dot = cursor.lastIndexOf(".");
    const position = cursor.slice(0, dot);
    const given = Buffer.from(cursor.slice(dot + 1));
    const expected = Buffer.from(this.mac(scope, position));
    if (dot < 1 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpError(
        400,
        "invalid_cursor",
        `cursor is not one the ${scope.list} list returned for this query`,
        {
          details: [
            {
              path: "query.cursor",
              message: "give the nextCursor of the previous page as it was, with the same filters",
            },
          ],
        },
      );
    }
    return position;
  }

  private mac({ list, filters = {} }: PageScope, position: string): string {
    const given = Object.entries(filters)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return createHmac("sha256", requiredSecret(this.key, "CURSOR_SIGNING_KEY"))
      .update(JSON.stringify([list, given, position]))
      .digest("base64url");
  }
}

/** The page cursors of a function granted `CURSOR_SIGNING_KEY` (lib/functions.ts); refuses to start without it. */
export function pageCursorsOf(secrets: SecretSource): PageCursors {
  if (!secrets.has("CURSOR_SIGNING_KEY")) throw new Error("CURSOR_SIGNING_KEY is not configured");
  return new PageCursors(() => secrets.get("CURSOR_SIGNING_KEY"));
}
