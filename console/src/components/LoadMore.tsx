import type { PagedList } from "../load.ts";
import { ErrorAlert } from "./ErrorAlert.tsx";

/** "Load more" under a list while the API names a next page. */
export function LoadMore<T>({ list }: { list: PagedList<T> }) {
  const { state, moreState, more } = list;
  if (state.status !== "done") return null;
  return (
    <div class="load-more">
      {moreState.status === "error" ? <ErrorAlert error={moreState.error} /> : null}
      {state.data.nextCursor ? (
        <button type="button" class="secondary" disabled={moreState.status === "running"} onClick={more}>
          {moreState.status === "running" ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </div>
  );
}
