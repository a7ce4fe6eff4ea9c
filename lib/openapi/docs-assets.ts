import type { RouteHandler } from "#lib/http/http-function.ts";
import { loadPageAssets, type PageAsset, type PageFile, pageFileServer } from "#lib/http/static-page.ts";
import type { RouteInput } from "#lib/http/types.ts";

/**
 * The API reference page (`GET /docs`): the files `npm run build:docs` writes from docs-ui/ — a
 * small Preact renderer that reads `/openapi.json` — served by the openapi function. They are read
 * from disk on the first request for them (DOCS_ASSETS_DIR: `dist/docs` locally, bundled beside
 * the function in AWS), never imported into the function's bundle.
 */
export type DocsFile = PageFile;
export type DocsAsset = PageAsset;

/** The page and its assets from `dir`; undefined when they were not built. */
export const loadDocsAssets = loadPageAssets;

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

/** `GET /docs`, `/docs/app.js`, `/docs/app.css` (503 `docs_not_built` when the files are missing). */
export function docsRoutes(
  assets: () => Promise<Map<DocsFile, DocsAsset> | undefined>,
): Record<string, RouteHandler> {
  const serve = pageFileServer({
    assets,
    csp: DOCS_CSP,
    notBuilt: {
      code: "docs_not_built",
      message:
        "The API reference page is not built here: run npm run build:docs (GET /openapi.json serves the document).",
    },
  });
  return {
    "GET /docs": ({ headers }: RouteInput) => serve("index.html", headers),
    "GET /docs/app.js": ({ headers }: RouteInput) => serve("app.js", headers),
    "GET /docs/app.css": ({ headers }: RouteInput) => serve("app.css", headers),
  };
}
