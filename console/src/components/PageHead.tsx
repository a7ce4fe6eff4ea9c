import type { ComponentChildren } from "preact";

/** A page's heading with its Refresh button beside it. */
export function PageHead({ onRefresh, children }: { onRefresh: () => void; children: ComponentChildren }) {
  return (
    <div class="page-head">
      <h1>{children}</h1>
      <button type="button" class="small secondary" onClick={onRefresh}>
        Refresh
      </button>
    </div>
  );
}
