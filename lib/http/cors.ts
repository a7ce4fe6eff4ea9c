/**
 * CORS headers for an allow-listed `Origin`; for any other request only `Vary: Origin`, so a
 * shared cache never serves an answer without the CORS headers to the site that needs them.
 */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  if (!origin || !allowed.includes(origin)) return { vary: "Origin" };
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "GET,POST,OPTIONS",
    "access-control-allow-headers": "content-type,if-none-match",
    "access-control-expose-headers": "etag",
    "access-control-max-age": "600",
    vary: "Origin",
  };
}
