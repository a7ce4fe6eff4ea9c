import type { CustomerView, DlqMessage, EventSummary } from "#lib/admin/schemas.ts";
import type { Command } from "./args.ts";
import type { CatalogStripeCommand } from "./catalog-stripe.ts";
import type { AdminClient } from "./client.ts";
import {
  type CustomerMatch,
  type CustomerReconcileResult,
  catalogReport,
  customerReconcileReport,
  customerReport,
  customersTable,
  dlqTable,
  eventsTable,
  type InstallRow,
  installsTable,
  type LicenseRow,
  type ListingsSyncResult,
  licensesTable,
  listingsSyncReport,
  type Overview,
  overviewReport,
  type ReconcileRunView,
  type RunSummary,
  reconcileProgress,
  reconcileReport,
  reconcileRunsTable,
} from "./format.ts";
import { runOperatorsCommand } from "./operators.ts";

/** Where a command writes: results to `out` (stdout), progress and notes to `err` (stderr). */
export interface CliOutput {
  /** A result: `text` and a newline. */
  out(text: string): void;
  /** Raw text on stderr (progress rewrites its line with `\r`). */
  err(text: string): void;
  /** stderr is a terminal: progress rewrites one line instead of printing many. */
  interactive: boolean;
}

export interface CommandContext {
  client: AdminClient;
  output: CliOutput;
  json: boolean;
  /** How often a running reconcile is polled. */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

type Page<T> = { data: T[]; nextCursor?: string };

const segment = encodeURIComponent;
const print = (ctx: CommandContext, value: unknown, human: () => string) =>
  ctx.output.out(ctx.json ? JSON.stringify(value, null, 2) : human());

/** One page, or with `all` every page (`nextCursor` followed until the end). */
export async function listPages<T>(
  ctx: CommandContext,
  path: string,
  query: Record<string, string | undefined>,
  all: boolean,
): Promise<Page<T>> {
  const first = await ctx.client.get<Page<T>>(path, query);
  if (!all) return first;
  const data = [...first.data];
  for (let cursor = first.nextCursor; cursor; ) {
    const page = await ctx.client.get<Page<T>>(path, { ...query, cursor });
    data.push(...page.data);
    cursor = page.nextCursor;
  }
  return { data };
}

function moreNote(ctx: CommandContext, page: Page<unknown>): void {
  if (page.nextCursor && !ctx.json) ctx.output.err(`more: add --cursor ${page.nextCursor} (or --all)\n`);
}

/** Carries out a parsed command against the admin API; returns the exit code. */
export async function runCommand(
  command: Exclude<Command, { name: "help" | "version" | CatalogStripeCommand["name"] }>,
  ctx: CommandContext,
): Promise<number> {
  const { client } = ctx;
  switch (command.name) {
    case "overview": {
      const overview = await client.get<Overview>("/admin/overview");
      print(ctx, overview, () => overviewReport(overview));
      return 0;
    }
    case "customers search": {
      const { query: q, limit, cursor } = command;
      const page = await listPages<CustomerMatch>(ctx, "/admin/customers", { q, limit, cursor }, command.all);
      print(ctx, page, () => customersTable(page.data));
      moreNote(ctx, page);
      return 0;
    }
    case "customers reconcile": {
      const result = await client.post<CustomerReconcileResult>(
        `/admin/customers/${segment(command.customerId)}/reconcile`,
        { dryRun: command.dryRun },
      );
      print(ctx, result, () => customerReconcileReport(result));
      return 0;
    }
    case "installs list": {
      const { connector, email, limit, cursor } = command;
      const page = await listPages<InstallRow>(
        ctx,
        "/admin/installs",
        { connector, email, limit, cursor },
        command.all,
      );
      print(ctx, page, () => installsTable(page.data));
      moreNote(ctx, page);
      return 0;
    }
    case "reconcile list": {
      const { limit, cursor } = command;
      const page = await listPages<RunSummary>(ctx, "/admin/reconcile", { limit, cursor }, command.all);
      print(ctx, page, () => reconcileRunsTable(page.data));
      moreNote(ctx, page);
      return 0;
    }
    case "catalog show": {
      const catalog = await client.get<{ connectors: Record<string, unknown>[]; policy: unknown }>(
        "/admin/catalog",
      );
      print(ctx, catalog, () => catalogReport(catalog));
      return 0;
    }
    case "listings sync": {
      const result = await client.post<ListingsSyncResult>("/admin/listings/sync");
      print(ctx, result, () => listingsSyncReport(result));
      return 0;
    }
    case "billing portal": {
      // The URL alone on stdout: `open "$(integrator-licensing billing portal cus_1 --return-url ...)"`.
      const session = await client.post<{ url: string }>("/admin/billing/portal-sessions", {
        customerId: command.customerId,
        returnUrl: command.returnUrl,
      });
      print(ctx, session, () => session.url);
      return 0;
    }
    case "customers show": {
      const view = await client.get<CustomerView>(`/admin/customers/${segment(command.customerId)}`);
      print(ctx, view, () => customerReport(view));
      return 0;
    }
    case "licenses list": {
      const { email, connector, state, limit, cursor } = command;
      const page = await listPages<LicenseRow>(
        ctx,
        "/admin/licenses",
        { email, connector, state, limit, cursor },
        command.all,
      );
      print(ctx, page, () => licensesTable(page.data));
      moreNote(ctx, page);
      return 0;
    }
    case "licenses transfer": {
      const license = await client.post<LicenseRow>(
        `/admin/customers/${segment(command.customerId)}/licenses/${segment(command.connector)}/transfer`,
        { email: command.email },
      );
      print(
        ctx,
        license,
        () =>
          `Moved ${command.customerId}'s ${command.connector} license to ${license.email}${license.state === "pending_user" ? " (pending: that email has no integrator.io account yet; reconcile retries it)" : ""}.\n${licensesTable([license])}`,
      );
      return 0;
    }
    case "events list": {
      const { status, type, limit, cursor } = command;
      const page = await listPages<EventSummary>(
        ctx,
        "/admin/events",
        { status, type, limit, cursor },
        command.all,
      );
      print(ctx, page, () => eventsTable(page.data));
      moreNote(ctx, page);
      return 0;
    }
    case "events replay": {
      const queued = await client.post<{ eventId: string; deduplicationId: string }>(
        `/admin/events/${segment(command.eventId)}/replay`,
      );
      print(
        ctx,
        queued,
        () => `Queued ${queued.eventId} again (deduplication id ${queued.deduplicationId}).`,
      );
      return 0;
    }
    case "reconcile":
      return reconcile(command.dryRun, command.wait, ctx);
    case "reconcile show": {
      const run = await client.get<ReconcileRunView>(`/admin/reconcile/${segment(command.runId)}`);
      print(ctx, run, () => reconcileReport(run));
      return run.state === "failed" ? 1 : 0;
    }
    case "dlq list": {
      const list = await client.get<{ data: DlqMessage[]; approximateTotal: number }>("/admin/dlq", {
        limit: command.limit,
      });
      print(ctx, list, () => dlqTable(list));
      return 0;
    }
    case "dlq redrive":
      return redrive(command.wait, ctx);
    case "dlq show": {
      const job = await client.get<RedriveJobView>(`/admin/dlq/redrive/${segment(command.jobId)}`);
      print(ctx, job, () => redriveLine(job));
      return job.state === "failed" ? 1 : 0;
    }
    case "operators add":
    case "operators list":
    case "operators revoke":
      return runOperatorsCommand(command, ctx);
  }
}

/**
 * Starts a run, then (unless `wait` is false) polls it, showing progress on stderr, until it is
 * done or failed; prints the drift report. A failed run exits 1.
 */
interface RedriveJobView {
  jobId: string;
  state: "running" | "done" | "failed";
  moved: number;
  error?: string;
}

const redriveLine = (job: RedriveJobView) =>
  job.state === "running"
    ? `Redrive ${job.jobId}: running, ${job.moved} message(s) moved so far`
    : job.state === "done"
      ? job.moved === 0
        ? `Redrive ${job.jobId}: done; the DLQ was empty.`
        : `Redrive ${job.jobId}: done; moved ${job.moved} message(s) back to the event queue, the worker processes them now.`
      : `Redrive ${job.jobId}: failed after ${job.moved} message(s): ${job.error ?? "no reason given"}`;

/** POST /admin/dlq/redrive starts a job: its id, or with `wait` its progress until it ends. */
async function redrive(wait: boolean, ctx: CommandContext): Promise<number> {
  const { client, output } = ctx;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const { jobId } = await client.post<{ jobId: string; location: string }>("/admin/dlq/redrive");
  if (!wait) {
    print(ctx, { jobId }, () => `Started redrive ${jobId}; see it with: dlq show ${jobId}`);
    return 0;
  }
  for (;;) {
    const job = await client.get<RedriveJobView>(`/admin/dlq/redrive/${segment(jobId)}`);
    if (job.state !== "running") {
      print(ctx, job, () => redriveLine(job));
      return job.state === "failed" ? 1 : 0;
    }
    if (!ctx.json) output.err(`${redriveLine(job)}\n`);
    await sleep(ctx.pollMs ?? 1000);
  }
}

async function reconcile(dryRun: boolean, wait: boolean, ctx: CommandContext): Promise<number> {
  const { client, output } = ctx;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const now = ctx.now ?? Date.now;
  const { runId } = await client.post<{ runId: string }>("/admin/reconcile", { dryRun });
  if (!wait) {
    print(
      ctx,
      { runId },
      () => `Started reconcile ${runId}${dryRun ? " (dry run)" : ""}; see it with: reconcile show ${runId}`,
    );
    return 0;
  }
  const started = now();
  let last = "";
  for (;;) {
    const run = await client.get<ReconcileRunView>(`/admin/reconcile/${segment(runId)}`);
    const line = reconcileProgress(run, now() - started);
    if (output.interactive) output.err(`\r\u001b[2K${line}${run.state === "running" ? "" : "\n"}`);
    else if (line.replace(/, \d+ s$/, "") !== last.replace(/, \d+ s$/, "")) output.err(`${line}\n`);
    last = line;
    if (run.state !== "running") {
      print(ctx, run, () => reconcileReport(run));
      if (run.state === "failed") {
        if (!ctx.json) output.err(`reconcile ${runId} failed: ${run.error ?? "no reason given"}\n`);
        return 1;
      }
      return 0;
    }
    await sleep(ctx.pollMs ?? 1000);
  }
}
