import { randomUUID } from "node:crypto";
import { currentActor } from "#lib/access/actor.ts";
import { customerKey } from "./customers.ts";
import type { Table } from "./dynamo.ts";
import { withoutKeys } from "./dynamo.ts";

/** One license change (or attempt), kept with the customer for the admin API. */
export interface AuditEntry {
  customerId: string;
  at: string;
  action: string;
  connectorKey?: string;
  licenseId?: string;
  /** What caused it: a Stripe event id, `reconcile:<runId>`, `admin`, `install`. */
  cause?: string;
  /** Who acted, when a person did (an admin request): `operator:<name>` or `root`. */
  actor?: string;
  detail?: Record<string, unknown>;
}

export class AuditTrail {
  constructor(private readonly table: Table) {}

  /** Records `entry`, naming the actor of the admin request it is written in (lib/access/actor.ts). */
  async record(entry: Omit<AuditEntry, "at">): Promise<void> {
    const at = new Date(this.table.now()).toISOString();
    const actor = currentActor();
    await this.table.put({
      pk: customerKey(entry.customerId),
      sk: `AUDIT#${at}#${randomUUID()}`,
      at,
      ...entry,
      ...(actor ? { actor } : {}),
    });
  }

  async forCustomer(customerId: string, limit = 200): Promise<AuditEntry[]> {
    const page = await this.table.query({
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :audit)",
      ExpressionAttributeValues: { ":pk": customerKey(customerId), ":audit": "AUDIT#" },
      ScanIndexForward: false,
      Limit: limit,
    });
    return page.items.map((item) => withoutKeys<AuditEntry>(item));
  }
}
