import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** The files `npm run build:console` writes, by the name the console's routes serve them under. */
const FILES = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
} as const;
export type ConsoleFile = keyof typeof FILES;

export interface ConsoleAsset {
  body: string;
  contentType: string;
  etag: string;
}

/**
 * The console's page and assets, read once from `dir` (CONSOLE_ASSETS_DIR): `dist/console` locally,
 * bundled beside the admin function in AWS. Undefined when the console was not built.
 */
export async function loadConsoleAssets(dir: string): Promise<Map<ConsoleFile, ConsoleAsset> | undefined> {
  try {
    const entries = await Promise.all(
      (Object.keys(FILES) as ConsoleFile[]).map(async (name): Promise<[ConsoleFile, ConsoleAsset]> => {
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
 * The page's Content-Security-Policy: scripts and styles only from this origin (no inline code,
 * no eval), requests only to this origin, never framed.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers on everything the console serves. */
export const CONSOLE_HEADERS = {
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};
