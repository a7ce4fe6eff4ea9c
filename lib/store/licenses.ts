import { BatchGetCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { LicenseState, StoredLicense } from "#lib/licensing/plan-changes.ts";
import { ownedLicensesKey } from "./customer-index.ts";
import { customerKey } from "./customers.ts";
import {
  decodeCursor,
  encodeCursor,
  isConditionFailure,
  type Page,
  type Table,
  withoutKeys,
} from "./dynamo.ts";

/** A stored license with its bookkeeping: `rev` guards concurrent writers; `intentAt` marks a create in flight. */
export interface LicenseRecord extends StoredLicense {
  rev: number;
  /** Set when a create was recorded as intended and its outcome is not yet known. */
  intentAt?: string;
  /** When that create's answer was lost (a timeout, a reset, a 5xx): the late-commit window runs from here. */
  answerLostAt?: string;
  /** Why the license waits (`invalid_user`), for `pending_user`. */
  reason?: string;
  updatedAt: string;
}

/** A license id we created or adopted: only these are ever changed (docs/architecture.md §5). */
export interface OwnedLicense {
  licenseId: string;
  customerId: string;
  connectorKey: string;
  connectorId: string;
  email: string;
  ownedAt: string;
  /**
   * The integration integrator.io bound the license to (its `_integrationId`), as last seen by
   * reconcile or by the stack when a listing found it; indexed, so the stack finds the license of
   * an integration.
   */
  integrationId?: string;
}

/**
 * A license create we were about to POST, kept apart from the license record (which a later
 * create overwrites): reconcile adopts a license integrator.io committed too late for its create
 * to see it, as long as it was created after an intent of ours for its connector and email.
 */
export interface CreateIntent {
  customerId: string;
  connectorKey: string;
  connectorId: string;
  email: string;
  intentAt: string;
}

/** Intents are kept this long (DynamoDB's TTL): far beyond any commit integrator.io could still make. */
const INTENT_RETENTION_SECONDS = 30 * 24 * 3600;

export class LicenseConflictError extends Error {
  override name = "LicenseConflictError";
}

/** The states of `LicenseRecord`, each a partition of the state index (gsi2 `LICENSES#<state>`). */
export const LICENSE_STATE_PARTITIONS = [
  "creating",
  "active",
  "pending_user",
  "expired",
  "deleted",
] as const satisfies readonly LicenseState[];

const licenseSk = (connectorKey: string) => `LICENSE#${connectorKey}`;
const emailIndex = (connectorId: string, email: string) => `LICENSE#${connectorId}#${email}`;
const ownedKey = (licenseId: string) => ({ pk: `LICENSEID#${licenseId}`, sk: "LICENSE" });
/** A connector's intents share a partition: reconcile reads them all in one query per connector. */
const intentsKey = (connectorId: string) => `INTENTS#${connectorId}`;
const intentSk = (intent: CreateIntent) =>
  `${intent.email}#${intent.intentAt}#${intent.customerId}#${intent.connectorKey}`;
const integrationIndex = (integrationId: string) => `LICENSE#INTEGRATION#${integrationId}`;

/** Licenses per (customer, connector), the (connector, email) index, and the ids we own. */
export class Licenses {
  constructor(private readonly table: Table) {}

  async get(customerId: string, connectorKey: string): Promise<LicenseRecord | undefined> {
    const item = await this.table.get(customerKey(customerId), licenseSk(connectorKey));
    return item ? withoutKeys<LicenseRecord>(item) : undefined;
  }

  async forCustomer(customerId: string): Promise<LicenseRecord[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :lic)",
      ExpressionAttributeValues: { ":pk": customerKey(customerId), ":lic": "LICENSE#" },
      ConsistentRead: true,
    });
    return items.map((item) => withoutKeys<LicenseRecord>(item));
  }

  /**
   * Writes the license if nobody else changed it since `expectedRev` (undefined = must not exist).
   * Returns the stored record with its new `rev`.
   */
  async save(
    license: Omit<LicenseRecord, "rev" | "updatedAt">,
    expectedRev: number | undefined,
    /** The caller has recorded this license id as ours already (`own`). */
    { owned = false }: { owned?: boolean } = {},
  ): Promise<LicenseRecord> {
    const record: LicenseRecord = {
      ...license,
      rev: (expectedRev ?? 0) + 1,
      updatedAt: new Date(this.table.now()).toISOString(),
    };
    // Ownership first (idempotent): a license integrator.io issued to us is known as ours even if
    // the record write below loses a race, so reconcile can expire it as a stray.
    if (license.licenseId && !owned) {
      const { licenseId, customerId, connectorKey, connectorId, email } = license;
      await this.own({ licenseId, customerId, connectorKey, connectorId, email });
    }
    try {
      await this.table.put(
        {
          pk: customerKey(license.customerId),
          sk: licenseSk(license.connectorKey),
          gsi1pk: emailIndex(license.connectorId, license.email),
          gsi1sk: license.customerId,
          gsi2pk: `LICENSES#${license.state}`,
          gsi2sk: `${license.email}#${license.customerId}#${license.connectorKey}`,
          ...record,
        },
        expectedRev === undefined
          ? { ConditionExpression: "attribute_not_exists(pk)" }
          : { ConditionExpression: "rev = :rev", ExpressionAttributeValues: { ":rev": expectedRev } },
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new LicenseConflictError(
          `license ${license.customerId}/${license.connectorKey} changed concurrently`,
          { cause: error },
        );
      }
      throw error;
    }
    return record;
  }

  /** The license ids of a connector issued to `email` that our store knows (the adopt check). */
  async byConnectorEmail(connectorId: string, email: string): Promise<LicenseRecord[]> {
    const items = await this.table.queryAll({
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :pk",
      ExpressionAttributeValues: { ":pk": emailIndex(connectorId, email) },
    });
    return items.map((item) => withoutKeys<LicenseRecord>(item));
  }

  /** Licenses by state (and optionally email / connector), for the admin API. */
  async list(filter: {
    state?: string;
    email?: string;
    connectorKey?: string;
    limit?: number;
    cursor?: string;
  }): Promise<Page<LicenseRecord>> {
    const states = filter.state ? [filter.state] : undefined;
    const filters: string[] = [];
    const values: Record<string, unknown> = {};
    if (filter.connectorKey) {
      filters.push("connectorKey = :connector");
      values[":connector"] = filter.connectorKey;
    }
    if (states) {
      const page = await this.table.query(
        {
          IndexName: "gsi2",
          KeyConditionExpression: filter.email
            ? "gsi2pk = :pk AND begins_with(gsi2sk, :email)"
            : "gsi2pk = :pk",
          ExpressionAttributeValues: {
            ":pk": `LICENSES#${states[0]}`,
            ...(filter.email ? { ":email": `${filter.email}#` } : {}),
            ...values,
          },
          ...(filters.length ? { FilterExpression: filters.join(" AND ") } : {}),
          Limit: filter.limit ?? 50,
        },
        filter.cursor,
      );
      return { ...page, items: page.items.map((item) => withoutKeys<LicenseRecord>(item)) };
    }
    // Without a state: every state's partition of gsi2 in turn would need a cursor per state, so
    // scan the LICENSE items with the filters instead — one bounded Scan request per call
    // (`Limit` items examined), so a page may hold fewer matches than `limit`, even none, and
    // still carry the cursor to continue from.
    filters.push("begins_with(sk, :lic)", "begins_with(pk, :cus)");
    values[":lic"] = "LICENSE#";
    values[":cus"] = "CUSTOMER#";
    if (filter.email) {
      filters.push("email = :email");
      values[":email"] = filter.email;
    }
    const output = await this.table.client.send(
      new ScanCommand({
        TableName: this.table.name,
        FilterExpression: filters.join(" AND "),
        ExpressionAttributeValues: values,
        ExclusiveStartKey: decodeCursor(filter.cursor),
        Limit: filter.limit ?? 50,
      }),
    );
    const items = (output.Items ?? []).map((item) => withoutKeys<LicenseRecord>(item));
    const next = encodeCursor(output.LastEvaluatedKey);
    return next ? { items, nextCursor: next } : { items };
  }

  /**
   * Records a license id as ours (idempotent; an integration already bound to it stays bound). A
   * license another customer or connector owns already is never taken over: `LicenseConflictError`.
   */
  async own(license: Omit<OwnedLicense, "ownedAt" | "integrationId">): Promise<void> {
    try {
      await this.table.update({
        Key: ownedKey(license.licenseId),
        // The owner never changes (the condition), so neither does its by-customer key (gsi2).
        UpdateExpression:
          "SET licenseId = :licenseId, customerId = :customerId, connectorKey = :connectorKey, connectorId = :connectorId, email = :email, ownedAt = :ownedAt, gsi2pk = :owner, gsi2sk = :ownedSk",
        ConditionExpression:
          "attribute_not_exists(pk) OR (customerId = :customerId AND connectorKey = :connectorKey)",
        ExpressionAttributeValues: {
          ":licenseId": license.licenseId,
          ":customerId": license.customerId,
          ":connectorKey": license.connectorKey,
          ":connectorId": license.connectorId,
          ":email": license.email,
          ":ownedAt": new Date(this.table.now()).toISOString(),
          ":owner": ownedLicensesKey(license.customerId),
          ":ownedSk": `${license.connectorKey}#${license.licenseId}`,
        },
        ReturnValues: "NONE",
      });
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      throw new LicenseConflictError(
        `license ${license.licenseId} is owned by another customer or connector`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * The license ids a customer owns, recorded since ownership is kept by customer (an id owned
   * before that is found through the customer's license records, or by a reconcile run's listing).
   */
  async ownedBy(customerId: string): Promise<OwnedLicense[]> {
    const items = await this.table.queryAll({
      IndexName: "gsi2",
      KeyConditionExpression: "gsi2pk = :pk",
      ExpressionAttributeValues: { ":pk": ownedLicensesKey(customerId) },
    });
    return items.map((item) => withoutKeys<OwnedLicense>(item));
  }

  /** How many license records are in `state` (a `COUNT` query of the state index, at most `maxPages` pages). */
  async countInState(state: LicenseState, maxPages: number): Promise<{ count: number; complete: boolean }> {
    return this.table.count(
      {
        IndexName: "gsi2",
        KeyConditionExpression: "gsi2pk = :pk",
        ExpressionAttributeValues: { ":pk": `LICENSES#${state}` },
      },
      maxPages,
    );
  }

  /**
   * Customers with a license record on `email` (normalised), by id after `after`, at most `limit`:
   * from the state index (gsi2 `LICENSES#<state>`, sorted by email, customer, connector), one
   * range per state, so every license ever stored is found without an index of its own.
   */
  async customerIdsByEmail(email: string, after: string | undefined, limit: number): Promise<string[]> {
    const found = new Set<string>();
    for (const state of LICENSE_STATE_PARTITIONS) {
      // `#` < `$`: from just past every key of `after` to the end of the email's keys.
      const from = after ? `${email}#${after}$` : `${email}#`;
      const ids = new Set<string>();
      let cursor: string | undefined;
      do {
        const page = await this.table.query(
          {
            IndexName: "gsi2",
            KeyConditionExpression: "gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to",
            ExpressionAttributeValues: { ":pk": `LICENSES#${state}`, ":from": from, ":to": `${email}$` },
            ProjectionExpression: "customerId, email",
            Limit: limit + 1,
          },
          cursor,
        );
        for (const item of page.items) if (item.email === email) ids.add(String(item.customerId));
        cursor = page.nextCursor;
      } while (cursor && ids.size < limit);
      for (const id of [...ids].sort().slice(0, limit)) found.add(id);
    }
    return [...found].sort().slice(0, limit);
  }

  async owner(licenseId: string): Promise<OwnedLicense | undefined> {
    const { pk, sk } = ownedKey(licenseId);
    const item = await this.table.get(pk, sk);
    return item ? withoutKeys<OwnedLicense>(item) : undefined;
  }

  /**
   * Records the integration integrator.io has bound one of our licenses to (none: released) —
   * when given `only`, only while the record still holds its `expected` binding (undefined: none).
   * Returns false for a license id we do not own (left unrecorded) or a binding that changed.
   */
  async bindIntegration(
    licenseId: string,
    integrationId: string | undefined,
    only?: { expected: string | undefined },
  ): Promise<boolean> {
    const values: Record<string, unknown> = {};
    let condition = "attribute_exists(pk)";
    if (only?.expected === undefined && only) condition += " AND attribute_not_exists(integrationId)";
    else if (only) {
      condition += " AND integrationId = :expected";
      values[":expected"] = only.expected;
    }
    try {
      await this.table.update({
        Key: ownedKey(licenseId),
        ...(integrationId
          ? {
              UpdateExpression: "SET integrationId = :integrationId, gsi1pk = :index, gsi1sk = :licenseId",
              ExpressionAttributeValues: {
                ...values,
                ":integrationId": integrationId,
                ":index": integrationIndex(integrationId),
                ":licenseId": licenseId,
              },
            }
          : {
              UpdateExpression: "REMOVE integrationId, gsi1pk, gsi1sk",
              ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
            }),
        ConditionExpression: condition,
        ReturnValues: "NONE",
      });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Our license bound to this integration, as last recorded (the index is eventually consistent). */
  async byIntegration(integrationId: string): Promise<OwnedLicense | undefined> {
    const page = await this.table.query({
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :pk",
      ExpressionAttributeValues: { ":pk": integrationIndex(integrationId) },
      Limit: 1,
    });
    const item = page.items[0];
    return item ? withoutKeys<OwnedLicense>(item) : undefined;
  }

  /** Keeps a create we are about to POST (idempotent: the same intent is one item). */
  async recordIntent(intent: CreateIntent): Promise<void> {
    await this.table.put({
      pk: intentsKey(intent.connectorId),
      sk: intentSk(intent),
      ...intent,
      ttl: Math.floor(Date.parse(intent.intentAt) / 1000) + INTENT_RETENTION_SECONDS,
    });
  }

  /** Forgets a create whose outcome is known (idempotent). */
  async forgetIntent(intent: CreateIntent): Promise<void> {
    await this.table.delete({ pk: intentsKey(intent.connectorId), sk: intentSk(intent) });
  }

  /** The creates of a connector whose outcome was never known (within the retention), by email then time. */
  async openIntents(connectorId: string): Promise<CreateIntent[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": intentsKey(connectorId) },
      ConsistentRead: true,
    });
    return items.map((item) => withoutKeys<CreateIntent>(item));
  }

  /** The owners of many license ids at once (reconcile reads a whole connector listing); unknown ids are absent. */
  async owners(licenseIds: readonly string[]): Promise<Map<string, OwnedLicense>> {
    const found = new Map<string, OwnedLicense>();
    const unique = [...new Set(licenseIds)];
    for (let offset = 0; offset < unique.length; offset += 100) {
      let keys: Record<string, unknown>[] = unique
        .slice(offset, offset + 100)
        .map((id) => ({ pk: `LICENSEID#${id}`, sk: "LICENSE" }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const output = await this.table.client.send(
          new BatchGetCommand({ RequestItems: { [this.table.name]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of output.Responses?.[this.table.name] ?? []) {
          const owned = withoutKeys<OwnedLicense>(item);
          found.set(owned.licenseId, owned);
        }
        keys =
          (output.UnprocessedKeys?.[this.table.name]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    }
    return found;
  }
}
