/**
 * Builds the operator console (console/) into `dist/console/`: app.js (one ESM bundle, Preact
 * included, minified), app.css (page-base/base.css bundled in) and index.html. The API serves
 * them under /console.
 *
 *   npx tsx scripts/build-console.ts [outDir]
 */
import { buildStaticPage, runBuildScript, type StaticPageBuild } from "./build-static-page.ts";

export type ConsoleBuild = StaticPageBuild;

/** Builds the console into `outDir` (relative to the repository root unless absolute). */
export function buildConsole(outDir = "dist/console"): Promise<ConsoleBuild> {
  return buildStaticPage("console", outDir);
}

await runBuildScript(import.meta.url, "console", buildConsole);
