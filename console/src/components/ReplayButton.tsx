import { request, segment } from "../api.ts";
import { useAction } from "../load.ts";
import { ErrorAlert } from "./ErrorAlert.tsx";

/** "Replay" for one inbox event: queues it again for the worker and says so. */
export function ReplayButton({ eventId, onReplayed }: { eventId: string; onReplayed?: () => void }) {
  const [state, replay] = useAction(() =>
    request<{ eventId: string }>(`/admin/events/${segment(eventId)}/replay`, { method: "POST" }),
  );
  return (
    <div class="replay">
      <button
        type="button"
        class="small"
        disabled={state.status === "running"}
        onClick={async () => {
          if (await replay()) onReplayed?.();
        }}
      >
        Replay<span class="visually-hidden"> event {eventId}</span>
      </button>
      {state.status === "running" ? (
        <span class="muted small" role="status">
          Replaying…
        </span>
      ) : null}
      {state.status === "done" ? (
        <span class="ok small" role="status">
          Queued again.
        </span>
      ) : null}
      {state.status === "error" ? <ErrorAlert error={state.error} /> : null}
    </div>
  );
}
