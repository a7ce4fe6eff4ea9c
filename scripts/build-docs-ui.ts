/**
 * Builds the API reference page (docs-ui/) into `dist/docs/`: app.js (one ESM bundle, Preact
 * included, minified), app.css and index.html as they are. The openapi function serves them under
 * /docs; the page reads /openapi.json.
 *
 *   npx tsx scripts/build-docs-ui.ts [outDir]
 */
import { copyFile, mkdir, stat } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface DocsUiBuild {
  outDir: string;
  /** Bytes of each file written, by name. */
  sizes: Record<"app.js" | "app.css" | "index.html", number>;
  ms: number;
}

/** Builds the page into `outDir` (relative to the repository root unless absolute). */
export async function buildDocsUi(outDir = "dist/docs"): Promise<DocsUiBuild> {
  const started = performance.now();
  const out = isAbsolute(outDir) ? outDir : resolve(root, outDir);
  await mkdir(out, { recursive: true });
  await Promise.all([
    build({
      absWorkingDir: root,
      entryPoints: [resolve(root, "docs-ui/src/main.tsx")],
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
      tsconfig: resolve(root, "docs-ui/tsconfig.json"),
      logLevel: "warning",
    }),
    copyFile(resolve(root, "docs-ui/app.css"), resolve(out, "app.css")),
    copyFile(resolve(root, "docs-ui/index.html"), resolve(out, "index.html")),
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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildDocsUi(process.argv[2]);
  const files = Object.entries(built.sizes)
    .map(([name, bytes]) => `${name} ${kb(bytes)}`)
    .join(", ");
  console.log(
    `API reference page built into ${relative(process.cwd(), built.outDir) || "."}: ${files} (${built.ms} ms)`,
  );
}
