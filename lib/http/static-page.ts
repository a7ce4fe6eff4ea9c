import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { HttpError } from "#lib/http/errors.ts";
import type { RouteOutput } from "#lib/http/types.ts";
import { matchesIfNoneMatch } from "#lib/marketplace/http-cache.ts";

/**
 * A small built page (scripts/build-static-page.ts: the operator console, the API reference page):
 * its files by the name its routes serve them under, each read from disk once with an ETag.
 */
const FILES = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
} as const;
export type PageFile = keyof typeof FILES;

export interface PageAsset {
  body: string;
  contentType: string;
  etag: string;
}

export type PageAssets = Map<PageFile, PageAsset>;

/** The page and its assets from `dir`; undefined when they were not built. */
export async function loadPageAssets(dir: string): Promise<PageAssets | undefined> {
  try {
    const entries = await Promise.all(
      (Object.keys(FILES) as PageFile[]).map(async (name): Promise<[PageFile, PageAsset]> => {
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

/** Headers on everything a page serves: revalidated (an ETag), never sniffed, never framed. */
export const PAGE_HEADERS = {
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

export interface PageServer {
  assets: () => Promise<PageAssets | undefined>;
  /** The page's Content-Security-Policy, on index.html. */
  csp: string;
  /** The 503 answered when the files are missing. */
  notBuilt: { code: string; message: string };
}

/**
 * Serves one of the page's files: 304 when If-None-Match matches its ETag, the CSP on the page
 * itself, 503 (`notBuilt`) when the page was not built.
 */
export function pageFileServer(page: PageServer) {
  return async (name: PageFile, headers: Record<string, string>): Promise<RouteOutput> => {
    const asset = (await page.assets())?.get(name);
    if (!asset) throw new HttpError(503, page.notBuilt.code, page.notBuilt.message);
    const cache = { ...PAGE_HEADERS, etag: asset.etag };
    if (matchesIfNoneMatch(headers["if-none-match"], asset.etag)) return { status: 304, headers: cache };
    const policy: Record<string, string> =
      name === "index.html" ? { "content-security-policy": page.csp } : {};
    return { body: asset.body, contentType: asset.contentType, headers: { ...cache, ...policy } };
  };
}

/** `loadPageAssets(dir)` on the first call, then the same answer: the files change only with a deploy. */
export function pageAssetsOnce(dir: string): () => Promise<PageAssets | undefined> {
  let loaded: Promise<PageAssets | undefined> | undefined;
  return () => {
    loaded ??= loadPageAssets(dir);
    return loaded;
  };
}
