/**
 * `npm run bench -- throttle [--seconds S] [--processes K] [--concurrency C] [--warmup W] [--only a,b] [--cpu-prof DIR]`
 *
 * K processes (default 4, at most 16) issue license GETs in the `background` lane as fast as their
 * limiter lets them, against the integrator.io simulator at the real limit (1000 tokens, 300/s),
 * for S seconds (default 10). Scenarios run one after another, with the simulator reset and its
 * bucket refilled between: ours (the distributed DynamoDB token bucket) with K processes and, when
 * K < 16, again with 16; no limiter (retry on 429); a per-process token bucket at the full rate;
 * and `bottleneck` per process at the full rate.
 * ratio = successful requests / (capacity + refill × S); 1.0 is the physical limit.
 * Target: ours ratio ≥ 0.97 with 0 429s at K = 4 and at K = 16.
 * Starts its own DynamoDB Local and simulator on free ports; writes bench/results/throttle.json.
 */
import { parseArgs } from "node:util";
import { INTEGRATOR_LIMIT, runFleet, startLimiterRig } from "./lib/fleet.ts";
import { quantile, worstWindowExcess, writeResult } from "./lib/stats.ts";
import type { LimiterKind, WorkerConfig } from "./throttle-worker.ts";

/** The most processes a run takes: a Lambda fleet draining a backlog, on one machine. */
export const MAX_PROCESSES = 16;

export const TARGET = { ratio: 0.97, rateLimited: 0 } as const;

interface Scenario {
  name: string;
  limiter: LimiterKind;
  margin?: number;
  /** Processes of this scenario (default: --processes). */
  processes?: number;
}

interface Row {
  name: string;
  processes: number;
  ok: number;
  ratio: number;
  rateLimited: number;
  p50: number;
  p99: number;
  /** CPU of the client processes per successful request, in ms. */
  cpuMsPerSuccess: number;
  note: string;
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
      // Writes a V8 CPU profile of every worker process there (e.g. to see where a client's CPU goes).
      "cpu-prof": { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const processes = Number(values.processes);
  const concurrency = Number(values.concurrency);
  if (!(seconds > 0 && concurrency > 0))
    throw new Error("--seconds and --concurrency must be positive numbers");
  if (!(Number.isInteger(processes) && processes >= 1 && processes <= MAX_PROCESSES)) {
    throw new Error(`--processes must be a whole number from 1 to ${MAX_PROCESSES}`);
  }
  const rate = INTEGRATOR_LIMIT;
  const budget = rate.capacity + rate.refillPerSecond * seconds;
  const scenarios: Scenario[] = [
    { name: "ours", limiter: "distributed" },
    ...(processes < MAX_PROCESSES
      ? [{ name: `ours-${MAX_PROCESSES}`, limiter: "distributed" as const, processes: MAX_PROCESSES }]
      : []),
    { name: "no-limiter", limiter: "none" },
    { name: "token-bucket-per-process", limiter: "token-bucket", margin: 1 },
    { name: "bottleneck-per-process", limiter: "bottleneck" },
  ];

  const rig = await startLimiterRig();
  try {
    const runScenario = async (scenario: Scenario, runSeconds: number): Promise<Row> => {
      const licenseId = await rig.reset(scenario.name);
      const fleetSize = scenario.processes ?? processes;
      let before = { requests: 0, rateLimited: 0 };
      let startedAt = 0;
      const config: WorkerConfig = {
        limiter: scenario.limiter,
        lane: "background",
        rate,
        ...(scenario.margin === undefined ? {} : { margin: scenario.margin }),
        dynamodb: { ...rig.dynamodb, bucketName: `bench-${Date.now()}` },
        workload: { kind: "requests", ...rig.api, licenseId, concurrency },
      };
      const results = await runFleet(
        Array.from({ length: fleetSize }, () => config),
        {
          seconds: runSeconds,
          ...(values["cpu-prof"] ? { cpuProfileDir: values["cpu-prof"] } : {}),
          beforeStart: async () => {
            await rig.refill(); // the bucket starts full
            before = await rig.stats();
          },
          onStart: (at) => {
            startedAt = at;
          },
        },
      );
      // In-flight requests aborted at the end are counted by the simulator but not as successes.
      const after = await rig.stats();
      const ok = results.reduce((sum, r) => sum + r.ok, 0);
      const waits = results.flatMap((r) => r.waits);
      const failed = results.reduce((sum, r) => sum + r.failed, 0);
      const conflicts = results.reduce((sum, r) => sum + (r.bucket?.conflicts ?? 0), 0);
      const leases = results.reduce((sum, r) => sum + (r.bucket?.leases ?? 0), 0);
      const dropped = results.reduce((sum, r) => sum + (r.bucket?.tokensDropped ?? 0), 0);
      const returned = results.reduce((sum, r) => sum + (r.bucket?.tokensReturned ?? 0), 0);
      const late = results.reduce((sum, r) => sum + (r.bucket?.lateCharges ?? 0), 0);
      // Our limiters' promise, checked on what they granted: never more than the bucket allows.
      const excess =
        scenario.limiter === "distributed" || scenario.limiter === "token-bucket"
          ? worstWindowExcess(
              results.flatMap((r) => r.grants),
              rate.capacity,
              rate.refillPerSecond,
            )
          : Number.NaN;
      const cpuMsPerSuccess = results.reduce((sum, r) => sum + r.cpuMs, 0) / Math.max(1, ok);
      const notes = [
        failed ? `${failed} failed: ${results.find((r) => r.firstError)?.firstError}` : "",
        leases
          ? `${leases} leases, ${conflicts} conflicts, ${returned} returned, ${dropped} dropped, ${late} charged late`
          : "",
        Number.isNaN(excess)
          ? ""
          : `grants over any window − (capacity + refill × window): ${excess.toFixed(1)}`,
        rateLimitedWhen(
          results.flatMap((r) => r.rateLimitedAt),
          startedAt,
        ),
        `clients' CPU ${cpuMsPerSuccess.toFixed(2)} ms per success`,
      ].filter(Boolean);
      return {
        name: scenario.name,
        processes: fleetSize,
        ok,
        ratio: ok / (rate.capacity + rate.refillPerSecond * runSeconds),
        rateLimited: after.rateLimited - before.rateLimited,
        p50: waits.length ? quantile(waits, 0.5) : 0,
        p99: waits.length ? quantile(waits, 0.99) : 0,
        cpuMsPerSuccess,
        note: notes.join("; "),
      };
    };

    // Unmeasured warm-up (default 10 s): DynamoDB Local's JVM needs a few thousand requests before
    // its JIT settles (measured: a 3 s warm-up still left the first scenario slow at times), and
    // the simulator its first ones; otherwise they are charged to whichever scenario runs first.
    const warmupSeconds = Number(values.warmup);
    const [first] = scenarios;
    if (warmupSeconds > 0 && first) await runScenario(first, warmupSeconds);
    const only = values.only?.split(",");
    const rows: Row[] = [];
    for (const scenario of scenarios.filter((candidate) => !only || only.includes(candidate.name))) {
      rows.push(await runScenario(scenario, seconds));
    }

    console.log(
      `\nthrottle: ${processes} processes × ${concurrency} concurrent GETs (background lane), ${seconds} s, limit ${rate.capacity} + ${rate.refillPerSecond}/s (budget ${budget})\n`,
    );
    console.log(
      `${"limiter".padEnd(26)}${"procs".padStart(6)}${"ok".padStart(7)}${"ratio".padStart(8)}${"429s".padStart(7)}${"p50 wait".padStart(10)}${"p99 wait".padStart(10)}  notes`,
    );
    for (const row of rows) {
      console.log(
        `${row.name.padEnd(26)}${String(row.processes).padStart(6)}${String(row.ok).padStart(7)}${row.ratio.toFixed(3).padStart(8)}${String(row.rateLimited).padStart(7)}${`${row.p50.toFixed(0)} ms`.padStart(10)}${`${row.p99.toFixed(0)} ms`.padStart(10)}  ${row.note}`,
      );
    }
    const round = (x: number, digits = 3) => Number(x.toFixed(digits));
    const summary = (row: Row) => ({
      ratio: round(row.ratio),
      rateLimited: row.rateLimited,
      p50WaitMs: round(row.p50, 1),
      p99WaitMs: round(row.p99, 1),
      clientCpuMsPerSuccess: round(row.cpuMsPerSuccess, 2),
    });
    const ours = rows.find((row) => row.name === "ours");
    // With --processes 16, "ours" is the 16-process run.
    const atMax =
      rows.find((row) => row.name === `ours-${MAX_PROCESSES}`) ??
      (processes === MAX_PROCESSES ? ours : undefined);
    const output = {
      limitPerSecond: rate.refillPerSecond,
      capacity: rate.capacity,
      seconds,
      processes,
      concurrency,
      ...(ours ? { ours: summary(ours) } : {}),
      ...(atMax ? { [`ours${MAX_PROCESSES}Processes`]: summary(atMax) } : {}),
      baselines: Object.fromEntries(
        rows
          .filter((row) => !row.name.startsWith("ours"))
          .map((row) => [row.name, { ratio: round(row.ratio), rateLimited: row.rateLimited }]),
      ),
    };
    const path = writeResult("throttle", output);
    console.log(
      `\nwrote ${path} (target: ours ratio ≥ ${TARGET.ratio} with 0 429s, at ${processes} and ${MAX_PROCESSES} processes)`,
    );
    const missed = [ours, atMax].filter(
      (row): row is Row => row !== undefined && (row.ratio < TARGET.ratio || row.rateLimited > 0),
    );
    for (const row of missed)
      console.log(
        `MISSED at ${row.processes} processes: ratio ${row.ratio.toFixed(3)}, ${row.rateLimited} 429s`,
      );
    if (missed.length > 0) process.exitCode = 1;
  } finally {
    await rig.stop();
  }
}

/** When the 429s came, in seconds from the fleet's start ("" without any). */
function rateLimitedWhen(times: number[], startedAt: number): string {
  if (times.length === 0) return "";
  const sorted = [...times].sort((a, b) => a - b);
  const at = (time: number) => ((time - startedAt) / 1000).toFixed(1);
  return `429s between ${at(sorted[0] as number)} s and ${at(sorted.at(-1) as number)} s`;
}
