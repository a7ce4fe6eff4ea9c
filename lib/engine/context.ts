import type { Logger } from "@aws-lambda-powertools/logger";
import type { DomainEvents } from "#lib/events/domain-events.ts";
import type { IntegratorClient } from "#lib/integrator/client.ts";
import type { Catalog } from "#lib/licensing/catalog.ts";
import type { ProductMetrics } from "#lib/observability/metrics.ts";
import type { AuditTrail } from "#lib/store/audit.ts";
import type { Customers } from "#lib/store/customers.ts";
import type { Table } from "#lib/store/dynamo.ts";
import type { Inbox } from "#lib/store/inbox.ts";
import type { Licenses } from "#lib/store/licenses.ts";
import type { StripeAccount } from "#lib/stripe/client.ts";
import type { Engine } from "./engine.ts";

/**
 * What the worker, reconcile and the admin API are built on: the license engine, through which
 * every license change goes, and the stores and clients they read for everything else.
 */
export interface ProvisioningContext {
  engine: Engine;
  /** The one DynamoDB table adapter (and client) of the process: other stores share it. */
  table: Table;
  catalog: Catalog;
  customers: Customers;
  licenses: Licenses;
  audit: AuditTrail;
  inbox: Inbox;
  integrator: IntegratorClient;
  stripe: StripeAccount;
  events: DomainEvents;
  metrics: ProductMetrics;
  logger: Logger;
  now(): Date;
}
