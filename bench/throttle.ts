/**
 * `npm run bench -- throttle [--seconds S] [--processes K] [--concurrency C] [--warmup W] [--only a,b]`
 *
 * K processes (default 4) issue license GETs as fast as their limiter lets them, against the
 * integrator.io simulator at the real limit (1000 tokens, 300/s), for S seconds (default 10).
 * Scenarios run one after another, with the simulator reset and its bucket refilled between:
 * ours (the distributed DynamoDB token bucket), no limiter (retry on 429), a per-process token
 * bucket at the full rate, and `bottleneck` per process at the full rate.
 * ratio = successful requests / (capacity + refill × S); 1.0 is the physical limit.
 * Starts its own DynamoDB Local and simulator on free ports; writes bench/results/throttle.json.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createTable, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import type { LimiterKind, WorkerConfig, WorkerResult } from "./throttle-worker.ts";

const here = dirname(fileURLToPath(import.meta.url));
const workerPath = join(here, "throttle-worker.ts");

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message.type !== type) return;
      cleanup();
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`worker exited with ${code} before "${type}"`));
    };
    const cleanup = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

/**
 * Forks one worker per config, waits until all are ready, runs `beforeStart`, then starts them
 * together for `seconds` and collects their results. Used by this benchmark and the
 * distributed-bucket tests.
 */
export async function runFleet(
  configs: WorkerConfig[],
  options: { seconds: number; startDelayMs?: number; beforeStart?: () => Promise<void> },
): Promise<WorkerResult[]> {
  const children = configs.map(() =>
    fork(workerPath, [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  try {
    await Promise.all(
      children.map((child, i) => {
        const ready = nextMessage(child, "ready");
        child.send({ type: "config", ...configs[i] });
        return ready;
      }),
    );
    await options.beforeStart?.();
    const startAt = Date.now() + (options.startDelayMs ?? 200);
    const endAt = startAt + options.seconds * 1000;
    const results = children.map((child) => nextMessage<WorkerResult & { type: string }>(child, "result"));
    for (const child of children) child.send({ type: "start", startAt, endAt });
    return await Promise.all(results);
  } finally {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface Scenario {
  name: string;
  limiter: LimiterKind;
  margin?: number;
}

const SCENARIOS: Scenario[] = [
  { name: "ours", limiter: "distributed" },
  { name: "no-limiter", limiter: "none" },
  { name: "token-bucket-per-process", limiter: "token-bucket", margin: 1 },
  { name: "bottleneck-per-process", limiter: "bottleneck" },
];

interface Row {
  name: string;
  ok: number;
  ratio: number;
  rateLimited: number;
  p50: number;
  p99: number;
  note: string;
}

interface SimStats {
  requests: number;
  rateLimited: number;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string", default: "10" },
      processes: { type: "string", default: "4" },
      concurrency: { type: "string", default: "16" },
      // Comma-separated subset of the scenarios (for tuning); the JSON needs all of them.
      only: { type: "string" },
      warmup: { type: "string", default: "10" },
    },
  });
  const seconds = Number(values.seconds);
  const processes = Number(values.processes);
  const concurrency = Number(values.concurrency);
  if (!(seconds > 0 && Number.isInteger(processes) && processes > 0 && concurrency > 0)) {
    throw new Error("--seconds, --processes and --concurrency must be positive numbers");
  }
  const rate = { capacity: 1000, refillPerSecond: 300 };
  const budget = rate.capacity + rate.refillPerSecond * seconds;
  const token = "bench-vendor-token";
  const tableName = "integrator-licensing-bench";
  const connectorId = "bench-connector";

  // Imported here so that the test helpers above don't load the simulator.
  const { startIntegratorSimulator } = await import("#local/sim/integrator/index.ts");
  const dynamo = await startDynamoDbLocal({ port: 0 });
  const sim = await startIntegratorSimulator({ port: 0, vendorToken: token, ...rate });
  try {
    await createTable(dynamo.endpoint, tableName);
    const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      const response = await fetch(new URL(path, sim.origin), {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
      return response.status === 204 ? undefined : response.json();
    };
    await control("POST", "/_sim/connectors", { _id: connectorId, name: "Throttle bench", published: true });

    const rows: Row[] = [];
    const runScenario = async (scenario: Scenario, runSeconds: number): Promise<Row> => {
      await control("POST", "/_sim/reset");
      const email = `bench-${scenario.name}@example.com`;
      await control("POST", "/_sim/users", { email });
      const created = await fetch(`${sim.url}/connectors/${connectorId}/licenses`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ email, expires: new Date(Date.now() + 86_400_000).toISOString() }),
      });
      if (created.status !== 201)
        throw new Error(`license create → ${created.status} ${await created.text()}`);
      const { _id: licenseId } = (await created.json()) as { _id: string };

      let before: SimStats = { requests: 0, rateLimited: 0 };
      const config: WorkerConfig = {
        limiter: scenario.limiter,
        rate,
        ...(scenario.margin === undefined ? {} : { margin: scenario.margin }),
        dynamodb: {
          endpoint: dynamo.endpoint,
          tableName,
          bucketName: `bench-${Date.now()}`,
        },
        workload: { kind: "requests", baseUrl: sim.url, token, connectorId, licenseId, concurrency },
      };
      const results = await runFleet(
        Array.from({ length: processes }, () => config),
        {
          seconds: runSeconds,
          beforeStart: async () => {
            await control("PUT", "/_sim/rate-limit", rate); // the bucket starts full
            before = (await control("GET", "/_sim/stats")) as SimStats;
          },
        },
      );
      // In-flight requests aborted at the end are counted by the simulator but not as successes.
      const after = (await control("GET", "/_sim/stats")) as SimStats;
      const ok = results.reduce((sum, r) => sum + r.ok, 0);
      const waits = results.flatMap((r) => r.waits).sort((a, b) => a - b);
      const failed = results.reduce((sum, r) => sum + r.failed, 0);
      const conflicts = results.reduce((sum, r) => sum + (r.bucket?.conflicts ?? 0), 0);
      const leases = results.reduce((sum, r) => sum + (r.bucket?.leases ?? 0), 0);
      const dropped = results.reduce((sum, r) => sum + (r.bucket?.tokensDropped ?? 0), 0);
      const returned = results.reduce((sum, r) => sum + (r.bucket?.tokensReturned ?? 0), 0);
      const notes = [
        failed ? `${failed} failed: ${results.find((r) => r.firstError)?.firstError}` : "",
        leases ? `${leases} leases, ${conflicts} conflicts, ${returned} returned, ${dropped} dropped` : "",
      ].filter(Boolean);
      return {
        name: scenario.name,
        ok,
        ratio: ok / (rate.capacity + rate.refillPerSecond * runSeconds),
        rateLimited: after.rateLimited - before.rateLimited,
        p50: percentile(waits, 50),
        p99: percentile(waits, 99),
        note: notes.join("; "),
      };
    };

    // Unmeasured warm-up (default 10 s): DynamoDB Local's JVM needs a few thousand requests before
    // its JIT settles (measured: a 3 s warm-up still left the first scenario slow at times), and
    // the simulator its first ones; otherwise they are charged to whichever scenario runs first.
    const warmupSeconds = Number(values.warmup);
    const [first] = SCENARIOS;
    if (warmupSeconds > 0 && first) await runScenario(first, warmupSeconds);
    const only = values.only?.split(",");
    for (const scenario of SCENARIOS.filter((candidate) => !only || only.includes(candidate.name))) {
      rows.push(await runScenario(scenario, seconds));
    }

    console.log(
      `\nthrottle: ${processes} processes × ${concurrency} concurrent GETs, ${seconds} s, limit ${rate.capacity} + ${rate.refillPerSecond}/s (budget ${budget})\n`,
    );
    console.log(
      `${"limiter".padEnd(26)}${"ok".padStart(7)}${"ratio".padStart(8)}${"429s".padStart(7)}${"p50 wait".padStart(10)}${"p99 wait".padStart(10)}  notes`,
    );
    for (const row of rows) {
      console.log(
        `${row.name.padEnd(26)}${String(row.ok).padStart(7)}${row.ratio.toFixed(3).padStart(8)}${String(row.rateLimited).padStart(7)}${`${row.p50.toFixed(0)} ms`.padStart(10)}${`${row.p99.toFixed(0)} ms`.padStart(10)}  ${row.note}`,
      );
    }
    const [ours, ...baselines] = rows;
    if (!ours) throw new Error("no results");
    const round = (x: number, digits = 3) => Number(x.toFixed(digits));
    const output = {
      limitPerSecond: rate.refillPerSecond,
      capacity: rate.capacity,
      seconds,
      processes,
      concurrency,
      ours: {
        ratio: round(ours.ratio),
        rateLimited: ours.rateLimited,
        p50WaitMs: round(ours.p50, 1),
        p99WaitMs: round(ours.p99, 1),
      },
      baselines: Object.fromEntries(
        baselines.map((row) => [row.name, { ratio: round(row.ratio), rateLimited: row.rateLimited }]),
      ),
    };
    const resultsDir = join(here, "results");
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, "throttle.json"), `${JSON.stringify(output, null, 2)}\n`);
    console.log(`\nwrote bench/results/throttle.json (target: ours ratio ≥ 0.95 with 0 429s)`);
  } finally {
    await sim.stop();
    await dynamo.stop();
  }
}
