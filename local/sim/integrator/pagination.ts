import { invalidQueryParams } from "./errors.ts";
import type { Reply } from "./router.ts";

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export interface Page {
  skip: number;
  limit: number;
}

function integerParam(
  query: URLSearchParams,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw invalidQueryParams(name, `${name} must be an integer from ${min} to ${max}.`);
  const value = Number(raw);
  if (value < min || value > max)
    throw invalidQueryParams(name, `${name} must be an integer from ${min} to ${max}.`);
  return value;
}

/** `?skip=&limit=` (default 0 and 100); anything but integers in range is `invalid_query_params` (400). */
export function parsePage(query: URLSearchParams): Page {
  return {
    skip: integerParam(query, "skip", 0, Number.MAX_SAFE_INTEGER, 0),
    limit: integerParam(query, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT),
  };
}

/**
 * One page of `items` as a 200 answer, with an RFC 5988 `Link: <...?skip=&limit=>; rel="next"`
 * while more remain. The link keeps the request's other query parameters (filters).
 */
export function pageReply(items: unknown[], query: URLSearchParams, url: URL): Reply {
  const page = parsePage(query);
  const body = items.slice(page.skip, page.skip + page.limit);
  const headers: Record<string, string> = {};
  const nextSkip = page.skip + page.limit;
  if (nextSkip < items.length) {
    const next = new URL(url);
    next.searchParams.set("skip", String(nextSkip));
    next.searchParams.set("limit", String(page.limit));
    headers.link = `<${next.toString()}>; rel="next"`;
  }
  return { status: 200, body, headers };
}
