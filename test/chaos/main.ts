/**
 * `npm run test:chaos -- [--customers M] [--seed N] [--workers W] [--concurrency C]
 *   [--worker-timeout S] [--visibility-timeout S] [--late-commit-rate R] [--late-commit-ms N|MIN-MAX]
 *   [--late-commit-window S] [--output NAME]`
 *
 * M customers (default 200) with seeded random lifecycles through the local stack under Stripe's
 * and integrator.io's misbehaviour (late commits included: a fraction R of license creates lose
 * their answer before the license exists, which lands N ms later — by default 5%, 300–3000 ms,
 * under a 20 s late-commit window), worker kills and a poller restart; then one reconcile; then
 * every license judged against Stripe's final state. Prints the seed and the summary line, writes
 * bench/results/chaos.json, and exits non-zero when anything was lost, doubled, wrong or unsettled.
 */
import { parseArgs } from "node:util";
import { writeResult } from "../../bench/lib/stats.ts";
import { DEFAULT_MONKEY } from "./monkey.ts";
import { randomSeed } from "./prng.ts";
import { DEFAULT_LATE_COMMIT_WINDOW_SECONDS, runChaos } from "./run.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    customers: { type: "string", default: "200" },
    seed: { type: "string" },
    workers: { type: "string", default: "4" },
    concurrency: { type: "string" },
    "worker-timeout": { type: "string", default: "10" },
    "visibility-timeout": { type: "string", default: "15" },
    "late-commit-rate": { type: "string", default: String(DEFAULT_MONKEY.lateCommitRate) },
    "late-commit-ms": { type: "string", default: DEFAULT_MONKEY.lateCommitMs.join("-") },
    "late-commit-window": { type: "string", default: String(DEFAULT_LATE_COMMIT_WINDOW_SECONDS) },
    output: { type: "string", default: "chaos" },
  },
});
const positive = (name: string, value: string | undefined) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`--${name} must be a positive integer (got ${value})`);
    process.exit(2);
  }
  return n;
};

const seed = values.seed === undefined ? randomSeed() : Number(values.seed);
if (!Number.isInteger(seed) || seed < 0) {
  console.error(`--seed must be a non-negative integer (got ${values.seed})`);
  process.exit(2);
}
const workerTimeoutSeconds = positive("worker-timeout", values["worker-timeout"]);
const visibilityTimeoutSeconds = positive("visibility-timeout", values["visibility-timeout"]);
if (visibilityTimeoutSeconds <= workerTimeoutSeconds) {
  console.error("--visibility-timeout must be longer than --worker-timeout (as AWS requires)");
  process.exit(2);
}
const lateCommitRate = Number(values["late-commit-rate"]);
if (!(lateCommitRate >= 0 && lateCommitRate <= 1)) {
  console.error(`--late-commit-rate must be a fraction from 0 to 1 (got ${values["late-commit-rate"]})`);
  process.exit(2);
}
// One delay (N) or a range drawn from at every reshuffle (MIN-MAX), in ms; the simulator takes up to 600000.
const lateCommitMs = (() => {
  const parts = (values["late-commit-ms"] ?? "").split("-");
  const min = Number(parts[0]);
  const max = Number(parts[1] ?? parts[0]);
  if (
    parts.length > 2 ||
    parts.some((part) => part.trim() === "") ||
    !Number.isInteger(min) ||
    !Number.isInteger(max) ||
    min < 0 ||
    max < min ||
    max > 600_000
  ) {
    console.error(
      `--late-commit-ms must be N or MIN-MAX, in ms up to 600000 (got ${values["late-commit-ms"]})`,
    );
    process.exit(2);
  }
  return [min, max] as [number, number];
})();
const lateCommitWindowSeconds = positive("late-commit-window", values["late-commit-window"]);

// A run stopped from outside says so (its stack's processes end with it: DynamoDB Local on its
// stdin closing, the workers on their IPC channel closing); no result is written.
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    console.log(
      `chaos: stopped by ${signal} after ${Math.round(process.uptime())} s (seed=${seed}); no result`,
    );
    process.exit(signal === "SIGINT" ? 130 : 143);
  });

const result = await runChaos({
  customers: positive("customers", values.customers),
  seed,
  workers: positive("workers", values.workers),
  workerTimeoutSeconds,
  visibilityTimeoutSeconds,
  lateCommitWindowSeconds,
  monkey: { lateCommitRate, lateCommitMs },
  ...(values.concurrency === undefined ? {} : { concurrency: positive("concurrency", values.concurrency) }),
});
const path = writeResult(values.output ?? "chaos", result);
console.log(
  `chaos: inbox ${JSON.stringify(result.inbox)} unsettled=${result.counts.unsettled} dlq=${result.dlq.length} (processed ${result.counts.dlqProcessed}, unexplained ${result.counts.dlqUnexplained}) reconcile=${result.reconcile.state} ${JSON.stringify(result.reconcile.counts)}`,
);
for (const failure of result.failures.slice(0, 20))
  console.log(
    `chaos: ${failure.outcome} ${failure.label} ${failure.customerId}: ${failure.detail} (expected ${JSON.stringify(failure.expected)})`,
  );
for (const error of result.playerErrors.slice(0, 10))
  console.log(`chaos: player error ${error.label}: ${error.error}`);
console.log(
  `chaos: faults ${JSON.stringify(result.faults)} late-commit window ${result.lateCommits.windowSeconds} s (open after drain ${result.lateCommits.openAfterDrain}, waited ${result.lateCommits.waitedSeconds} s, open at reconcile ${result.lateCommits.openAtReconcile})`,
);
console.log(`chaos: seed=${result.seed} seconds=${result.seconds} → ${path}`);
console.log(result.summary);
process.exit(result.ok ? 0 : 1);
