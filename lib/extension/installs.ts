import { normalizeEmail } from "#lib/licensing/license.ts";
import {
  InvalidCursorError,
  type Item,
  isConditionFailure,
  type Page,
  type Table,
  withoutKeys,
} from "#lib/store/dynamo.ts";

/** Where an install of an integration app stands in our store. */
export type InstallState = "installing" | "installed" | "uninstalling" | "removed";

/** One integration installed from one of the vendor's connectors. */
export type InstallRecord = {
  /** integrator.io `_integrationId` of the installed integration. */
  integrationId: string;
  connectorId: string;
  connectorKey: string;
  licenseId: string;
  /** The license's email, normalised. */
  email: string;
  /** The Stripe customer, when the license is one our store issued. */
  customerId?: string;
  edition?: string;
  version?: string;
  sandbox?: boolean;
  state: InstallState;
  /** When the installer first ran for this integration. */
  createdAt: string;
  /** When every install step was completed. */
  installedAt?: string;
  removedAt?: string;
  updatedAt: string;
};

export type NewInstall = Omit<
  InstallRecord,
  "state" | "createdAt" | "updatedAt" | "installedAt" | "removedAt"
>;
export type InstallChanges = Partial<
  Pick<InstallRecord, "state" | "edition" | "version" | "installedAt" | "removedAt">
>;

const pk = (integrationId: string) => `INSTALL#${integrationId}`;
const SK = "INSTALL";
const connectorIndex = (connectorId: string) => `INSTALLS#CONNECTOR#${connectorId}`;
const emailIndex = (email: string) => `INSTALLS#EMAIL#${normalizeEmail(email)}`;

/**
 * Install records in the single table: `INSTALL#<integrationId>`, indexed by connector (gsi1,
 * newest first) and by email (gsi2, sorted by connector then date, so one email's installs of one
 * connector are a key prefix).
 */
export class Installs {
  constructor(private readonly table: Table) {}

  async get(integrationId: string): Promise<InstallRecord | undefined> {
    const item = await this.table.get(pk(integrationId), SK);
    return item ? withoutKeys<InstallRecord>(item) : undefined;
  }

  /**
   * Records an install as `installing`. Running the installer again for the same integration
   * (integrator.io retrying) keeps its `createdAt` and its state, so an install completes once.
   */
  async begin(install: NewInstall): Promise<InstallRecord> {
    const now = new Date(this.table.now()).toISOString();
    const email = normalizeEmail(install.email);
    const fields: Record<string, unknown> = { ...install, email, updatedAt: now };
    const names: Record<string, string> = {
      "#createdAt": "createdAt",
      "#state": "state",
      "#g1": "gsi1sk",
      "#g2": "gsi2sk",
    };
    const values: Record<string, unknown> = {
      ":now": now,
      ":installing": "installing",
      ":g1": `${now}#${install.integrationId}`,
      ":g2": `${install.connectorId}#${now}#${install.integrationId}`,
      ":g1pk": connectorIndex(install.connectorId),
      ":g2pk": emailIndex(email),
    };
    const sets = [
      "#createdAt = if_not_exists(#createdAt, :now)",
      "#state = if_not_exists(#state, :installing)",
      "#g1 = if_not_exists(#g1, :g1)",
      "#g2 = if_not_exists(#g2, :g2)",
    ];
    sets.push("gsi1pk = :g1pk", "gsi2pk = :g2pk");
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    const item = await this.table.update({
      Key: { pk: pk(install.integrationId), sk: SK },
      UpdateExpression: `SET ${sets.join(", ")}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    return withoutKeys<InstallRecord>(item ?? {});
  }

  /**
   * Changes a recorded install. `undefined` when there is none, or when it already is in
   * `unlessState` (so a transition, and the event that goes with it, happens once).
   */
  async update(
    integrationId: string,
    changes: InstallChanges,
    unlessState?: InstallState,
  ): Promise<InstallRecord | undefined> {
    const names: Record<string, string> = { "#updatedAt": "updatedAt" };
    const values: Record<string, unknown> = { ":updatedAt": new Date(this.table.now()).toISOString() };
    const sets = ["#updatedAt = :updatedAt"];
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    let condition = "attribute_exists(pk)";
    if (unlessState) {
      names["#state"] = "state";
      values[":unless"] = unlessState;
      condition += " AND #state <> :unless";
    }
    try {
      const item = await this.table.update({
        Key: { pk: pk(integrationId), sk: SK },
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      return item ? withoutKeys<InstallRecord>(item) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /**
   * One page of installs, newest first: of one email (optionally of one connector), or of the
   * given connectors one after another (the cursor remembers which connector it is in).
   */
  async list(filter: {
    connectorIds: string[];
    email?: string | undefined;
    limit?: number;
    cursor?: string | undefined;
  }): Promise<Page<InstallRecord>> {
    const limit = filter.limit ?? 50;
    if (filter.email !== undefined) {
      const one = filter.connectorIds.length === 1 ? filter.connectorIds[0] : undefined;
      const page = await this.table.query<Item>(
        {
          IndexName: "gsi2",
          KeyConditionExpression: one ? "gsi2pk = :pk AND begins_with(gsi2sk, :connector)" : "gsi2pk = :pk",
          ExpressionAttributeValues: {
            ":pk": emailIndex(filter.email),
            ...(one ? { ":connector": `${one}#` } : {}),
          },
          ScanIndexForward: false,
          Limit: limit,
        },
        filter.cursor,
      );
      const items = page.items.map((item) => withoutKeys<InstallRecord>(item));
      return page.nextCursor ? { items, nextCursor: page.nextCursor } : { items };
    }
    let { index, inner } = decodeListCursor(filter.cursor);
    const items: InstallRecord[] = [];
    while (index < filter.connectorIds.length && items.length < limit) {
      const page = await this.table.query<Item>(
        {
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :pk",
          ExpressionAttributeValues: { ":pk": connectorIndex(filter.connectorIds[index] ?? "") },
          ScanIndexForward: false,
          Limit: limit - items.length,
        },
        inner,
      );
      items.push(...page.items.map((item) => withoutKeys<InstallRecord>(item)));
      inner = page.nextCursor;
      if (!inner) index += 1;
    }
    const more = index < filter.connectorIds.length;
    return more ? { items, nextCursor: encodeListCursor(index, inner) } : { items };
  }

  /** Every install of these emails (a customer's view), newest first. */
  async forEmails(emails: string[]): Promise<InstallRecord[]> {
    const unique = [...new Set(emails.map(normalizeEmail))];
    const pages = await Promise.all(
      unique.map((email) =>
        this.table.queryAll<Item>({
          IndexName: "gsi2",
          KeyConditionExpression: "gsi2pk = :pk",
          ExpressionAttributeValues: { ":pk": emailIndex(email) },
        }),
      ),
    );
    return pages
      .flat()
      .map((item) => withoutKeys<InstallRecord>(item))
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }
}

function encodeListCursor(index: number, inner: string | undefined): string {
  return Buffer.from(JSON.stringify({ c: index, ...(inner ? { k: inner } : {}) })).toString("base64url");
}

function decodeListCursor(cursor: string | undefined): { index: number; inner: string | undefined } {
  if (!cursor) return { index: 0, inner: undefined };
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      c?: unknown;
      k?: unknown;
    };
    if (
      typeof parsed.c === "number" &&
      Number.isInteger(parsed.c) &&
      parsed.c >= 0 &&
      (parsed.k === undefined || typeof parsed.k === "string")
    ) {
      return { index: parsed.c, inner: parsed.k };
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError("cursor is not one this API returned");
}
