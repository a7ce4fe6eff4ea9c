import type { ProductMetrics } from "#lib/observability/metrics.ts";
import {
  type DriftCounts,
  type DriftItem,
  emptyCounts,
  type ReconcileRuns,
} from "#lib/store/reconcile-runs.ts";

/** Findings beyond this many are counted but not stored (a run over a huge foreign install base). */
export const MAX_STORED_ITEMS = 5000;

/** Drift that reconcile repairs (the `DriftFound` metric alarms on it); the rest is reported only. */
const REPAIRABLE = new Set<DriftItem["kind"]>(["missing", "wrongEdition", "wrongExpiry", "shouldBeExpired"]);

const countOf = (kind: DriftItem["kind"]): keyof DriftCounts => (kind === "error" ? "errors" : kind);

/** The report of one run as it is found: counts, and the findings written to the store in order. */
export class RunReport {
  readonly counts: DriftCounts = emptyCounts();
  private pending: DriftItem[] = [];
  private stored = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly runs: ReconcileRuns,
    private readonly runId: string,
    private readonly metrics: ProductMetrics,
  ) {}

  add(items: DriftItem[], checked = 0): void {
    this.counts.checked += checked;
    for (const item of items) {
      this.counts[countOf(item.kind)] += 1;
      if (REPAIRABLE.has(item.kind)) this.metrics.count("DriftFound");
      if (this.stored + this.pending.length < MAX_STORED_ITEMS) this.pending.push(item);
    }
  }

  /** How many findings are (or are being) stored. */
  get itemCount(): number {
    return this.stored + this.pending.length;
  }

  /** Writes what was found since the last flush; flushes run one after another so numbering holds. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const items = this.pending.splice(0);
      if (items.length === 0) return;
      await this.runs.addItems(this.runId, this.stored, items);
      this.stored += items.length;
    });
    return this.writing;
  }
}
