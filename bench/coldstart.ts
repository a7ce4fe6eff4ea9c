/**
 * `npm run bench -- coldstart [--no-synth] [--runs N] [--only a,b]`  (docs/architecture.md §8)
 *
 * For every function of lib/functions.ts: the bundle `cdk synth` built (from cdk.out), its
 * module init time in a fresh Node process (`import()` of the bundle, with the NODE_OPTIONS the
 * stack sets; `@aws-sdk/*` is external, so it loads from node_modules as it would from the
 * Lambda runtime) and the RSS after init — side by side with a naive bundle of the same entry
 * built in this run (esbuild, minified, every dependency bundled, no externals). Medians of N
 * interleaved runs (default 9), with the fastest run and the load average beside them: this machine
 * is shared, and other processes only ever add to a wall-clock time. Also reports what dominates each bundle (esbuild metafile of the
 * same build). Writes bench/results/coldstart.json.
 *
 * Targets: bundle ≤ 800 KB and ≤ 0.6 × naive, init ≤ 200 ms, RSS after init ≤ 128 MB.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build, type Metafile } from "esbuild";
import { ESM_REQUIRE_BANNER, esbuildEquivalent, functionConstructId } from "../cdk/bundling.ts";
import { functionTable } from "../lib/functions.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cdkOut = join(root, "cdk.out");

export const TARGETS = { bundleBytes: 800 * 1024, naiveRatio: 0.6, initMs: 200, rssMb: 128 } as const;

export interface FunctionResult {
  bundleBytes: number;
  initMs: number;
  /** The fastest run: the least disturbed by other processes. */
  initMsMin: number;
  /** Of the init time: importing the bundle's external `@aws-sdk/*` modules alone (median). */
  sdkInitMs: number;
  rssMb: number;
  naiveBundleBytes: number;
  naiveInitMs: number;
}

interface Measurement {
  initMs: number;
  rssMb: number;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "no-synth": { type: "boolean", default: false },
      runs: { type: "string", default: "9" },
      only: { type: "string" },
    },
  });
  const runs = Math.max(1, Number(values.runs));
  const only = values.only?.split(",").filter(Boolean);
  const names = Object.keys(functionTable).filter((name) => !only || only.includes(name));

  if (!values["no-synth"]) synth();
  const deployed = deployedFunctions();
  const work = join(tmpdir(), `coldstart-${process.pid}`);

  const prepared = [];
  for (const name of names) {
    const definition = functionTable[name as keyof typeof functionTable];
    const found = deployed.get(functionConstructId(name));
    if (!found)
      throw new Error(
        `${name}: no function ${functionConstructId(name)} in cdk.out (synth first, or drop --no-synth)`,
      );
    const entry = join(root, definition.entry);
    const naive = join(work, name, "index.mjs");
    // The naive build: esbuild's defaults for Node plus what ESM output needs to run at all.
    await build({
      entryPoints: [entry],
      outfile: naive,
      bundle: true,
      minify: true,
      platform: "node",
      format: "esm",
      target: "node22",
      banner: { js: ESM_REQUIRE_BANNER },
      logLevel: "error",
    });
    const composition = await dominantInputs(entry);
    const sdk = runtimeImports(found.bundle);
    prepared.push({ name, bundle: found.bundle, nodeOptions: found.nodeOptions, naive, composition, sdk });
  }

  const loadBefore = loadavg()[0] ?? 0;
  type Samples = { ours: Measurement[]; naive: Measurement[]; sdk: Measurement[] };
  const samples = new Map<string, Samples>();
  for (let run = 0; run < runs; run++) {
    for (const fn of prepared) {
      const entry = samples.get(fn.name) ?? { ours: [], naive: [], sdk: [] };
      // Interleaved, so a noisy moment on this shared machine hits all three alike.
      entry.ours.push(measureInit([pathToFileURL(fn.bundle).href], dirname(fn.bundle), fn.nodeOptions));
      entry.naive.push(measureInit([pathToFileURL(fn.naive).href], dirname(fn.naive), fn.nodeOptions));
      entry.sdk.push(measureInit(fn.sdk, dirname(fn.bundle), fn.nodeOptions, false));
      samples.set(fn.name, entry);
    }
  }

  const functions: Record<string, FunctionResult> = {};
  const composition: Record<string, { package: string; bytes: number }[]> = {};
  const rows = [];
  let allMet = true;
  for (const fn of prepared) {
    const s = samples.get(fn.name) as Samples;
    const result: FunctionResult = {
      bundleBytes: statSync(fn.bundle).size,
      initMs: round(median(s.ours.map((m) => m.initMs)), 1),
      initMsMin: round(Math.min(...s.ours.map((m) => m.initMs)), 1),
      sdkInitMs: round(median(s.sdk.map((m) => m.initMs)), 1),
      rssMb: round(median(s.ours.map((m) => m.rssMb)), 1),
      naiveBundleBytes: statSync(fn.naive).size,
      naiveInitMs: round(median(s.naive.map((m) => m.initMs)), 1),
    };
    functions[fn.name] = result;
    composition[fn.name] = fn.composition;
    const misses = missedTargets(result);
    if (misses.length > 0) allMet = false;
    rows.push({
      function: fn.name,
      "bundle KB": (result.bundleBytes / 1024).toFixed(0),
      "naive KB": (result.naiveBundleBytes / 1024).toFixed(0),
      "× naive": (result.bundleBytes / result.naiveBundleBytes).toFixed(2),
      "init ms": result.initMs.toFixed(0),
      "(fastest)": result.initMsMin.toFixed(0),
      "of which SDK": result.sdkInitMs.toFixed(0),
      "naive init ms": result.naiveInitMs.toFixed(0),
      "RSS MB": result.rssMb.toFixed(0),
      targets: misses.length === 0 ? "met" : `MISSED: ${misses.join(", ")}`,
      "largest inputs (KB)": fn.composition
        .slice(0, 3)
        .map((c) => `${c.package} ${(c.bytes / 1024).toFixed(0)}`)
        .join(", "),
    });
  }

  const path = join(root, "bench", "results", "coldstart.json");
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    `${JSON.stringify({ functions, targets: TARGETS, runs, node: process.version, loadAverage: { before: round(loadBefore, 2), after: round(loadavg()[0] ?? 0, 2), cpus: cpus().length }, composition }, null, 2)}\n`,
  );
  printTable(rows);
  console.log(
    `\n${runs} runs per function (medians; fastest in brackets), Node ${process.version}, load average ${loadBefore.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)} on ${cpus().length} CPUs; wrote ${path}`,
  );
  console.log(allMet ? "Every function meets every target." : "Some targets were missed (see the table).");
  if (!allMet) process.exitCode = 1;
}

/** Which targets a result misses (empty = all met). */
export function missedTargets(result: FunctionResult): string[] {
  const misses: string[] = [];
  if (result.bundleBytes > TARGETS.bundleBytes) misses.push("bundle > 800 KB");
  if (result.bundleBytes > TARGETS.naiveRatio * result.naiveBundleBytes) misses.push("bundle > 0.6 × naive");
  if (result.initMs > TARGETS.initMs) misses.push("init > 200 ms");
  if (result.rssMb > TARGETS.rssMb) misses.push("RSS > 128 MB");
  return misses;
}

/** `cdk synth` exactly as `npm run synth` runs it (offline, cdk-nag included). */
function synth(): void {
  console.log("cdk synth …");
  const result = spawnSync("npx", ["cdk", "synth", "--no-notices", "--quiet"], {
    cwd: root,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: "true" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (result.status !== 0) throw new Error(`cdk synth failed (exit ${result.status})`);
}

/** Construct id → the bundle and NODE_OPTIONS of each Lambda function in the synthesized stack. */
function deployedFunctions(): Map<string, { bundle: string; nodeOptions: string }> {
  const manifest = JSON.parse(readFileSync(join(cdkOut, "manifest.json"), "utf8")) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const found = new Map<string, { bundle: string; nodeOptions: string }>();
  for (const artifact of Object.values(manifest.artifacts)) {
    if (artifact.type !== "aws:cloudformation:stack" || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(readFileSync(join(cdkOut, artifact.properties.templateFile), "utf8")) as {
      Resources: Record<
        string,
        { Type: string; Metadata?: Record<string, string>; Properties?: Record<string, unknown> }
      >;
    };
    for (const resource of Object.values(template.Resources)) {
      const path = resource.Metadata?.["aws:cdk:path"];
      const asset = resource.Metadata?.["aws:asset:path"];
      if (resource.Type !== "AWS::Lambda::Function" || !path || !asset) continue;
      const constructId = path.split("/").at(-3);
      const bundle = join(cdkOut, asset, "index.mjs");
      if (!constructId || !existsSync(bundle)) continue;
      const variables = (
        resource.Properties?.Environment as { Variables?: Record<string, string> } | undefined
      )?.Variables;
      found.set(constructId, { bundle, nodeOptions: variables?.NODE_OPTIONS ?? "" });
    }
  }
  return found;
}

/** Init time and RSS of importing `specifiers` one after another in a fresh Node process. */
function measureInit(specifiers: string[], cwd: string, nodeOptions: string, isHandler = true): Measurement {
  const script = [
    "const start = performance.now();",
    "let module;",
    `for (const specifier of ${JSON.stringify(specifiers)}) module = await import(specifier);`,
    "const initMs = performance.now() - start;",
    `if (${isHandler} && typeof module?.handler !== "function") throw new Error("no handler export");`,
    "console.log(JSON.stringify({ initMs, rssMb: process.memoryUsage().rss / 1048576 }));",
  ].join("\n");
  const result = spawnSync(
    process.execPath,
    [...nodeOptions.split(" ").filter(Boolean), "--input-type=module", "-e", script],
    {
      // Bare specifiers resolve from here: cdk.out sits in the repository, so node_modules is found.
      cwd,
      // A Lambda-like environment: no tsx loader, no local settings leaking in.
      env: {
        PATH: process.env.PATH,
        AWS_REGION: "us-east-1",
        AWS_LAMBDA_FUNCTION_NAME: "coldstart-bench",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
      encoding: "utf8",
    },
  );
  if (result.status !== 0) throw new Error(`importing ${specifiers.join(", ")} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as Measurement;
}

/** The `@aws-sdk/*` modules a bundle imports statically (loaded at init from the runtime's node_modules). */
function runtimeImports(bundle: string): string[] {
  const text = readFileSync(bundle, "utf8");
  const found = new Set<string>();
  for (const match of text.matchAll(/(?:from|import)\s*"(@aws-sdk\/[a-z0-9-]+)"/g))
    if (match[1]) found.add(match[1]);
  return [...found];
}

/** The packages (or lib/ folders) contributing most bytes to the deployed build of `entry`. */
async function dominantInputs(entry: string): Promise<{ package: string; bytes: number }[]> {
  const result = await build({
    ...esbuildEquivalent,
    entryPoints: [entry],
    write: false,
    metafile: true,
    outdir: "out",
    logLevel: "error",
  });
  const output = Object.values((result.metafile as Metafile).outputs)[0];
  const bytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split("/").slice(0, 2).join("/");
    bytes.set(pkg, (bytes.get(pkg) ?? 0) + bytesInOutput);
  }
  return [...bytes]
    .map(([pkg, n]) => ({ package: pkg, bytes: n }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 6);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function printTable(rows: Record<string, string>[]): void {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
  console.log(line(columns));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => row[c] ?? "")));
}
