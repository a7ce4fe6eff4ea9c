/**
 * `npm run bench -- lanes [--seconds S] [--bulk-share F]`
 *
 * The shared limiter's priority lanes under a saturating fleet: 4 processes of background calls
 * and 1 of bulk calls (16 license GETs in flight each, closed loop) keep the bucket empty, while 1
 * process makes interactive calls at 5/s (open loop) for the whole run, S seconds (default 30),
 * against the integrator.io simulator at the real limit (1000 tokens, 300/s).
 * Reports per lane the successful calls, the limiter's p50 / p99 wait and the 429s; the overall
 * ratio = successes / (capacity + refill × S); and `bulkShare`, bulk's share of all successes after
 * the first 3 s (when the bucket's first fill is spent).
 * Targets: ratio ≥ 0.95, 0 429s, interactive p99 wait ≤ 250 ms, bulkShare ≤ 0.25.
 * Starts its own DynamoDB Local and simulator on free ports; writes bench/results/lanes.json.
 */
import { parseArgs } from "node:util";
import { LANES, type Lane } from "#lib/integrator/lanes.ts";
import { INTEGRATOR_LIMIT, runFleet, startLimiterRig } from "./lib/fleet.ts";
import { printTable, quantile, round, writeResult } from "./lib/stats.ts";
import type { WorkerConfig } from "./throttle-worker.ts";

export const TARGETS = { ratio: 0.95, rateLimited: 0, interactiveP99WaitMs: 250, bulkShare: 0.25 } as const;

/** Successes before this many ms into the run are the bucket's first fill, not the lanes' shares. */
const SHARE_FROM_MS = 3000;
const INTERACTIVE_PER_SECOND = 5;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string", default: "30" },
      "bulk-share": { type: "string", default: "0.2" },
      warmup: { type: "string", default: "5" },
    },
  });
  const seconds = Number(values.seconds);
  const bulkShare = Number(values["bulk-share"]);
  if (!(seconds > SHARE_FROM_MS / 1000))
    throw new Error(`--seconds must be more than ${SHARE_FROM_MS / 1000}`);
  if (!(bulkShare > 0 && bulkShare <= 1)) throw new Error("--bulk-share must be in (0, 1]");
  const rate = INTEGRATOR_LIMIT;

  const rig = await startLimiterRig();
  try {
    const run = async (runSeconds: number) => {
      const licenseId = await rig.reset(`lanes-${Date.now()}`);
      const base = {
        limiter: "distributed" as const,
        rate,
        dynamodb: { ...rig.dynamodb, bucketName: `lanes-${Date.now()}`, bulkShare },
      };
      const saturating = (lane: Lane): WorkerConfig => ({
        ...base,
        lane,
        workload: { kind: "requests", ...rig.api, licenseId, concurrency: 16 },
      });
      const configs: WorkerConfig[] = [
        ...Array.from({ length: 4 }, () => saturating("background")),
        saturating("bulk"),
        {
          ...base,
          lane: "interactive",
          workload: {
            kind: "requests",
            ...rig.api,
            licenseId,
            concurrency: 1,
            perSecond: INTERACTIVE_PER_SECOND,
          },
        },
      ];
      let before = { requests: 0, rateLimited: 0 };
      let startedAt = 0;
      const results = await runFleet(configs, {
        seconds: runSeconds,
        beforeStart: async () => {
          await rig.refill();
          before = await rig.stats();
        },
        onStart: (at) => {
          startedAt = at;
        },
      });
      const after = await rig.stats();
      return { configs, results, rateLimited: after.rateLimited - before.rateLimited, startedAt };
    };

    // Unmeasured warm-up: DynamoDB Local's JIT and the simulator's first requests (bench/throttle.ts).
    const warmup = Number(values.warmup);
    if (warmup > 0) await run(warmup);
    const { configs, results, rateLimited, startedAt } = await run(seconds);

    const lanes = {} as Record<Lane, { ok: number; p50Wait: number; p99Wait: number; rateLimited: number }>;
    let failed = 0;
    for (const lane of LANES) {
      const mine = results.filter((_, i) => configs[i]?.lane === lane);
      const waits = mine.flatMap((r) => r.waits);
      failed += mine.reduce((sum, r) => sum + r.failed, 0);
      lanes[lane] = {
        ok: mine.reduce((sum, r) => sum + r.ok, 0),
        p50Wait: waits.length ? round(quantile(waits, 0.5), 1) : 0,
        p99Wait: waits.length ? round(quantile(waits, 0.99), 1) : 0,
        rateLimited: mine.reduce((sum, r) => sum + r.rateLimited, 0),
      };
    }
    const lateOk = (lane: Lane) =>
      results
        .filter((_, i) => configs[i]?.lane === lane)
        .reduce((sum, r) => sum + r.okAt.filter((at) => at - startedAt >= SHARE_FROM_MS).length, 0);
    const lateAll = LANES.reduce((sum, lane) => sum + lateOk(lane), 0);
    const ok = LANES.reduce((sum, lane) => sum + lanes[lane].ok, 0);
    const output = {
      ratio: round(ok / (rate.capacity + rate.refillPerSecond * seconds), 3),
      rateLimited,
      seconds,
      bulkShare: round(lateAll ? lateOk("bulk") / lateAll : 0, 3),
      lanes,
    };

    printTable(
      LANES.map((lane) => ({
        lane,
        processes: configs.filter((c) => c.lane === lane).length,
        ok: lanes[lane].ok,
        "p50 wait ms": lanes[lane].p50Wait,
        "p99 wait ms": lanes[lane].p99Wait,
        "429s": lanes[lane].rateLimited,
      })),
    );
    const met = {
      ratio: output.ratio >= TARGETS.ratio,
      rateLimited: rateLimited === TARGETS.rateLimited,
      interactive: lanes.interactive.p99Wait <= TARGETS.interactiveP99WaitMs,
      bulkShare: output.bulkShare <= TARGETS.bulkShare,
    };
    console.log(
      `\nlanes: ${seconds} s, limit ${rate.capacity} + ${rate.refillPerSecond}/s, bulk share ${bulkShare}` +
        `\nratio ${output.ratio} (≥ ${TARGETS.ratio}: ${met.ratio ? "met" : "MISSED"}), ` +
        `429s ${rateLimited} (${met.rateLimited ? "met" : "MISSED"}), ` +
        `interactive p99 wait ${lanes.interactive.p99Wait} ms (≤ ${TARGETS.interactiveP99WaitMs}: ${met.interactive ? "met" : "MISSED"}), ` +
        `bulkShare ${output.bulkShare} (≤ ${TARGETS.bulkShare}: ${met.bulkShare ? "met" : "MISSED"})` +
        (failed ? `\n${failed} calls failed: ${results.find((r) => r.firstError)?.firstError}` : ""),
    );
    console.log(`wrote ${writeResult("lanes", output)}`);
    if (!Object.values(met).every(Boolean) || failed) process.exitCode = 1;
  } finally {
    await rig.stop();
  }
}
