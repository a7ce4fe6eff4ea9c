/**
 * A reconcile run's counts as "kind n" pairs; a count of drift above 0 stands out. `found`: only
 * `checked` and the kinds that found something.
 */
export function RunCounts({ counts, found = false }: { counts: Record<string, number>; found?: boolean }) {
  const entries = Object.entries(counts).filter(([key, value]) => !found || key === "checked" || value > 0);
  if (entries.length === 0) return <p class="muted">No counts.</p>;
  return (
    <dl class="counts">
      {entries.map(([key, value]) => (
        <div class={value > 0 && key !== "checked" ? "count drift" : "count"} key={key}>
          <dt>{key}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The drift a run found: every count but `checked`. */
export function driftTotal(counts: Record<string, number>): number {
  return Object.entries(counts).reduce((sum, [key, value]) => (key === "checked" ? sum : sum + value), 0);
}
