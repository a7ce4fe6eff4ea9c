/**
 * `npm run bench -- coldstart [--no-synth] [--runs N] [--only a,b]`  (docs/architecture.md §8)
 *
 * What a cold request costs, per function of lib/functions.ts. In a fresh Node process with a
 * Lambda-like environment (the function's variables from the synthesized template, its secrets
 * behind a Secrets Manager endpoint, the NODE_OPTIONS the stack sets): `initMs` = `import()` of the
 * bundle, `coldMs` = init plus the first invocation of `handler` with a representative event of the
 * function's trigger (an API Gateway HTTP API v2 request on a real route, a signed Stripe delivery,
 * an SQS record of a recorded event, an EventBridge scheduled event) against local services this
 * benchmark starts on free ports: DynamoDB Local, the SQS emulator, the integrator.io and Stripe
 * simulators, the fake Secrets Manager. Every answer is checked (status, no failed record): a
 * failing invocation fails the benchmark instead of timing an error path. Then the RSS.
 *
 * Our bundle is the one `cdk synth` built (cdk.out: `index.mjs` and its split chunks, whose bytes
 * count as the bundle's); beside it, the naive bundle of the same entry
 * built in this run (esbuild, minified, ESM, every dependency bundled, nothing external, no
 * source map). Medians of N interleaved runs (default 9; which goes first alternates), the fastest
 * run beside them, and the load average: the machine is shared, other processes only ever add to
 * a wall-clock time. One untimed warm-up round first (DynamoDB Local's JVM, the listings cache).
 * Also reports what dominates each bundle (esbuild metafile of the same build).
 * Writes bench/results/coldstart.json.
 *
 * Targets (issue #22), per function, in one run: coldMs ≤ 0.8 × the naive bundle's coldMs,
 * bundle ≤ 1 MB, RSS after the first invocation ≤ 100 MB.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build, type Metafile } from "esbuild";
import { ESM_REQUIRE_BANNER, esbuildEquivalent, functionConstructId } from "../cdk/bundling.ts";
import { type FunctionName, functionTable } from "../lib/functions.ts";

import { type Invocation, startServices } from "./lib/coldstart-services.ts";
import { median, printTable, round } from "./lib/stats.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cdkOut = join(root, "cdk.out");

export const TARGETS = { coldNaiveRatio: 0.8, bundleBytes: 1024 * 1024, rssMb: 100 } as const;

export interface FunctionResult {
  /** Module init (import of the bundle), median. */
  initMs: number;
  /** Init plus the first invocation, median. */
  coldMs: number;
  /** The fastest run's coldMs: the least disturbed by other processes. */
  coldMsMin: number;
  naiveInitMs: number;
  naiveColdMs: number;
  naiveColdMsMin: number;
  /** coldMs / naiveColdMs (of the medians: the target). */
  coldRatio: number;
  /** The median of each run's own ours/naive coldMs ratio (the two measured back to back). */
  pairedColdRatio: number;
  bundleBytes: number;
  naiveBundleBytes: number;
  /** CPU time of the process (start to first answer), median; the naive bundle's beside it. */
  cpuMs: number;
  naiveCpuMs: number;
  /** RSS after the first invocation, median. */
  rssMb: number;
  naiveRssMb: number;
  /** What the first invocation was. */
  event: string;
}

interface Measurement {
  initMs: number;
  coldMs: number;
  /** CPU time (user + system) of the process up to the end of the first invocation: less disturbed by other processes than wall time. */
  cpuMs: number;
  rssMb: number;
}

/** One invocation: its event, what its answer must be, and a check after it (e.g. in the store). */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "no-synth": { type: "boolean", default: false },
      runs: { type: "string", default: "9" },
      only: { type: "string" },
      // A V8 CPU profile of every measured process into this directory (node --cpu-prof).
      "cpu-prof": { type: "string" },
    },
  });
  const cpuProf = values["cpu-prof"] ? resolve(values["cpu-prof"]) : undefined;
  const runs = Math.max(1, Number(values.runs));
  const only = values.only?.split(",").filter(Boolean);
  const names = (Object.keys(functionTable) as FunctionName[]).filter((name) => !only || only.includes(name));
  if (names.length === 0) throw new Error(`--only ${values.only}: no such function`);

  if (!values["no-synth"]) synth();
  const deployed = deployedFunctions();
  const work = join(tmpdir(), `coldstart-${process.pid}`);

  const prepared = [];
  for (const name of names) {
    const definition = functionTable[name];
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
    prepared.push({ name, ...found, naive, composition });
  }

  const services = await startServices();
  try {
    const loadBefore = loadavg()[0] ?? 0;
    type Samples = { ours: Measurement[]; naive: Measurement[] };
    const samples = new Map<string, Samples>();
    // Round 0 is the untimed warm-up.
    for (let run = 0; run <= runs; run++) {
      for (const fn of prepared) {
        const entry = samples.get(fn.name) ?? { ours: [], naive: [] };
        const env = services.lambdaEnvironment(fn.name, fn.variables, dirname(fn.bundle));
        const measure = async (bundle: string) => {
          const invocation = await services.invocation(fn.name);
          return measureCold(
            bundle,
            env,
            fn.name,
            invocation,
            functionTable[fn.name].timeoutSeconds,
            work,
            cpuProf,
          );
        };
        // Interleaved, the order alternating, so a noisy moment on this shared machine hits both alike.
        const pair =
          run % 2 === 0
            ? { ours: await measure(fn.bundle), naive: await measure(fn.naive) }
            : { naive: await measure(fn.naive), ours: await measure(fn.bundle) };
        if (run > 0) {
          entry.ours.push(pair.ours);
          entry.naive.push(pair.naive);
        }
        samples.set(fn.name, entry);
      }
      if (run === 0) console.log("warm-up round done");
    }

    const functions: Record<string, FunctionResult> = {};
    const composition: Record<string, { package: string; bytes: number }[]> = {};
    const rows = [];
    let allMet = true;
    for (const fn of prepared) {
      const s = samples.get(fn.name) as Samples;
      const med = (list: Measurement[], key: keyof Measurement) => round(median(list.map((m) => m[key])), 1);
      const result: FunctionResult = {
        initMs: med(s.ours, "initMs"),
        coldMs: med(s.ours, "coldMs"),
        coldMsMin: round(Math.min(...s.ours.map((m) => m.coldMs)), 1),
        naiveInitMs: med(s.naive, "initMs"),
        naiveColdMs: med(s.naive, "coldMs"),
        naiveColdMsMin: round(Math.min(...s.naive.map((m) => m.coldMs)), 1),
        coldRatio: 0,
        pairedColdRatio: round(
          median(s.ours.map((m, i) => m.coldMs / (s.naive[i] as Measurement).coldMs)),
          2,
        ),
        bundleBytes: javascriptBytes(dirname(fn.bundle)),
        naiveBundleBytes: statSync(fn.naive).size,
        cpuMs: med(s.ours, "cpuMs"),
        naiveCpuMs: med(s.naive, "cpuMs"),
        rssMb: med(s.ours, "rssMb"),
        naiveRssMb: med(s.naive, "rssMb"),
        event: services.describe(fn.name),
      };
      result.coldRatio = round(result.coldMs / result.naiveColdMs, 2);
      functions[fn.name] = result;
      composition[fn.name] = fn.composition;
      const misses = missedTargets(result);
      if (misses.length > 0) allMet = false;
      rows.push({
        function: fn.name,
        "cold ms": `${result.coldMs.toFixed(0)} (${result.coldMsMin.toFixed(0)})`,
        "naive cold ms": `${result.naiveColdMs.toFixed(0)} (${result.naiveColdMsMin.toFixed(0)})`,
        "× naive": result.coldRatio.toFixed(2),
        "(paired)": result.pairedColdRatio.toFixed(2),
        "init ms": result.initMs.toFixed(0),
        "naive init": result.naiveInitMs.toFixed(0),
        "init × naive": (result.initMs / result.naiveInitMs).toFixed(2),
        "CPU ms": `${result.cpuMs.toFixed(0)} / ${result.naiveCpuMs.toFixed(0)}`,
        KB: (result.bundleBytes / 1024).toFixed(0),
        "naive KB": (result.naiveBundleBytes / 1024).toFixed(0),
        "RSS MB": result.rssMb.toFixed(0),
        "naive RSS": result.naiveRssMb.toFixed(0),
        targets: misses.length === 0 ? "met" : `MISSED: ${misses.join(", ")}`,
        event: result.event,
      });
    }

    const path = join(root, "bench", "results", "coldstart.json");
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      `${JSON.stringify(
        {
          functions,
          targets: TARGETS,
          runs,
          node: process.version,
          loadAverage: {
            before: round(loadBefore, 2),
            after: round(loadavg()[0] ?? 0, 2),
            cpus: cpus().length,
          },
          composition,
        },
        null,
        2,
      )}\n`,
    );
    printTable(rows);
    console.log(
      `\n${runs} interleaved runs per function (medians; fastest in brackets; cold = init + first invocation), Node ${process.version}, load average ${loadBefore.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)} on ${cpus().length} CPUs; wrote ${path}`,
    );
    console.log(
      allMet
        ? "Every function meets every target (cold ≤ 0.8 × naive, bundle ≤ 1 MB, RSS ≤ 100 MB)."
        : "Some targets were missed (see the table).",
    );
    if (!allMet) process.exitCode = 1;
  } finally {
    await services.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Which targets a result misses (empty = all met). */
export function missedTargets(result: FunctionResult): string[] {
  const misses: string[] = [];
  if (result.coldMs > TARGETS.coldNaiveRatio * result.naiveColdMs) misses.push("cold > 0.8 × naive");
  if (result.bundleBytes > TARGETS.bundleBytes) misses.push("bundle > 1 MB");
  if (result.rssMb > TARGETS.rssMb) misses.push("RSS > 100 MB");
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

/** Construct id → the bundle and environment variables of each Lambda function in the synthesized stack. */
function deployedFunctions(): Map<string, { bundle: string; variables: Record<string, unknown> }> {
  const manifest = JSON.parse(readFileSync(join(cdkOut, "manifest.json"), "utf8")) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const found = new Map<string, { bundle: string; variables: Record<string, unknown> }>();
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
      const variables =
        (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables ?? {};
      found.set(constructId, { bundle, variables });
    }
  }
  return found;
}

/**
 * A cold request in a fresh Node process: import the bundle (initMs), invoke its handler once
 * with the event (coldMs, from the start of the import), then the RSS. The answer is checked.
 */
async function measureCold(
  bundle: string,
  env: Record<string, string>,
  name: string,
  invocation: Invocation,
  timeoutSeconds: number,
  work: string,
  cpuProf?: string,
): Promise<Measurement> {
  mkdirSync(work, { recursive: true });
  const eventFile = join(work, `event-${name}.json`);
  writeFileSync(eventFile, JSON.stringify(invocation.event));
  const marker = "COLDSTART-RESULT ";
  const script = [
    'import { readFileSync } from "node:fs";',
    `const event = JSON.parse(readFileSync(${JSON.stringify(eventFile)}, "utf8"));`,
    `const deadline = Date.now() + ${timeoutSeconds * 1000};`,
    `const context = { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: "$LATEST", memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, awsRequestId: "coldstart-request", invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:coldstart", logGroupName: "/aws/lambda/coldstart", logStreamName: "coldstart", callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => deadline - Date.now() };`,
    "const start = performance.now();",
    `const module = await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
    "const initMs = performance.now() - start;",
    'if (typeof module.handler !== "function") throw new Error("no handler export");',
    "const result = await module.handler(event, context);",
    "const coldMs = performance.now() - start;",
    "const cpu = process.cpuUsage();",
    "const cpuMs = (cpu.user + cpu.system) / 1000;",
    "const rssMb = process.memoryUsage().rss / 1048576;",
    `process.stdout.write("\\n${marker}" + JSON.stringify({ initMs, coldMs, cpuMs, rssMb, result: result ?? null }) + "\\n", () => process.exit(0));`,
  ].join("\n");
  const nodeOptions = (env.NODE_OPTIONS ?? "").split(" ").filter(Boolean);
  if (cpuProf)
    nodeOptions.push(
      "--cpu-prof",
      `--cpu-prof-dir=${cpuProf}`,
      `--cpu-prof-name=${name}-${bundle.startsWith(cdkOut) ? "ours" : "naive"}-${Date.now()}.cpuprofile`,
    );
  const { NODE_OPTIONS: _, ...childEnv } = env;
  // Asynchronously: the services the process talks to (simulators, queues, secrets) live in this one.
  const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [...nodeOptions, "--input-type=module", "-e", script], {
      cwd: dirname(bundle),
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: (timeoutSeconds + 30) * 1000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
  const line = result.stdout
    ?.split("\n")
    .reverse()
    .find((l) => l.startsWith(marker));
  if (result.status !== 0 || !line)
    throw new Error(
      `${name}: ${bundle} failed (exit ${result.status}):\n${result.stderr}\n${result.stdout?.slice(-2000)}`,
    );
  const measured = JSON.parse(line.slice(marker.length)) as Measurement & { result: unknown };
  const problem = invocation.expect(measured.result ?? undefined) ?? (await invocation.after?.());
  if (problem) throw new Error(`${name}: ${bundle}: ${problem}\n${result.stdout.slice(-2000)}`);
  return { initMs: measured.initMs, coldMs: measured.coldMs, cpuMs: measured.cpuMs, rssMb: measured.rssMb };
}

/** The JavaScript a function ships: its `index.mjs` and the chunks it may load (cdk/bundling.ts), not maps or assets. */
function javascriptBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".mjs"))
    .reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
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
