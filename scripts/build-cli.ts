/**
 * Builds the operations CLI (lib/cli) into one file, `dist/integrator-licensing.mjs`, that runs
 * with plain Node 20+ from anywhere: zod and the CLI's few library modules bundled, Node's built-ins
 * left to Node, the package's version baked in. `npm run build:cli` and `npm ci` (the `prepare`
 * script) write it; `bin` points at it.
 *
 *   npx tsx scripts/build-cli.ts [outFile]
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Packages of the functions' side: the CLI talks to the API over HTTP and must never carry them. */
const SERVER_PACKAGES = ["@aws-sdk/", "@smithy/", "@aws-lambda-powertools/", "@middy/"];

export interface CliBuild {
  outFile: string;
  bytes: number;
  /** The bundle's inputs: the CLI's modules and what they import (node_modules paths included). */
  inputs: string[];
  ms: number;
}

/** Builds the CLI into `outFile` (relative to the repository root unless absolute). */
export async function buildCli(outFile = "dist/integrator-licensing.mjs"): Promise<CliBuild> {
  const started = performance.now();
  const out = isAbsolute(outFile) ? outFile : resolve(root, outFile);
  const { version } = JSON.parse(await readFile(resolve(root, "package.json"), "utf8")) as {
    version: string;
  };
  const result = await build({
    absWorkingDir: root,
    entryPoints: [resolve(root, "lib/cli/bin.ts")],
    outfile: out,
    write: false,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    banner: { js: "#!/usr/bin/env node" },
    define: { INTEGRATOR_LICENSING_VERSION: JSON.stringify(version) },
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  const inputs = Object.keys(result.metafile.inputs);
  const server = inputs.filter((input) =>
    SERVER_PACKAGES.some((name) => input.includes(`node_modules/${name}`)),
  );
  if (server.length > 0) {
    throw new Error(`the CLI bundle would carry server code: ${server.slice(0, 5).join(", ")}`);
  }
  const [file] = result.outputFiles;
  if (!file) throw new Error("esbuild wrote nothing");
  // Written aside and renamed over: a CLI running from the old file (another test run) never reads half a file.
  await mkdir(dirname(out), { recursive: true });
  const temporary = `${out}.${process.pid}.tmp`;
  await writeFile(temporary, file.contents);
  await chmod(temporary, 0o755);
  await rename(temporary, out);
  return {
    outFile: out,
    bytes: file.contents.byteLength,
    inputs,
    ms: Math.round(performance.now() - started),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildCli(process.argv[2]);
  console.log(
    `CLI built into ${relative(process.cwd(), built.outFile)}: ${(built.bytes / 1024).toFixed(1)} kB, ${built.inputs.length} modules (${built.ms} ms)`,
  );
}
