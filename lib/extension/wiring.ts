import type { Logger } from "@aws-lambda-powertools/logger";
import { createDomainEvents, createSharedIntegratorClient, createTable } from "#lib/engine/wiring.ts";
import { loadCatalogFile } from "#lib/licensing/catalog-file.ts";
import { createLogger } from "#lib/observability/logger.ts";
import { ProductMetrics } from "#lib/observability/metrics.ts";
import type { Environment } from "#lib/runtime.ts";
import type { SyncSecretValue } from "#lib/secrets.ts";
import { Licenses } from "#lib/store/licenses.ts";
import { connectorModules } from "./connectors/index.ts";
import type { DispatchDeps } from "./dispatch.ts";
import { Installs } from "./installs.ts";
import { ExtensionRegistry } from "./registry.ts";
import type { ConnectorDefinition } from "./types.ts";

/** What the integrator-extension function needs, built once per cold start. */
export interface ExtensionDeps extends DispatchDeps {
  logger: Logger;
  metrics: ProductMetrics;
  /**
   * The stack's system token integrator.io sends (`INTEGRATOR_SYSTEM_TOKEN`), or how to read its
   * current value (a rotated token takes over within the secrets' maxAge); absent: every HTTP call is refused.
   */
  systemToken: SyncSecretValue;
}

/** The catalog, the registry of connector modules, the store and the shared integrator.io client. */
export async function createExtensionDeps(
  environment: Environment,
  modules: ConnectorDefinition[] = connectorModules,
): Promise<ExtensionDeps> {
  const { config, secrets } = environment;
  const logger = createLogger("integrator-extension", config);
  const metrics = new ProductMetrics("integrator-extension");
  const table = createTable(config);
  const catalog = await loadCatalogFile(config.catalogPath);
  const registry = new ExtensionRegistry(catalog, modules);
  if (registry.skippedModules.length > 0) {
    logger.warn("connector modules skipped: no catalog connector has their key", {
      modules: registry.skippedModules,
    });
  }
  return {
    registry,
    services: {
      catalog,
      installs: new Installs(table),
      licenses: new Licenses(table),
      vendor: createSharedIntegratorClient(environment, table, metrics, "interactive"),
      events: createDomainEvents(config, table),
      logger,
      now: () => new Date(),
    },
    logger,
    metrics,
    systemToken: secrets.has("INTEGRATOR_SYSTEM_TOKEN")
      ? () => secrets.get("INTEGRATOR_SYSTEM_TOKEN")
      : undefined,
  };
}
