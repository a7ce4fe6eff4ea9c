import { useEffect } from "preact/hooks";
import { request, segment } from "../api.ts";
import { Findings } from "../components/Findings.tsx";
import { Show } from "../components/Loaded.tsx";
import { PageHead } from "../components/PageHead.tsx";
import { RunCounts } from "../components/RunCounts.tsx";
import { date } from "../format.ts";
import { useLoad } from "../load.ts";
import { href } from "../router.ts";
import { useTitle } from "../title.ts";
import type { DriftItem, ReconcileRun as Run } from "../types.ts";

/** While a run is running its page looks again this often. */
const POLL_MS = 3000;

/** `#/reconcile/<runId>`: one run, its counts and its findings grouped by kind. */
export function ReconcileRun({ runId }: { runId: string }) {
  useTitle(`Reconcile run ${runId}`);
  const [state, reload] = useLoad(() => request<Run>(`/admin/reconcile/${segment(runId)}`), [runId]);
  const running = state.status === "done" && state.data.state === "running" && !state.reloading;
  useEffect(() => {
    if (!running) return;
    const timer = window.setTimeout(reload, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [running, reload]);

  return (
    <>
      <p class="small">
        <a href={href("reconcile")}>← Reconcile runs</a>
      </p>
      <PageHead onRefresh={reload}>
        Reconcile run <span class="id">{runId}</span>
      </PageHead>
      <Show state={state} what="the run">
        {(run) => <RunReport run={run} />}
      </Show>
    </>
  );
}

function RunReport({ run }: { run: Run }) {
  const groups = groupByKind(run.items);
  return (
    <div class="stack">
      <dl class="facts">
        <dt>Kind</dt>
        <dd>{run.dryRun ? "dry run (reports only)" : "repair"}</dd>
        <dt>State</dt>
        <dd>
          <span class={`badge run-${run.state}`}>{run.state}</span>
          {run.state === "running" ? <span class="muted small"> (this page refreshes itself)</span> : null}
        </dd>
        <dt>Trigger</dt>
        <dd>{run.trigger}</dd>
        <dt>Started</dt>
        <dd>{date(run.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{date(run.finishedAt)}</dd>
        {run.error ? (
          <>
            <dt>Error</dt>
            <dd class="drift">{run.error}</dd>
          </>
        ) : null}
      </dl>
      <section aria-labelledby="run-counts">
        <h2 id="run-counts">Counts</h2>
        <RunCounts counts={run.counts} />
      </section>
      <section aria-labelledby="run-findings">
        <h2 id="run-findings">Findings ({run.itemCount})</h2>
        {run.itemsTruncated ? (
          <p class="notice">
            Showing the first {run.items.length} of {run.itemCount} findings; the counts cover all of them.
          </p>
        ) : null}
        {groups.length === 0 ? <p>No findings.</p> : null}
        {groups.map(([kind, items]) => (
          <section key={kind} aria-labelledby={`kind-${kind}`}>
            <h3 id={`kind-${kind}`}>
              {kind} ({items.length})
            </h3>
            <Findings items={items} label={`Findings: ${kind}`} showKind={false} showCustomer />
          </section>
        ))}
      </section>
    </div>
  );
}

function groupByKind(items: DriftItem[]): [string, DriftItem[]][] {
  const groups = new Map<string, DriftItem[]>();
  for (const item of items) {
    const group = groups.get(item.kind);
    if (group) group.push(item);
    else groups.set(item.kind, [item]);
  }
  return [...groups];
}
