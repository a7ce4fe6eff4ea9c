import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { BundlingOptions } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogLevel, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { ESM_REQUIRE_BANNER } from "./esm-banner.ts";

export { ESM_REQUIRE_BANNER };

/**
 * How every function is bundled, in one place: the NodejsFunction options below and the plain
 * esbuild options the cold-start benchmark (bench/coldstart.ts) rebuilds with to read a metafile.
 */

/**
 * Nothing is external: each bundle carries the `@aws-sdk/*` clients its function uses, tree-shaken
 * and minified, in the version package.json pins (not whatever SDK the Lambda runtime ships).
 * Measured by `npm run bench -- coldstart` (docs/architecture.md §8) on a 2-CPU machine: with
 * `@aws-sdk/*` external (loaded from node_modules, as from the runtime) our functions' module init
 * was 153–183 ms against 110–128 ms for the naive all-bundled build of the same entry — Node
 * resolves, reads and compiles hundreds of separate SDK files. Bundled (tree-shaken ESM, minified,
 * split, no `--enable-source-maps`), a cold request (init + first invocation) takes 0.68–0.75 × the
 * naive build's for the HTTP functions and the listings sync (init 0.45–0.67 ×); the worker and
 * reconcile, whose first invocation is mostly their own work, 0.84 and 0.90 ×.
 */
export const EXTERNAL_MODULES: string[] = [];

/** Where the catalog lands inside each function's bundle, and the `CATALOG_PATH` the function reads. */
export const BUNDLED_CATALOG_FILE = "catalog.json";
export const LAMBDA_TASK_ROOT = "/var/task";

const shared = {
  minify: true,
  target: "node22",
  // `module` first: ESM builds tree-shake, CommonJS builds do not.
  mainFields: ["module", "main"],
  banner: ESM_REQUIRE_BANNER,
} as const;

/** Where the console's page and assets land inside the console function's bundle (CONSOLE_ASSETS_DIR). */
export const BUNDLED_CONSOLE_DIR = "console";

/**
 * The console build (scripts/build-console.ts) into a bundle's output directory, run from the
 * project root with the project's own tsx.
 */
function consoleBuild(projectRoot: string, outputDir: string): string {
  return `cd "${projectRoot}" && "${process.execPath}" --import tsx scripts/build-console.ts "${outputDir}/${BUNDLED_CONSOLE_DIR}"`;
}

/** Where the API reference page lands inside the openapi function's bundle (DOCS_ASSETS_DIR). */
export const BUNDLED_DOCS_DIR = "docs";

/** The reference page's build (scripts/build-docs-ui.ts) into a bundle's output directory, like the console's. */
function docsBuild(projectRoot: string, outputDir: string): string {
  return `cd "${projectRoot}" && "${process.execPath}" --import tsx scripts/build-docs-ui.ts "${outputDir}/${BUNDLED_DOCS_DIR}"`;
}

/**
 * NodejsFunction bundling: local esbuild (no Docker), ESM, minified, split (`splitBuild`), source
 * maps without sources (shipped for offline mapping, not enabled at run time).
 * `withConsole` / `withDocs`: the project root whose console / API reference page is built into the bundle.
 */
export function lambdaBundling(
  catalogFile: string,
  withConsole?: { projectRoot: string },
  withDocs?: { projectRoot: string },
  splitEntry?: string,
): BundlingOptions {
  return {
    ...shared,
    mainFields: [...shared.mainFields],
    format: OutputFormat.ESM,
    sourceMap: true,
    // The map only has to turn stack traces into file:line; the sources themselves stay out of the asset.
    sourcesContent: false,
    externalModules: EXTERNAL_MODULES,
    forceDockerBundling: false,
    // Sizes are the benchmark's business; synth and tests stay quiet unless esbuild warns.
    logLevel: LogLevel.WARNING,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir, outputDir) => [
        ...(splitEntry ? [splitBuild(splitEntry, outputDir)] : []),
        `cp "${catalogFile}" "${outputDir}/${BUNDLED_CATALOG_FILE}"`,
        ...(withConsole ? [consoleBuild(withConsole.projectRoot, outputDir)] : []),
        ...(withDocs ? [docsBuild(withDocs.projectRoot, outputDir)] : []),
      ],
    },
  };
}

/**
 * The same build again with code splitting, over NodejsFunction's single file (its `--outfile`
 * cannot take `--splitting`): `index.mjs` keeps what a cold request runs, and each module reached
 * only through `import()` — a rare path, or an SDK client a function may not need — lands in
 * `chunks/`, read and parsed only when first used. Measured (npm run bench -- coldstart): the
 * fallback's CPU time to its first answer went from 178 to 133 ms against the naive bundle's 185,
 * the admin API's from 341 to 317 ms against 407–414.
 */
function splitBuild(entry: string, outputDir: string): string {
  const esbuild = join(
    dirname(createRequire(import.meta.url).resolve("esbuild/package.json")),
    "bin",
    "esbuild",
  );
  return [
    `"${esbuild}" "${entry}"`,
    "--bundle --splitting --format=esm --platform=node",
    `--target=${shared.target} --main-fields=${shared.mainFields.join(",")}`,
    "--minify --sourcemap --sources-content=false --log-level=warning",
    `--outdir="${outputDir}" --entry-names=index "--chunk-names=chunks/[name]-[hash]" --out-extension:.js=.mjs`,
    `"--banner:js=${shared.banner}"`,
  ].join(" ");
}

/** The same build as plain esbuild options (for the benchmark's metafile). */
export const esbuildEquivalent: {
  bundle: true;
  platform: "node";
  format: "esm";
  minify: boolean;
  target: string;
  mainFields: string[];
  banner: { js: string };
  external: string[];
} = {
  bundle: true,
  platform: "node",
  format: "esm",
  minify: shared.minify,
  target: shared.target,
  mainFields: [...shared.mainFields],
  banner: { js: shared.banner },
  external: EXTERNAL_MODULES,
};

/** The construct id of a function-table entry (`provision-worker` → `ProvisionWorkerFunction`). */
export function functionConstructId(name: string): string {
  return `${pascal(name)}Function`;
}

export function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => (part[0]?.toUpperCase() ?? "") + part.slice(1))
    .join("");
}
