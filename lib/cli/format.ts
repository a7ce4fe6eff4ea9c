import type { z } from "zod/mini";
import type { Operator } from "#lib/access/operators.ts";
import type {
  CustomerMatch,
  CustomerReconcileResult,
  CustomerView,
  DlqMessage,
  EventSummary,
  LicenseListQuery,
  Overview,
  RunSummary,
  reconcileRunSchema,
} from "#lib/admin/schemas.ts";
import type { installRecordSchema } from "#lib/extension/install-schemas.ts";
import type { ListingsSyncResult } from "#lib/marketplace/schemas.ts";

export type LicenseRow = CustomerView["licenses"][number];
export type ReconcileRunView = z.infer<typeof reconcileRunSchema>;
export type InstallRow = z.infer<typeof installRecordSchema>;
export type {
  CustomerMatch,
  CustomerReconcileResult,
  DlqMessage,
  EventSummary,
  LicenseListQuery,
  ListingsSyncResult,
  Operator,
  Overview,
  RunSummary,
};

/** A cell's text: empty for nothing, cut with an ellipsis past `max` characters, on one line. */
function cell(value: unknown, max: number): string {
  if (value === undefined || value === null || value === "") return "";
  const text = (typeof value === "string" ? value : JSON.stringify(value)).replace(/\s+/g, " ");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Longest cell before it is cut (ids are never long enough to be cut). */
  max?: number;
}

/**
 * A plain-text table: a header, one line per row, columns padded to their widest cell.
 *
 * @example table([{ id: "a", n: 1 }], [{ header: "ID", value: (r) => r.id }, { header: "N", value: (r) => r.n }])
 * // "ID  N\na   1"
 */
export function table<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row), column.max ?? 80)));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  const render = (line: string[]) =>
    line
      .map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [render(columns.map((column) => column.header)), ...cells.map(render)].join("\n");
}

/** A Unix-seconds or ISO time as `2026-11-15 12:00:00Z` (UTC, to the second). */
export function time(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime())
    ? String(value)
    : date
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "Z");
}

const nothing = (what: string) => `(no ${what})`;

export const licenseColumns: Column<LicenseRow>[] = [
  { header: "CUSTOMER", value: (l) => l.customerId },
  { header: "CONNECTOR", value: (l) => l.connectorKey },
  { header: "EMAIL", value: (l) => l.email, max: 60 },
  { header: "STATE", value: (l) => l.state },
  { header: "EDITION", value: (l) => (l.opts as { connectorEdition?: unknown }).connectorEdition },
  { header: "EXPIRES", value: (l) => time(l.expires) },
  { header: "LICENSE", value: (l) => l.licenseId },
  { header: "REASON", value: (l) => l.reason, max: 60 },
];

export function licensesTable(licenses: LicenseRow[]): string {
  return licenses.length === 0 ? nothing("licenses") : table(licenses, licenseColumns);
}

export function eventsTable(events: EventSummary[]): string {
  if (events.length === 0) return nothing("events");
  return table(events, [
    { header: "EVENT", value: (e) => e.eventId },
    { header: "TYPE", value: (e) => e.type },
    { header: "STATUS", value: (e) => e.status },
    { header: "CUSTOMER", value: (e) => e.customerId },
    { header: "ATTEMPTS", value: (e) => e.attempts },
    { header: "RECEIVED", value: (e) => time(e.receivedAt) },
    { header: "REASON", value: (e) => e.reason, max: 100 },
  ]);
}

export function dlqTable(list: { data: DlqMessage[]; approximateTotal: number }): string {
  const head = `${list.approximateTotal} message(s) in the DLQ (SQS's approximate count; a FIFO DLQ shows the first of each customer)`;
  if (list.data.length === 0) return `${head}\n${nothing("dead letters")}`;
  return `${head}\n${table(list.data, [
    { header: "EVENT", value: (m) => m.eventId },
    { header: "TYPE", value: (m) => m.event?.type },
    { header: "CUSTOMER", value: (m) => m.groupId },
    { header: "RECEIVES", value: (m) => m.receiveCount },
    { header: "SENT", value: (m) => time(m.sentAt) },
    { header: "REASON", value: (m) => m.reason, max: 100 },
  ])}`;
}

const installColumns: Column<Partial<InstallRow>>[] = [
  { header: "INTEGRATION", value: (i) => i.integrationId },
  { header: "CONNECTOR", value: (i) => i.connectorKey },
  { header: "STATE", value: (i) => i.state },
  { header: "EDITION", value: (i) => i.edition },
  { header: "VERSION", value: (i) => i.version },
  { header: "EMAIL", value: (i) => i.email, max: 60 },
];

/** Installs as GET /admin/installs lists them: the customer's columns, and whose and when. */
export function installsTable(installs: InstallRow[]): string {
  if (installs.length === 0) return nothing("installs");
  return table(installs, [
    ...installColumns,
    { header: "CUSTOMER", value: (i) => i.customerId },
    { header: "LICENSE", value: (i) => i.licenseId },
    { header: "UPDATED", value: (i) => time(i.updatedAt) },
  ]);
}

/** Customers a search found, with what matched and a line of their subscriptions and licenses. */
export function customersTable(matches: CustomerMatch[]): string {
  if (matches.length === 0) return nothing("customers found");
  return table(matches, [
    { header: "CUSTOMER", value: (m) => m.customerId },
    { header: "EMAIL", value: (m) => m.email, max: 60 },
    { header: "MATCHED BY", value: (m) => m.matchedBy },
    {
      header: "SUBSCRIPTIONS",
      value: (m) => m.subscriptions.map((s) => `${s.subscriptionId} ${s.status}`).join(", "),
      max: 100,
    },
    {
      header: "LICENSES",
      value: (m) => m.licenses.map((l) => `${l.connectorKey} ${l.state} ${l.email}`).join(", "),
      max: 120,
    },
  ]);
}

/** One customer's reconcile: what was found and, for a repair, how much was repaired. */
export function customerReconcileReport(result: CustomerReconcileResult): string {
  const head = `Reconciled ${result.customerId} (${result.dryRun ? "dry run: nothing was changed" : `repair: ${result.repaired} repaired`}): ${result.findings.length} finding(s)`;
  if (result.findings.length === 0) return `${head}\nNo drift found.`;
  return `${head}\n${table(result.findings, [
    { header: "KIND", value: (f) => f.kind },
    { header: "CONNECTOR", value: (f) => f.connectorKey },
    { header: "REF", value: (f) => f.licenseId ?? f.eventId ?? f.subscriptionId },
    { header: "DETAIL", value: (f) => f.detail, max: 400 },
  ])}`;
}

/** Reconcile runs as GET /admin/reconcile lists them, newest first. */
export function reconcileRunsTable(runs: RunSummary[]): string {
  if (runs.length === 0) return nothing("reconcile runs");
  return table(runs, [
    { header: "RUN", value: (r) => r.runId },
    { header: "STATE", value: (r) => r.state },
    { header: "MODE", value: (r) => (r.dryRun ? "dry run" : "repair") },
    { header: "TRIGGER", value: (r) => r.trigger },
    { header: "BY", value: (r) => r.requestedBy },
    { header: "STARTED", value: (r) => time(r.startedAt) },
    { header: "FINISHED", value: (r) => time(r.finishedAt) },
    { header: "CHECKED", value: (r) => r.counts.checked },
    { header: "FINDINGS", value: (r) => r.itemCount },
    { header: "ERROR", value: (r) => r.error, max: 80 },
  ]);
}

/** The system at a glance, as GET /admin/overview tells it. */
export function overviewReport(overview: Overview): string {
  const states = Object.entries(overview.licenses)
    .map(([state, n]) => `${state} ${n}`)
    .join(", ");
  const run = overview.lastReconcile;
  const bucket = overview.rateLimit;
  return [
    `Licenses: ${states}${overview.licensesPartial ? " (lower bounds: a state holds more than one request counts)" : ""}`,
    `Events failed in the last 24 h: ${overview.eventsFailed24h}`,
    `DLQ: ${overview.dlq.approximateCount} message(s) (approximate)`,
    run
      ? `Last reconcile: ${run.runId} (${run.dryRun ? "dry run" : "repair"}, ${run.trigger}) ${run.state}, started ${time(run.startedAt)}, ${run.counts.checked} checked, ${run.itemCount} finding(s)${run.error ? `, error: ${run.error}` : ""}`
      : "Last reconcile: none yet",
    `integrator.io rate limit: ${Math.floor(bucket.tokens)} of ${bucket.capacity} tokens, ${bucket.refillPerSecond}/s${bucket.pausedUntil ? `, paused until ${time(bucket.pausedUntil)}` : ""}`,
    `(as of ${time(overview.generatedAt)})`,
  ].join("\n");
}

/** A catalog price as the catalog names it: a `price_` id or lookup key, or an object with a lookup key. */
function priceName(price: unknown): string {
  if (typeof price === "string") return price;
  const lookupKey = (price as { lookupKey?: unknown } | null)?.lookupKey;
  return typeof lookupKey === "string" ? lookupKey : JSON.stringify(price);
}

interface CatalogEntry {
  key?: string;
  name?: string;
  prices?: unknown[];
}

/** The catalog in force: a line per edition and add-on of each connector, then the policy. */
export function catalogReport(catalog: { connectors: Record<string, unknown>[]; policy: unknown }): string {
  const rows = catalog.connectors.flatMap((connector) => {
    const entries = (kind: string, list: unknown) =>
      (Array.isArray(list) ? (list as CatalogEntry[]) : []).map((entry) => ({
        connector: connector.key,
        connectorId: connector.connectorId,
        kind,
        key: entry.key,
        name: entry.name,
        prices: (entry.prices ?? []).map(priceName).join(", "),
      }));
    return [...entries("edition", connector.editions), ...entries("add-on", connector.addons)];
  });
  const lines = [
    `${catalog.connectors.length} connector(s)`,
    rows.length === 0
      ? nothing("editions")
      : table(rows, [
          { header: "CONNECTOR", value: (r) => r.connector },
          { header: "CONNECTOR ID", value: (r) => r.connectorId },
          { header: "KIND", value: (r) => r.kind },
          { header: "KEY", value: (r) => r.key },
          { header: "NAME", value: (r) => r.name, max: 40 },
          { header: "PRICES", value: (r) => r.prices, max: 200 },
        ]),
    "",
    `Policy: ${cell(catalog.policy, 400)}`,
  ];
  return lines.join("\n");
}

/** What a listings sync served, and what it left out. */
export function listingsSyncReport(result: ListingsSyncResult): string {
  const lines = [
    `Listings synced ${time(result.syncedAt)}: ${result.connectors} connector(s), ${result.templates} template(s) served (${result.changed ? "changed" : "unchanged"}, generation ${result.generation})`,
  ];
  if (result.problems.length > 0) {
    lines.push(`Left out (${result.problems.length}):`, ...result.problems.map((problem) => `  ${problem}`));
  }
  return lines.join("\n");
}

/** The active operators (never their tokens). */
export function operatorsTable(operators: Operator[]): string {
  if (operators.length === 0) return nothing("operators");
  return table(operators, [
    { header: "NAME", value: (o) => o.name },
    { header: "ROLE", value: (o) => o.role },
    { header: "CREATED", value: (o) => time(o.createdAt) },
    { header: "CREATED BY", value: (o) => o.createdBy },
  ]);
}

/** One customer: profile, then a section per kind of record. */
export function customerReport(view: CustomerView): string {
  const profile = view.profile;
  const lines = [
    `Customer ${view.customerId}${profile?.deleted ? " (deleted in Stripe)" : ""}`,
    `  email: ${profile?.email ?? "(unknown)"}`,
  ];
  if (profile?.metadata.integrator_email)
    lines.push(`  integrator_email: ${profile.metadata.integrator_email}`);
  if (profile?.checkoutEmail) lines.push(`  checkout email: ${profile.checkoutEmail}`);
  if (!profile) lines.push("  (no customer event stored yet)");
  lines.push("", "Subscriptions");
  lines.push(
    view.subscriptions.length === 0
      ? nothing("subscriptions")
      : table(view.subscriptions, [
          { header: "SUBSCRIPTION", value: (s) => s.subscriptionId },
          {
            header: "STATUS",
            value: (s) => `${s.status}${s.cancelAtPeriodEnd ? " (cancels at period end)" : ""}`,
          },
          {
            header: "ITEMS",
            value: (s) =>
              s.items
                .map((i) => `${i.lookupKey ?? i.price}${i.quantity > 1 ? ` ×${i.quantity}` : ""}`)
                .join(", "),
          },
          {
            header: "PERIOD END",
            value: (s) => time(Math.max(0, ...s.items.map((i) => i.currentPeriodEnd))),
          },
          { header: "EMAIL", value: (s) => s.integratorEmail },
        ]),
  );
  lines.push("", "Licenses", licensesTable(view.licenses));
  if (view.installs) {
    lines.push("", "Installs");
    lines.push(
      view.installs.length === 0
        ? nothing("installs")
        : table(view.installs as Partial<InstallRow>[], installColumns),
    );
  }
  const shown = view.audit.slice(0, 15);
  lines.push(
    "",
    `Audit trail (newest first${view.audit.length > shown.length ? `, ${shown.length} of ${view.audit.length}` : ""})`,
  );
  lines.push(
    shown.length === 0
      ? nothing("audit entries")
      : table(shown, [
          { header: "AT", value: (a) => time(a.at) },
          { header: "ACTION", value: (a) => a.action },
          { header: "CONNECTOR", value: (a) => a.connectorKey },
          { header: "LICENSE", value: (a) => a.licenseId },
          { header: "CAUSE", value: (a) => a.cause, max: 40 },
        ]),
  );
  return lines.join("\n");
}

/** The progress line of a running reconcile. */
export function reconcileProgress(
  run: Pick<ReconcileRunView, "runId" | "state" | "counts" | "itemCount">,
  elapsedMs: number,
): string {
  return `reconcile ${run.runId}: ${run.state}, ${run.counts.checked} license(s) checked, ${run.itemCount} finding(s), ${Math.round(elapsedMs / 1000)} s`;
}

/** A finished run: its outcome, the counts, then every finding shown. */
export function reconcileReport(run: ReconcileRunView): string {
  const lines = [
    `Reconcile ${run.runId} (${run.dryRun ? "dry run: nothing was changed" : "repair"}, ${run.trigger}): ${run.state}`,
    `  started ${time(run.startedAt)}${run.finishedAt ? `, finished ${time(run.finishedAt)}` : ""}`,
  ];
  if (run.error) lines.push(`  error: ${run.error}`);
  lines.push(
    "",
    table(Object.entries(run.counts), [
      { header: "COUNT", value: ([key]) => key },
      { header: "N", value: ([, n]) => String(n) },
    ]),
  );
  lines.push(
    "",
    run.items.length === 0
      ? "No drift found."
      : `Findings${run.itemsTruncated ? ` (first ${run.items.length} of ${run.itemCount})` : ""}`,
  );
  if (run.items.length > 0) {
    lines.push(
      table(run.items, [
        { header: "KIND", value: (i) => i.kind },
        { header: "CUSTOMER", value: (i) => i.customerId },
        { header: "CONNECTOR", value: (i) => i.connector },
        { header: "REF", value: (i) => i.licenseId ?? i.eventId ?? i.subscriptionId },
        { header: "DETAIL", value: (i) => i.detail, max: 400 },
      ]),
    );
  }
  return lines.join("\n");
}
