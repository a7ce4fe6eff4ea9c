import { createHash } from "node:crypto";
import type { RouteOutput } from "#lib/http/types.ts";

/** Listings change on a sync (every 15 minutes at most): browsers and CDNs may reuse them a minute, then revalidate. */
export const LISTING_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300";

/** A strong ETag of a JSON body: the hash of what is sent. */
export function etagOf(body: unknown): string {
  return `"${createHash("sha256").update(JSON.stringify(body)).digest("base64url").slice(0, 27)}"`;
}

/** True when `If-None-Match` (a list, `*`, weak or strong) names `etag` (weak comparison, RFC 9110 §13.1.2). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}

/**
 * A cacheable 200 with `ETag` and `Cache-Control`, or a 304 without a body when the client's
 * `If-None-Match` already names it.
 */
export function cacheableJson(
  body: unknown,
  requestHeaders: Record<string, string>,
  cacheControl = LISTING_CACHE_CONTROL,
): RouteOutput {
  const etag = etagOf(body);
  const headers = { etag, "cache-control": cacheControl };
  return matchesIfNoneMatch(requestHeaders["if-none-match"], etag)
    ? { status: 304, headers }
    : { status: 200, body, headers };
}
