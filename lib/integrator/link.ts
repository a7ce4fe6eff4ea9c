/**
 * The `rel="next"` target of an RFC 5988 / RFC 8288 `Link` header, resolved against `requestUrl`,
 * or undefined when there is none. Example:
 * `<https://api.integrator.io/v1/connectors/c1/licenses?skip=100&limit=100>; rel="next"`.
 */
export function nextLink(header: string | null | undefined, requestUrl: string): string | undefined {
  if (!header) return undefined;
  // Link values are `<uri>; param=value; ...` separated by commas; a URI may itself contain commas,
  // so match `<...>` blocks rather than splitting on ",".
  const pattern = /<([^>]*)>((?:\s*;\s*[^;,"=\s]+\s*(?:=\s*(?:"[^"]*"|[^;,\s]*))?)*)/g;
  for (const match of header.matchAll(pattern)) {
    const target = match[1] ?? "";
    const params = match[2] ?? "";
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (rels.includes("next")) return new URL(target, requestUrl).toString();
  }
  return undefined;
}
