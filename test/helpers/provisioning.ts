import { createDocumentClient } from "#lib/aws.ts";
import { loadConfig } from "#lib/config.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Inbox } from "#lib/store/inbox.ts";
import { Licenses } from "#lib/store/licenses.ts";
import { connectorLicenses, eventually, type TestStack } from "./local-stack.ts";

/** The catalog's connector (local/catalog.json). */
export const CONNECTOR = { key: "shopify-netsuite", id: "65f1c0a2b7d94e3a1c8b7d20" } as const;
export const DAY = 86_400;

/** The store of a running stack, read the way the functions read it. */
export function storeOf(stack: TestStack) {
  const table = new Table(createDocumentClient(loadConfig(stack.env)), stack.config.tableName);
  return { table, inbox: new Inbox(table), licenses: new Licenses(table) };
}

/** Unique emails per test run: simulators are shared by the tests of one file. */
export const uniqueEmail = (label: string) =>
  `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;

export type SimLicense = Awaited<ReturnType<typeof connectorLicenses>>[number];

/** The licenses of one email in the simulator. */
export async function licensesOf(stack: TestStack, email: string): Promise<SimLicense[]> {
  return (await connectorLicenses(stack, CONNECTOR.id)).filter((l) => l.user.email === email);
}

/** Waits until the email's only license satisfies `accept` (and fails on a second license). */
export async function licenseWhere(
  stack: TestStack,
  email: string,
  accept: (license: SimLicense) => boolean,
  what: string,
): Promise<SimLicense> {
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

export const isoSeconds = (seconds: number) => new Date(seconds * 1000).toISOString();
export const sameInstant = (a: string, seconds: number) => Math.floor(Date.parse(a) / 1000) === seconds;
