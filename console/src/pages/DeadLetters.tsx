import { useState } from "preact/hooks";
import { request } from "../api.ts";
import { ConfirmDialog } from "../components/Dialog.tsx";
import { ErrorAlert } from "../components/ErrorAlert.tsx";
import { Show } from "../components/Loaded.tsx";
import { PageHead } from "../components/PageHead.tsx";
import { TableWrap } from "../components/TableWrap.tsx";
import { date, plural, text } from "../format.ts";
import { useAction, useLoad } from "../load.ts";
import { href } from "../router.ts";
import { useCan } from "../session.ts";
import { useTitle } from "../title.ts";
import type { DeadLetter, DeadLetters as DeadLettersData } from "../types.ts";

/** `#/dlq`: the messages the worker gave up on, and "Redrive all". */
export function DeadLetters() {
  useTitle("Dead letters");
  const [state, reload] = useLoad(() => request<DeadLettersData>("/admin/dlq"), []);
  return (
    <>
      <PageHead onRefresh={reload}>Dead letters</PageHead>
      <Show state={state} what="the dead-letter queue">
        {(dlq) => (
          <>
            <p>
              About {plural(dlq.approximateTotal, "message")} in the dead-letter queue.{" "}
              <span class="muted small">
                A FIFO queue shows one message per customer while it is read; all failed events are under{" "}
                <a href={href("events", { status: "failed" })}>Events → failed</a>.
              </span>
            </p>
            <Redrive count={Math.max(dlq.approximateTotal, dlq.data.length)} onDone={reload} />
            {dlq.data.length === 0 ? (
              <p>The dead-letter queue is empty.</p>
            ) : (
              <DeadLetterTable rows={dlq.data} />
            )}
          </>
        )}
      </Show>
    </>
  );
}

function Redrive({ count, onDone }: { count: number; onDone: () => void }) {
  const canAct = useCan("operator");
  const [asking, setAsking] = useState(false);
  const [progress, setProgress] = useState<RedriveJob | undefined>(undefined);
  // The redrive is a job (it may outlast one API call): start it, then follow it until it ends.
  const [state, redrive, clear] = useAction(async () => {
    const { jobId } = await request<{ jobId: string; location: string }>("/admin/dlq/redrive", {
      method: "POST",
    });
    for (;;) {
      const job = await request<RedriveJob>(`/admin/dlq/redrive/${encodeURIComponent(jobId)}`);
      setProgress(job);
      if (job.state === "failed")
        throw new Error(
          `The redrive failed after ${plural(job.moved, "message")}: ${job.error ?? "no reason given"}`,
        );
      if (job.state === "done") return job;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  });
  if (!canAct) return null;
  return (
    <div class="actions">
      <button
        type="button"
        disabled={count === 0 || state.status === "running"}
        onClick={() => {
          clear();
          setProgress(undefined);
          setAsking(true);
        }}
      >
        Redrive all
      </button>
      {state.status === "running" ? (
        <p role="status" class="muted">
          Redriving… {progress ? `${plural(progress.moved, "message")} moved so far.` : null}
        </p>
      ) : null}
      {state.status === "done" ? (
        <p role="status" class="ok">
          {plural(state.data.moved, "message")} sent back to the event queue.
        </p>
      ) : null}
      {state.status === "error" ? <ErrorAlert error={state.error} /> : null}
      {asking ? (
        <ConfirmDialog
          title="Redrive the dead letters"
          confirmLabel="Confirm redrive"
          onConfirm={async () => {
            setAsking(false);
            if (await redrive()) onDone();
          }}
          onCancel={() => setAsking(false)}
        >
          <p>Redrive {plural(count, "message")}?</p>
          <p class="muted small">Each goes back to the event queue and its event is processed again.</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** GET /admin/dlq/redrive/{jobId}. */
interface RedriveJob {
  jobId: string;
  state: "running" | "done" | "failed";
  moved: number;
  error?: string;
}

function DeadLetterTable({ rows }: { rows: DeadLetter[] }) {
  return (
    <TableWrap label="Dead letters">
      <table>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Type</th>
            <th scope="col">Customer</th>
            <th scope="col">Reason</th>
            <th scope="col">Receives</th>
            <th scope="col">Sent</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const customerId = row.event?.customerId;
            return (
              <tr key={row.messageId}>
                <td class="id">{text(row.eventId)}</td>
                <td class="id">{text(row.event?.type)}</td>
                <td class="id">
                  {customerId ? <a href={href("customers", customerId)}>{customerId}</a> : text(row.groupId)}
                </td>
                <td class="wrap">{text(row.reason)}</td>
                <td>{text(row.receiveCount)}</td>
                <td>{date(row.sentAt)}</td>
                <td class="id small">{row.messageId}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableWrap>
  );
}
