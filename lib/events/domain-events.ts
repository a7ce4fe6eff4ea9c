import { randomUUID } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Table } from "#lib/store/dynamo.ts";
import { withoutKeys } from "#lib/store/dynamo.ts";
import { type BusClient, EventBus } from "./bus.ts";

/** The outcomes the vendor's systems subscribe to (docs/architecture.md §1). */
export type DomainEventType =
  | "license.provisioned"
  | "license.updated"
  | "license.expired"
  | "license.pending_user"
  | "install.completed"
  | "install.removed"
  | "price.unknown"
  | "quantity.capped";

export interface DomainEvent {
  id: string;
  type: DomainEventType;
  at: string;
  detail: Record<string, unknown>;
}

export const DOMAIN_EVENT_SOURCE = "integrator-licensing";

export interface DomainEvents {
  /** Publishes one event; where it is only recorded (locally), it is also logged on the caller's `logger`. */
  publish(type: DomainEventType, detail: Record<string, unknown>, logger: Logger): Promise<void>;
}

/** Publishes to the stack's EventBridge bus (`detail-type` = the event type). */
export class EventBridgeDomainEvents implements DomainEvents {
  private readonly bus: EventBus;

  constructor(busName: string, client?: BusClient) {
    this.bus = new EventBus(busName, client);
  }

  async publish(type: DomainEventType, detail: Record<string, unknown>): Promise<void> {
    await this.bus.put({ source: DOMAIN_EVENT_SOURCE, detailType: type, detail }, type);
  }
}

/** Locally (no bus): each event is recorded in the table for 30 days and logged. */
export class RecordedDomainEvents implements DomainEvents {
  constructor(private readonly table: Table) {}

  async publish(type: DomainEventType, detail: Record<string, unknown>, logger: Logger): Promise<void> {
    const at = new Date(this.table.now()).toISOString();
    const id = randomUUID();
    await this.table.put({
      pk: "DOMAIN_EVENTS",
      sk: `${at}#${id}`,
      ttl: Math.floor(this.table.now() / 1000) + 30 * 86400,
      id,
      type,
      at,
      detail,
    });
    logger.info("domain event", { domainEvent: type, detail });
  }

  /** The recorded events, oldest first. */
  async list(): Promise<DomainEvent[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": "DOMAIN_EVENTS" },
    });
    return items.map((item) => withoutKeys<DomainEvent>(item));
  }
}
