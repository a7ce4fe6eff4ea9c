import { createDocumentClient } from "#lib/aws.ts";
import { loadConfig } from "#lib/config.ts";
import { AuditTrail } from "#lib/store/audit.ts";
import { Customers } from "#lib/store/customers.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Inbox } from "#lib/store/inbox.ts";
import { Leases } from "#lib/store/leases.ts";
import { Licenses } from "#lib/store/licenses.ts";
import { type DriftItem, ReconcileRuns } from "#lib/store/reconcile-runs.ts";
import {
  connectorLicenses,
  createIntegratorUser,
  eventually,
  integratorApi,
  type TestStack,
} from "./local-stack.ts";

/** The catalog's connector (local/catalog.json). */
export const CONNECTOR = { key: "shopify-netsuite", id: "65f1c0a2b7d94e3a1c8b7d20" } as const;

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** A call to the stack's API with the admin token (or `token`: null sends none). */
export async function adminApi<T = Record<string, unknown>>(
  stack: TestStack,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = stack.adminToken,
): Promise<ApiAnswer<T>> {
  const response = await fetch(`${stack.urls.api}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as T,
    headers: response.headers,
  };
}

export interface RunReport {
  runId: string;
  state: "running" | "done" | "failed";
  dryRun: boolean;
  counts: Record<string, number>;
  items: DriftItem[];
  error?: string;
}

/** Starts a reconcile run through the admin API and waits for its report. */
export async function reconcile(stack: TestStack, dryRun = false): Promise<RunReport> {
  const started = await adminApi<{ runId: string }>(stack, "POST", "/admin/reconcile", { dryRun });
  if (started.status !== 202)
    throw new Error(`POST /admin/reconcile: ${started.status} ${JSON.stringify(started.body)}`);
  return eventually(
    async () => {
      const run = await adminApi<RunReport>(stack, "GET", `/admin/reconcile/${started.body.runId}`);
      return run.body.state === "running" ? undefined : run.body;
    },
    { what: "the reconcile run to finish", timeoutMs: 60_000, intervalMs: 250 },
  );
}

/** The findings of a report about one customer. */
export const itemsFor = (report: RunReport, customerId: string) =>
  report.items.filter((item) => item.customerId === customerId);

/** The store of a running stack, read the way the functions read it. */
export function storeOf(stack: TestStack, clock?: () => number) {
  const table = new Table(createDocumentClient(loadConfig(stack.env)), stack.config.tableName, clock);
  return {
    table,
    inbox: new Inbox(table),
    licenses: new Licenses(table),
    customers: new Customers(table),
    runs: new ReconcileRuns(table),
    leases: new Leases(table),
  };
}

/** Unique emails: the simulators are shared by the tests of one file. */
export const uniqueEmail = (label: string) =>
  `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;

export type SimLicense = Awaited<ReturnType<typeof connectorLicenses>>[number];

/** The licenses of one email in the simulator. */
export async function licensesOf(stack: TestStack, email: string): Promise<SimLicense[]> {
  return (await connectorLicenses(stack, CONNECTOR.id)).filter((l) => l.user.email === email);
}

/** Waits until the email has exactly one license and it satisfies `accept`. */
export function licenseWhere(
  stack: TestStack,
  email: string,
  accept: (license: SimLicense) => boolean,
  what: string,
) {
  return eventually(
    async () => {
      const licenses = await licensesOf(stack, email);
      if (licenses.length > 1) throw new Error(`${licenses.length} licenses for ${email}`);
      const [license] = licenses;
      return license && accept(license) ? license : undefined;
    },
    { what, timeoutMs: 45_000 },
  );
}

/**
 * A purchase as a buyer makes it: an integrator.io account (unless `account: false`), a Stripe
 * customer and a subscription. Waits for the license unless told not to.
 */
export async function purchase(
  stack: TestStack,
  label: string,
  options: { account?: boolean; price?: string; clock?: string; waitForLicense?: boolean } = {},
) {
  const email = uniqueEmail(label);
  if (options.account !== false) await createIntegratorUser(stack, email);
  const customer = await stack.stripe.customers.create({
    email,
    ...(options.clock ? { test_clock: options.clock } : {}),
  });
  const subscription = await stack.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: options.price ?? "price_std_month" }],
  });
  const license =
    options.account !== false && options.waitForLicense !== false
      ? await licenseWhere(stack, email, () => true, `the license of ${email}`)
      : undefined;
  if (license) {
    // integrator.io has it a moment before the worker has recorded (and audited) it.
    const store = storeOf(stack);
    const audit = new AuditTrail(store.table);
    await eventually(
      async () =>
        (await store.licenses.get(customer.id, CONNECTOR.key))?.licenseId === license._id &&
        (await audit.forCustomer(customer.id)).length > 0,
      { what: `the recorded license of ${email}` },
    );
  }
  return { email, customer, subscription, license };
}

/** A license issued straight in integrator.io with the vendor token (as a comped or partner license is). */
export async function issueLicenseDirectly(
  stack: TestStack,
  email: string,
  expires: string,
  opts: Record<string, unknown>,
) {
  await createIntegratorUser(stack, email);
  const created = await integratorApi<SimLicense>(stack, "POST", `/connectors/${CONNECTOR.id}/licenses`, {
    email,
    expires,
    opts,
  });
  if (created.status !== 201) throw new Error(`license create: ${created.status}`);
  return created.body;
}

/** Pauses (or resumes) the Stripe simulator's webhook deliveries. */
export async function pauseDelivery(stack: TestStack, paused: boolean) {
  const response = await fetch(`${stack.urls.stripe}/_sim/delivery`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ paused }),
  });
  if (!response.ok) throw new Error(`PUT /_sim/delivery: ${response.status}`);
}

export const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
