/**
 * Builds one static page (the operator console, the API reference page) from its source folder:
 * `<srcDir>/src/main.tsx` into app.js (one ESM bundle, Preact included, minified),
 * `<srcDir>/app.css` into app.css (with the page-base/base.css it imports), `<srcDir>/index.html`
 * as it is. scripts/build-console.ts and
 * scripts/build-docs-ui.ts name the folders.
 */
import { copyFile, mkdir, stat } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface StaticPageBuild {
  outDir: string;
  /** Bytes of each file written, by name. */
  sizes: Record<"app.js" | "app.css" | "index.html", number>;
  ms: number;
}

/**
 * Builds the page whose sources are in `srcDir` (relative to the repository root) into `outDir`
 * (relative to the repository root unless absolute).
 */
export async function buildStaticPage(srcDir: string, outDir: string): Promise<StaticPageBuild> {
  const started = performance.now();
  const out = isAbsolute(outDir) ? outDir : resolve(root, outDir);
  await mkdir(out, { recursive: true });
  await Promise.all([
    build({
      absWorkingDir: root,
      entryPoints: [resolve(root, srcDir, "src/main.tsx")],
      outfile: resolve(out, "app.js"),
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: true,
      sourcemap: false,
      legalComments: "none",
      jsx: "automatic",
      jsxImportSource: "preact",
      tsconfig: resolve(root, srcDir, "tsconfig.json"),
      logLevel: "warning",
    }),
    // One style sheet: the page's app.css with what it imports (page-base/base.css) bundled in.
    build({
      absWorkingDir: root,
      entryPoints: [resolve(root, srcDir, "app.css")],
      outfile: resolve(out, "app.css"),
      bundle: true,
      logLevel: "warning",
    }),
    copyFile(resolve(root, srcDir, "index.html"), resolve(out, "index.html")),
  ]);
  const size = async (name: string) => (await stat(resolve(out, name))).size;
  return {
    outDir: out,
    sizes: {
      "app.js": await size("app.js"),
      "app.css": await size("app.css"),
      "index.html": await size("index.html"),
    },
    ms: Math.round(performance.now() - started),
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

/**
 * When `moduleUrl` (the calling script's import.meta.url) is the script node was started with,
 * builds into argv[2] (or the default) and prints one line: `<label> built into <dir>: <sizes>`.
 */
export async function runBuildScript(
  moduleUrl: string,
  label: string,
  buildPage: (outDir?: string) => Promise<StaticPageBuild>,
): Promise<void> {
  if (!process.argv[1] || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  const built = await buildPage(process.argv[2]);
  const files = Object.entries(built.sizes)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(", ");
  console.log(
    `${label} built into ${relative(process.cwd(), built.outDir) || "."}: ${files} (${built.ms} ms)`,
  );
}
