import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { HttpError } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { RouteInput, RouteOutput } from "#lib/http/types.ts";
import { matchesIfNoneMatch } from "#lib/marketplace/http-cache.ts";

/**
 * The API reference page (`GET /docs`): the files `npm run build:docs` writes from docs-ui/ — a
 * small Preact renderer that reads `/openapi.json` — served by the openapi function. They are read
 * from disk on the first request for them (DOCS_ASSETS_DIR: `dist/docs` locally, bundled beside
 * the function in AWS), never imported into the function's bundle.
 */
const FILES = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
} as const;
export type DocsFile = keyof typeof FILES;

export interface DocsAsset {
  body: string;
  contentType: string;
  etag: string;
}

/** The page and its assets from `dir`; undefined when they were not built. */
export async function loadDocsAssets(dir: string): Promise<Map<DocsFile, DocsAsset> | undefined> {
  try {
    const entries = await Promise.all(
      (Object.keys(FILES) as DocsFile[]).map(async (name): Promise<[DocsFile, DocsAsset]> => {
        const body = await readFile(join(dir, name), "utf8");
        const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
        return [name, { body, contentType: FILES[name], etag }];
      }),
    );
    return new Map(entries);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * The page's Content-Security-Policy: its script, its style sheet and the document from this
 * origin only — no inline code, no eval, no font or script from a CDN, no form, never framed.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers on everything the page serves: revalidated (an ETag), never sniffed, never framed. */
export const DOCS_HEADERS = {
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** `GET /docs`, `/docs/app.js`, `/docs/app.css` (503 `docs_not_built` when the files are missing). */
export function docsRoutes(
  assets: () => Promise<Map<DocsFile, DocsAsset> | undefined>,
): Record<string, RouteHandler> {
  const serve = async (name: DocsFile, { headers }: RouteInput): Promise<RouteOutput> => {
    const asset = (await assets())?.get(name);
    if (!asset) {
      throw new HttpError(
        503,
        "docs_not_built",
        "The API reference page is not built here: run npm run build:docs (GET /openapi.json serves the document).",
      );
    }
    const cache = { ...DOCS_HEADERS, etag: asset.etag };
    if (matchesIfNoneMatch(headers["if-none-match"], asset.etag)) return { status: 304, headers: cache };
    const policy: Record<string, string> =
      name === "index.html" ? { "content-security-policy": DOCS_CSP } : {};
    return { body: asset.body, contentType: asset.contentType, headers: { ...cache, ...policy } };
  };
  return {
    "GET /docs": (input: RouteInput) => serve("index.html", input),
    "GET /docs/app.js": (input: RouteInput) => serve("app.js", input),
    "GET /docs/app.css": (input: RouteInput) => serve("app.css", input),
  };
}
