/**
 * What the limiter benchmarks (bench/throttle.ts, bench/lanes.ts) and the distributed-bucket tests
 * share: a fleet of worker processes (bench/throttle-worker.ts) started together, and a rig of
 * DynamoDB Local and the integrator.io simulator at integrator.io's real limit, on free ports.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { createTable, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { ESM_REQUIRE_BANNER } from "../../cdk/esm-banner.ts";
import type { WorkerConfig, WorkerResult } from "../throttle-worker.ts";

const workerSource = join(dirname(fileURLToPath(import.meta.url)), "..", "throttle-worker.ts");
let workerBundle: Promise<string> | undefined;

/**
 * The worker as one bundle run by plain `node`, as a Lambda runs its function: no TypeScript
 * loader thread in each of up to 16 processes, which on a small machine took CPU from the
 * processes being measured. Built once per run.
 */
function bundledWorker(): Promise<string> {
  workerBundle ??= (async () => {
    const outfile = join(mkdtempSync(join(tmpdir(), "limiter-fleet-")), "throttle-worker.mjs");
    await build({
      entryPoints: [workerSource],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      banner: { js: ESM_REQUIRE_BANNER },
      logLevel: "error",
    });
    return outfile;
  })();
  return workerBundle;
}

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
 * together for `seconds` and collects their results (in the order of `configs`).
 */
export async function runFleet(
  configs: WorkerConfig[],
  options: {
    seconds: number;
    startDelayMs?: number;
    beforeStart?: () => Promise<void>;
    /** Each worker writes a V8 CPU profile here when it exits. */
    cpuProfileDir?: string;
    /** Told the epoch ms at which the workers start. */
    onStart?: (startAt: number) => void;
  },
): Promise<WorkerResult[]> {
  const workerPath = await bundledWorker();
  const children = configs.map(() =>
    fork(workerPath, [], {
      execArgv: options.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`] : [],
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
    options.onStart?.(startAt);
    const results = children.map((child) => nextMessage<WorkerResult & { type: string }>(child, "result"));
    for (const child of children) child.send({ type: "start", startAt, endAt });
    return await Promise.all(results);
  } finally {
    // A worker exits on its own once it has sent its result (writing a CPU profile if asked);
    // whatever is still running a moment later is killed.
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => {
              child.kill("SIGKILL");
              resolve();
            }, 2000);
            child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }
}

export interface SimStats {
  requests: number;
  rateLimited: number;
}

/** integrator.io's real limit, which the simulator enforces and the limiters are told. */
export const INTEGRATOR_LIMIT = { capacity: 1000, refillPerSecond: 300 } as const;

export interface LimiterRig {
  /** DynamoDB Local's endpoint and the table every limiter shares. */
  dynamodb: { endpoint: string; tableName: string };
  /** The simulator's API base (`…/v1`), its vendor token and a published connector. */
  api: { baseUrl: string; token: string; connectorId: string };
  /**
   * Resets the simulator and makes a license to GET (named after `scenario`); returns its id.
   * Call it before each scenario.
   */
  reset(scenario: string): Promise<string>;
  /** Refills the simulator's bucket to the brim (just before a fleet starts). */
  refill(): Promise<void>;
  stats(): Promise<SimStats>;
  stop(): Promise<void>;
}

/** Starts DynamoDB Local and the integrator.io simulator on free ports, at integrator.io's limit. */
export async function startLimiterRig(): Promise<LimiterRig> {
  const token = "bench-vendor-token";
  const tableName = "integrator-licensing-bench";
  const connectorId = "bench-connector";
  // Imported here so that loading this module (the bucket tests) doesn't load the simulator.
  const { startIntegratorSimulator } = await import("#local/sim/integrator/index.ts");
  const dynamo = await startDynamoDbLocal({ port: 0 });
  const sim = await startIntegratorSimulator({ port: 0, vendorToken: token, ...INTEGRATOR_LIMIT });
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(new URL(path, sim.origin), {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  };
  try {
    await createTable(dynamo.endpoint, tableName);
    await control("POST", "/_sim/connectors", { _id: connectorId, name: "Limiter bench", published: true });
  } catch (error) {
    await sim.stop();
    await dynamo.stop();
    throw error;
  }
  return {
    dynamodb: { endpoint: dynamo.endpoint, tableName },
    api: { baseUrl: sim.url, token, connectorId },
    async reset(scenario) {
      await control("POST", "/_sim/reset");
      const email = `bench-${scenario}@example.com`;
      await control("POST", "/_sim/users", { email });
      const created = await fetch(`${sim.url}/connectors/${connectorId}/licenses`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ email, expires: new Date(Date.now() + 86_400_000).toISOString() }),
      });
      if (created.status !== 201)
        throw new Error(`license create → ${created.status} ${await created.text()}`);
      return ((await created.json()) as { _id: string })._id;
    },
    refill: async () => void (await control("PUT", "/_sim/rate-limit", INTEGRATOR_LIMIT)),
    stats: async () => (await control("GET", "/_sim/stats")) as SimStats,
    async stop() {
      await sim.stop();
      await dynamo.stop();
    },
  };
}
