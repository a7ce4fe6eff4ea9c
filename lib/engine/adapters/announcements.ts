import type { Logger } from "@aws-lambda-powertools/logger";
import { currentActor } from "#lib/access/actor.ts";
import type { DomainEvents, DomainEventType } from "#lib/events/domain-events.ts";
import type { MetricName } from "#lib/observability/metrics.ts";
import type { AuditEntry } from "#lib/store/audit.ts";
import type { Announcements, LicenseChange } from "../ports.ts";

/** Announcements through the audit trail (DynamoDB or memory), the domain events (EventBridge) and metrics. */
export class TrailAnnouncements implements Announcements {
  constructor(
    private readonly trail: { record(entry: Omit<AuditEntry, "at">): Promise<void> },
    private readonly events: DomainEvents,
    private readonly metrics: { count(name: MetricName): void },
  ) {}

  async licenseChanged(change: LicenseChange, logger: Logger): Promise<void> {
    this.metrics.count(change.metric);
    await this.trail.record({ ...change.audit, detail: change.detail });
    await this.events.publish(change.type, withActor(change.detail), logger);
  }

  audit(entry: Omit<AuditEntry, "at">): Promise<void> {
    return this.trail.record(entry);
  }

  async notice(
    type: DomainEventType,
    metric: MetricName,
    detail: Record<string, unknown>,
    logger: Logger,
  ): Promise<void> {
    this.metrics.count(metric);
    await this.events.publish(type, withActor(detail), logger);
  }
}

/** A domain event's detail, naming the person whose admin request caused it (`operator:<name>`, `root`). */
function withActor(detail: Record<string, unknown>): Record<string, unknown> {
  const actor = currentActor();
  return actor ? { ...detail, actor } : detail;
}
