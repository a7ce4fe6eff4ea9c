import type { Logger } from "@aws-lambda-powertools/logger";
import { createDocumentClient } from "#lib/aws.ts";
import type { Config } from "#lib/config.ts";
import {
  type DomainEvents,
  EventBridgeDomainEvents,
  RecordedDomainEvents,
} from "#lib/events/domain-events.ts";
import { createIntegratorClient, type IntegratorClient } from "#lib/integrator/client.ts";
import { createDistributedTokenBucket } from "#lib/integrator/distributed-bucket.ts";
import type { Lane } from "#lib/integrator/lanes.ts";
import { loadCatalogFile } from "#lib/licensing/catalog-file.ts";
import { ProductMetrics } from "#lib/observability/metrics.ts";
import type { Environment } from "#lib/runtime.ts";
import { AuditTrail } from "#lib/store/audit.ts";
import { Customers } from "#lib/store/customers.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Inbox } from "#lib/store/inbox.ts";
import { Licenses } from "#lib/store/licenses.ts";
import { createStripe, StripeAccount } from "#lib/stripe/client.ts";
import { stripeKeyOf } from "#lib/stripe/key.ts";
import { TrailAnnouncements } from "./adapters/announcements.ts";
import type { ProvisioningContext } from "./context.ts";
import { Engine } from "./engine.ts";
import { systemClock } from "./ports.ts";

/** The shared table adapter for a configuration. */
export function createTable(config: Config): Table {
  return new Table(createDocumentClient(config), config.tableName);
}

/** Domain events go to EventBridge when a bus is configured, else are recorded in the table. */
export function createDomainEvents(config: Config, table: Table): DomainEvents {
  return config.eventBusName
    ? new EventBridgeDomainEvents(config.eventBusName)
    : new RecordedDomainEvents(table);
}

/**
 * The one integrator.io client of a process, behind the distributed token bucket that every
 * Lambda of the deployment shares, counting 429s and retries as metrics. `lane`: whose work the
 * function's calls are (lib/integrator/lanes.ts).
 */
export function createSharedIntegratorClient(
  environment: Environment,
  table: Table,
  metrics: ProductMetrics,
  lane: Lane,
): IntegratorClient {
  const { config, secrets } = environment;
  if (!secrets.has("INTEGRATOR_TOKEN")) throw new Error("INTEGRATOR_TOKEN is not configured");
  const limiter = createDistributedTokenBucket({
    client: table.client,
    tableName: table.name,
    capacity: config.rateLimit.capacity,
    refillPerSecond: config.rateLimit.refillPerSecond,
    share: config.rateLimit.share,
    bulkShare: config.rateLimit.bulkShare,
  });
  return createIntegratorClient({
    baseUrl: config.integratorApiUrl,
    // Read at every call (lib/secrets.ts): a rotated token takes over within the secrets' maxAge,
    // even in the middle of a long reconcile run.
    token: async () => {
      const token = await secrets.current("INTEGRATOR_TOKEN");
      if (!token) throw new Error("INTEGRATOR_TOKEN is not available (its secret holds no value)");
      return token;
    },
    limiter,
    lane,
    hooks: {
      onSend: ({ waitedMs }) => {
        metrics.count("IntegratorCalls");
        metrics.milliseconds("LimiterWaitMs", waitedMs);
      },
      onRetry: () => metrics.count("IntegratorRetries"),
      onRateLimited: () => metrics.count("IntegratorRateLimited"),
    },
  });
}

/**
 * Everything provisioning needs, built once per cold start (on `table` when the caller shares one);
 * its integrator.io calls go in `lane`.
 */
export async function createProvisioningContext(
  environment: Environment,
  logger: Logger,
  service: string,
  lane: Lane,
  table: Table = createTable(environment.config),
): Promise<ProvisioningContext> {
  const { config, secrets } = environment;
  const metrics = new ProductMetrics(service);
  // Refuses a key of the other mode than STRIPE_LIVEMODE, now and whenever a rotated one arrives.
  const stripeKey = await stripeKeyOf(secrets, config, metrics);
  const catalog = await loadCatalogFile(config.catalogPath);
  const customers = new Customers(table);
  const licenses = new Licenses(table);
  const audit = new AuditTrail(table);
  const integrator = createSharedIntegratorClient(environment, table, metrics, lane);
  // The SDK is imported at the first Stripe call, not here: most first events need none.
  const stripe = new StripeAccount(createStripe(config, stripeKey));
  const events = createDomainEvents(config, table);
  const engine = new Engine({
    catalog,
    customers,
    licenses,
    integrator: integrator.licenses,
    stripe,
    announcements: new TrailAnnouncements(audit, events, metrics),
    clock: systemClock,
    lateCommitWindowMs: config.lateCommitWindowMs,
    logger,
  });
  return {
    engine,
    table,
    catalog,
    customers,
    licenses,
    audit,
    inbox: new Inbox(table),
    integrator,
    stripe,
    events,
    metrics,
    logger,
    now: () => systemClock.now(),
  };
}
