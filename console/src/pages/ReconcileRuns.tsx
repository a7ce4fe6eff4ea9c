import { request, withQuery } from "../api.ts";
import { ErrorAlert } from "../components/ErrorAlert.tsx";
import { Show } from "../components/Loaded.tsx";
import { LoadMore } from "../components/LoadMore.tsx";
import { PageHead } from "../components/PageHead.tsx";
import { driftTotal } from "../components/RunCounts.tsx";
import { TableWrap } from "../components/TableWrap.tsx";
import { date } from "../format.ts";
import { useAction, usePaged } from "../load.ts";
import { href, navigate } from "../router.ts";
import { useCan } from "../session.ts";
import { useTitle } from "../title.ts";
import type { Page, RunSummary } from "../types.ts";

/** `#/reconcile`: the reconcile runs, newest first; start a dry run or a repair. */
export function ReconcileRuns() {
  useTitle("Reconcile runs");
  const list = usePaged(
    (cursor?: string) => request<Page<RunSummary>>(withQuery("/admin/reconcile", { cursor })),
    [],
  );
  return (
    <>
      <PageHead onRefresh={list.reload}>Reconcile runs</PageHead>
      <StartRun />
      <Show state={list.state} what="reconcile runs">
        {({ items }) => (items.length === 0 ? <p>No reconcile run yet.</p> : <RunTable runs={items} />)}
      </Show>
      <LoadMore list={list} />
    </>
  );
}

function StartRun() {
  const canAct = useCan("operator");
  const [state, start] = useAction(async (dryRun: boolean) => {
    const { runId } = await request<{ runId: string }>("/admin/reconcile", {
      method: "POST",
      body: { dryRun },
    });
    navigate(href("reconcile", runId));
    return runId;
  });
  if (!canAct) return null;
  return (
    <div class="actions">
      <div class="buttons">
        <button type="button" disabled={state.status === "running"} onClick={() => start(true)}>
          Start dry run
        </button>
        <button type="button" disabled={state.status === "running"} onClick={() => start(false)}>
          Start repair
        </button>
      </div>
      <p class="muted small">A dry run only reports drift; a repair also fixes it.</p>
      {state.status === "running" ? (
        <p role="status" class="muted">
          Starting…
        </p>
      ) : null}
      {state.status === "error" ? <ErrorAlert error={state.error} /> : null}
    </div>
  );
}

function RunTable({ runs }: { runs: RunSummary[] }) {
  return (
    <TableWrap label="Reconcile runs">
      <table>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Kind</th>
            <th scope="col">State</th>
            <th scope="col">Trigger</th>
            <th scope="col">Started</th>
            <th scope="col">Finished</th>
            <th scope="col">Checked</th>
            <th scope="col">Drift</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.runId}>
              <td class="id">
                <a href={href("reconcile", run.runId)}>{run.runId}</a>
              </td>
              <td>{run.dryRun ? "dry run" : "repair"}</td>
              <td>
                <span class={`badge run-${run.state}`}>{run.state}</span>
                {run.error ? <div class="muted small">{run.error}</div> : null}
              </td>
              <td>{run.trigger}</td>
              <td>{date(run.startedAt)}</td>
              <td>{date(run.finishedAt)}</td>
              <td>{run.counts.checked ?? "—"}</td>
              <td class={driftTotal(run.counts) > 0 ? "drift" : undefined}>{driftTotal(run.counts)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
