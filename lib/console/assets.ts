import type { PageAsset, PageFile } from "#lib/http/static-page.ts";

/** The files `npm run build:console` writes, by the name the console's routes serve them under. */
export type ConsoleFile = PageFile;
export type ConsoleAsset = PageAsset;

/*
 * The console's page and assets are read once (lib/http/static-page.ts) from CONSOLE_ASSETS_DIR:
 * `dist/console` locally, bundled beside the console function in AWS.
 */

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
