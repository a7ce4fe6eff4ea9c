/**
 * Builds the API reference page (docs-ui/) into `dist/docs/`: app.js (one ESM bundle, Preact
 * included, minified), app.css (page-base/base.css bundled in) and index.html. The openapi
 * function serves them under /docs; the page reads /openapi.json.
 *
 *   npx tsx scripts/build-docs-ui.ts [outDir]
 */
import { buildStaticPage, runBuildScript, type StaticPageBuild } from "./build-static-page.ts";

export type DocsUiBuild = StaticPageBuild;

/** Builds the page into `outDir` (relative to the repository root unless absolute). */
export function buildDocsUi(outDir = "dist/docs"): Promise<DocsUiBuild> {
  return buildStaticPage("docs-ui", outDir);
}

await runBuildScript(import.meta.url, "API reference page", buildDocsUi);
