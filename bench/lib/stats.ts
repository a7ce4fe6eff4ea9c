import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The q-quantile (0..1) of a list of numbers (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** The median (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "results");

/** Writes `bench/results/<name>.json` and returns its path. */
export function writeResult(name: string, result: unknown): string {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

/** Prints rows as an aligned table. */
export function printTable(rows: Record<string, string | number>[]): void {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
  console.log(line(columns));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => String(row[c]))));
}

/**
 * The largest number of grants in any window [a, b] minus what a bucket of `capacity` refilled at
 * `perSecond` allows there (`capacity + perSecond × (b − a + slackMs)`): ≤ 0 means within limits.
 */
export function worstWindowExcess(
  grantTimesMs: number[],
  capacity: number,
  perSecond: number,
  slackMs = 0,
): number {
  const times = [...grantTimesMs].sort((x, y) => x - y);
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < times.length; i++) {
    const start = times[i] ?? 0;
    for (let j = i; j < times.length; j++) {
      const end = times[j] ?? 0;
      const allowed = capacity + (perSecond * (end - start + slackMs)) / 1000;
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  }
  return worst;
}
