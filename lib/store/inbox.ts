import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { cutText } from "#lib/bounded-text.ts";
import { customerEventSk, customerEventsKey } from "./customer-index.ts";
import { isConditionFailure, type Page, type Table, withoutKeys } from "./dynamo.ts";
import { isLive } from "./table.ts";

/** `received` → `enqueued` → `processed` | `failed` | `ignored` (docs/architecture.md §1). */
export type InboxStatus = "received" | "enqueued" | "processed" | "failed" | "ignored";

/** Inbox items outlive Stripe's 3 days of retries by far. */
export const INBOX_RETENTION_DAYS = 35;

/**
 * The longest reason recorded, in characters: a failure's message can be as large as the event
 * (a schema error naming each of 15,000 metadata keys), and an item over DynamoDB's 400 KB could
 * not be written at all.
 */
export const MAX_REASON_LENGTH = 2000;

const boundedReason = (reason: string) => cutText(reason, MAX_REASON_LENGTH);

export interface InboxEvent {
  eventId: string;
  type: string;
  /** Stripe customer id, or the event id for an event without one (its own FIFO group). */
  groupId: string;
  customerId?: string;
  livemode: boolean;
  /** Stripe's `created`, in seconds. */
  created: number;
  status: InboxStatus;
  /** Why it was ignored or why it failed. */
  reason?: string;
  attempts: number;
  receivedAt: string;
  updatedAt: string;
  /** The verified event as received, JSON. */
  payload: string;
}

const keys = (eventId: string) => ({ pk: `EVENT#${eventId}`, sk: "EVENT" });
const statusIndex = (status: InboxStatus, receivedAt: string, eventId: string) => ({
  gsi1pk: `EVENTS#${status}`,
  gsi1sk: `${receivedAt}#${eventId}`,
});

const fromItem = (item: Record<string, unknown>) => withoutKeys<InboxEvent>(item);

/** An event's fields but its payload. */
const SUMMARY_FIELDS = [
  "eventId",
  "type",
  "groupId",
  "customerId",
  "livemode",
  "created",
  "status",
  "reason",
  "attempts",
  "receivedAt",
  "updatedAt",
] as const satisfies readonly Exclude<keyof InboxEvent, "payload">[];

/** The webhook inbox: one item per Stripe event id, written once, then moved through its states. */
export class Inbox {
  constructor(private readonly table: Table) {}

  /**
   * Records a new event as `received`. Returns `undefined` when it is new, or the stored item
   * when this event id was seen before (a duplicate delivery changes nothing).
   */
  async record(
    event: Omit<InboxEvent, "status" | "attempts" | "receivedAt" | "updatedAt">,
    status: "received" | "ignored",
    reason?: string,
    now = new Date(this.table.now()).toISOString(),
  ): Promise<InboxEvent | undefined> {
    const item: InboxEvent = {
      ...event,
      status,
      attempts: 0,
      receivedAt: now,
      updatedAt: now,
      ...(reason ? { reason: boundedReason(reason) } : {}),
    };
    const ttl = Math.floor(this.table.now() / 1000) + INBOX_RETENTION_DAYS * 86400;
    try {
      await this.table.put(
        {
          ...keys(event.eventId),
          ...statusIndex(status, now, event.eventId),
          gsi2pk: "EVENTS",
          gsi2sk: `${now}#${event.eventId}`,
          ttl,
          ...item,
        },
        { ConditionExpression: "attribute_not_exists(pk)" },
      );
      await this.pointTo(item, ttl);
      return undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.get(event.eventId);
      if (!existing) throw new Error(`inbox item ${event.eventId} vanished`);
      // A delivery that failed after recording the event left no pointer: this one adds it.
      await this.pointTo(existing, ttl);
      return existing;
    }
  }

  /**
   * The customer's pointer to a recorded event (GET /admin/customers/{id} lists them), written
   * once after the event: keyed by the stored event (its id and `created`), and only where none is,
   * so a redelivery — even one whose content differs — changes nothing, and one after a delivery
   * that failed between the two writes completes it. A pointer whose event is gone is skipped
   * where they are read.
   */
  private async pointTo(event: Pick<InboxEvent, "eventId" | "customerId" | "created">, ttl: number) {
    if (!event.customerId) return;
    await this.table
      .put(
        {
          pk: customerEventsKey(event.customerId),
          sk: customerEventSk(event.created, event.eventId),
          eventId: event.eventId,
          created: event.created,
          ttl,
        },
        { ConditionExpression: "attribute_not_exists(pk)" },
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  async get(eventId: string): Promise<InboxEvent | undefined> {
    const item = await this.table.get(keys(eventId).pk, keys(eventId).sk);
    return item ? fromItem(item) : undefined;
  }

  /**
   * Moves an event to `status`, recording `reason` (failures count attempts). With `onlyFrom`,
   * only from those states (false when it was elsewhere, e.g. already processed by the worker).
   */
  async setStatus(
    eventId: string,
    status: InboxStatus,
    reason?: string,
    onlyFrom?: InboxStatus[],
    /** The item's `receivedAt` when the caller has it: saves a read. */
    knownReceivedAt?: string,
  ): Promise<boolean> {
    const receivedAt = knownReceivedAt ?? (await this.get(eventId))?.receivedAt;
    if (!receivedAt) throw new Error(`no inbox item ${eventId}`);
    const now = new Date(this.table.now()).toISOString();
    const index = statusIndex(status, receivedAt, eventId);
    await this.table
      .update({
        Key: keys(eventId),
        UpdateExpression: `SET #status = :status, updatedAt = :now, gsi1pk = :g1, gsi1sk = :g2${
          status === "failed" ? ", attempts = if_not_exists(attempts, :zero) + :one" : ""
        }${reason === undefined ? " REMOVE reason" : ", reason = :reason"}`,
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":status": status,
          ":now": now,
          ":g1": index.gsi1pk,
          ":g2": index.gsi1sk,
          ...(status === "failed" ? { ":zero": 0, ":one": 1 } : {}),
          ...(reason === undefined ? {} : { ":reason": boundedReason(reason) }),
          ...Object.fromEntries((onlyFrom ?? []).map((from, i) => [`:from${i}`, from])),
        },
        ConditionExpression: onlyFrom
          ? `attribute_exists(pk) AND #status IN (${onlyFrom.map((_, i) => `:from${i}`).join(", ")})`
          : "attribute_exists(pk)",
        // The item carries the whole event: nothing to send back.
        ReturnValues: "NONE",
      })
      .catch((error: unknown) => {
        if (onlyFrom && isConditionFailure(error)) return false;
        throw error;
      });
    return true;
  }

  /** Events by status (newest first), or all events; optional type filter. */
  async list(filter: {
    status?: InboxStatus;
    type?: string;
    limit?: number;
    cursor?: string;
  }): Promise<Page<InboxEvent>> {
    const byStatus = filter.status !== undefined;
    const page = await this.table.query(
      {
        IndexName: byStatus ? "gsi1" : "gsi2",
        KeyConditionExpression: byStatus ? "gsi1pk = :pk" : "gsi2pk = :pk",
        ExpressionAttributeValues: {
          ":pk": byStatus ? `EVENTS#${filter.status}` : "EVENTS",
          ...(filter.type ? { ":type": filter.type } : {}),
        },
        ...(filter.type
          ? { FilterExpression: "#type = :type", ExpressionAttributeNames: { "#type": "type" } }
          : {}),
        ScanIndexForward: false,
        Limit: filter.limit ?? 50,
      },
      filter.cursor,
    );
    return { ...page, items: page.items.map(fromItem) };
  }

  /**
   * The customer's events, newest first (by Stripe's `created`), at most `limit`, from the
   * customer's pointers (recorded since they were kept: older events are not found this way).
   * Without their payloads.
   */
  async forCustomer(customerId: string, limit: number): Promise<Omit<InboxEvent, "payload">[]> {
    const pointers = await this.table.query({
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": customerEventsKey(customerId) },
      ScanIndexForward: false,
      Limit: limit,
    });
    const events = await Promise.all(pointers.items.map((pointer) => this.summary(String(pointer.eventId))));
    return events.filter((event) => event !== undefined);
  }

  /** One event without its payload (which may be as large as the event). */
  private async summary(eventId: string): Promise<Omit<InboxEvent, "payload"> | undefined> {
    const fields = [...SUMMARY_FIELDS, "ttl"];
    const output = await this.table.client.send(
      new GetCommand({
        TableName: this.table.name,
        Key: keys(eventId),
        ProjectionExpression: fields.map((_, i) => `#f${i}`).join(", "),
        ExpressionAttributeNames: Object.fromEntries(fields.map((field, i) => [`#f${i}`, field])),
      }),
    );
    const item = output.Item;
    return item && isLive(item, this.table.now())
      ? withoutKeys<Omit<InboxEvent, "payload">>(item)
      : undefined;
  }

  /**
   * How many events are `failed` now whose failure was recorded at or after `since` (at most
   * `maxPages` of the failed ones read: `complete` false past that).
   */
  async countFailedSince(since: Date, maxPages: number): Promise<{ count: number; complete: boolean }> {
    return this.table.count(
      {
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :pk",
        FilterExpression: "updatedAt >= :since AND (attribute_not_exists(#ttl) OR #ttl > :now)",
        ExpressionAttributeNames: { "#ttl": "ttl" },
        ExpressionAttributeValues: {
          ":pk": "EVENTS#failed",
          ":since": since.toISOString(),
          ":now": Math.floor(this.table.now() / 1000),
        },
      },
      maxPages,
    );
  }

  /** Events left in `status` since before `olderThan` (oldest first). */
  async stale(status: InboxStatus, olderThan: Date): Promise<InboxEvent[]> {
    const items = await this.table.queryAll({
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :pk AND gsi1sk < :before",
      ExpressionAttributeValues: { ":pk": `EVENTS#${status}`, ":before": olderThan.toISOString() },
    });
    return items.map(fromItem);
  }
}
