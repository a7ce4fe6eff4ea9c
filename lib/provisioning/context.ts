import type { Logger } from "@aws-lambda-powertools/logger";
import type { DomainEvents } from "#lib/events/domain-events.ts";
import type { IntegratorClient } from "#lib/integrator/client.ts";
import type { Catalog } from "#lib/licensing/catalog.ts";
import type { ProductMetrics } from "#lib/observability/metrics.ts";
import type { AuditTrail } from "#lib/store/audit.ts";
import type { Customers } from "#lib/store/customers.ts";
import type { Inbox } from "#lib/store/inbox.ts";
import type { Licenses } from "#lib/store/licenses.ts";
import type { StripeAccount } from "#lib/stripe/client.ts";

/** Everything license provisioning talks to: the worker, reconcile and the admin API share it. */
export interface ProvisioningContext {
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
