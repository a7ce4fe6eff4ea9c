import { request } from "../api.ts";
import { Show } from "../components/Loaded.tsx";
import { PageHead } from "../components/PageHead.tsx";
import { driftTotal, RunCounts } from "../components/RunCounts.tsx";
import { date, plural } from "../format.ts";
import { useLoad } from "../load.ts";
import { href } from "../router.ts";
import { useTitle } from "../title.ts";
import { LICENSE_STATES, type Overview as OverviewData } from "../types.ts";

/** `#/`: the state of the whole system at a glance. */
export function Overview() {
  useTitle("Overview");
  const [state, reload] = useLoad(() => request<OverviewData>("/admin/overview"), []);
  return (
    <>
      <PageHead onRefresh={reload}>Overview</PageHead>
      <Show state={state} what="the overview">
        {(data) => <OverviewCards data={data} />}
      </Show>
    </>
  );
}

function OverviewCards({ data }: { data: OverviewData }) {
  const { rateLimit, lastReconcile: run } = data;
  const states = [
    ...LICENSE_STATES,
    ...Object.keys(data.licenses).filter((s) => !(LICENSE_STATES as readonly string[]).includes(s)),
  ];
  return (
    <div class="cards">
      <section class="card" aria-labelledby="ov-licenses">
        <h2 id="ov-licenses">Licenses by state</h2>
        <dl class="counts">
          {states.map((name) => (
            <div class="count" key={name}>
              <dt>{name}</dt>
              <dd>{data.licenses[name as keyof OverviewData["licenses"]] ?? 0}</dd>
            </div>
          ))}
        </dl>
        {data.licensesPartial ? <p class="muted small">At least these many: some states hold more.</p> : null}
      </section>

      <section class="card" aria-labelledby="ov-events">
        <h2 id="ov-events">Events</h2>
        <p class="big">
          <a href={href("events", { status: "failed" })}>
            {plural(data.eventsFailed24h, "event")} failed in the last 24 h
          </a>
        </p>
        <h3>Dead letters</h3>
        <p class="big">
          <a href={href("dlq")}>{plural(data.dlq.approximateCount, "message")} in the DLQ</a>
        </p>
      </section>

      <section class="card" aria-labelledby="ov-reconcile">
        <h2 id="ov-reconcile">Last reconcile run</h2>
        {run ? (
          <>
            <p>
              <a href={href("reconcile", run.runId)} class="id">
                {run.runId}
              </a>
            </p>
            <p>
              {run.dryRun ? "Dry run" : "Repair"}, {run.state}, started {date(run.startedAt)}
              {run.finishedAt ? `, finished ${date(run.finishedAt)}` : ""}.{" "}
              {plural(driftTotal(run.counts), "finding")}.
            </p>
            {run.error ? <p class="alert error">{run.error}</p> : null}
            <RunCounts counts={run.counts} found />
          </>
        ) : (
          <p>No reconcile run yet.</p>
        )}
      </section>

      <section class="card" aria-labelledby="ov-rate">
        <h2 id="ov-rate">integrator.io rate limit</h2>
        <p class="big">
          {formatTokens(rateLimit.tokens)} / {rateLimit.capacity} tokens
        </p>
        <meter
          min={0}
          max={rateLimit.capacity}
          value={rateLimit.tokens}
          aria-label="Tokens left in the bucket"
        />
        <dl class="facts">
          <dt>Refill</dt>
          <dd>{rateLimit.refillPerSecond} per second</dd>
          <dt>Paused until</dt>
          <dd class={rateLimit.pausedUntil ? "drift" : undefined}>{date(rateLimit.pausedUntil)}</dd>
          <dt>Updated</dt>
          <dd>{date(rateLimit.updatedAt)}</dd>
        </dl>
      </section>
      <p class="muted small wide">Generated {date(data.generatedAt)}.</p>
    </div>
  );
}

const formatTokens = (tokens: number) => (Number.isInteger(tokens) ? String(tokens) : tokens.toFixed(1));
