import { Logger } from "@aws-lambda-powertools/logger";
import { makeHandler } from "#functions/integrator-extension.ts";
import { createDocumentClient } from "#lib/aws.ts";
import { RecordedDomainEvents } from "#lib/events/domain-events.ts";
import { connectorModules } from "#lib/extension/connectors/index.ts";
import { Installs } from "#lib/extension/installs.ts";
import { ExtensionRegistry } from "#lib/extension/registry.ts";
import type { ConnectorDefinition } from "#lib/extension/types.ts";
import type { ExtensionDeps } from "#lib/extension/wiring.ts";
import { createIntegratorClient } from "#lib/integrator/client.ts";
import { createTokenBucket } from "#lib/integrator/token-bucket.ts";
import { type Catalog, connectorFunctionNames, parseCatalog } from "#lib/licensing/catalog.ts";
import { ProductMetrics } from "#lib/observability/metrics.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Licenses } from "#lib/store/licenses.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { startGateway } from "#local/gateway.ts";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import type { StackDialect } from "#local/sim/integrator/stack-caller.ts";
import { sharedTable } from "./shared-dynamodb.ts";

export const SYSTEM_TOKEN = "extension-test-system-token";
export const VENDOR_TOKEN = "extension-test-vendor-token";
export const SHOPIFY = { key: "shopify-netsuite", id: "65f1c0a2b7d94e3a1c8b7d20" } as const;
export const TEST_APP = { key: "test-app", id: "aaaaaaaaaaaaaaaaaaaaaaaa" } as const;

/** The example connector plus a second one for protocol tests. */
export const testCatalog: Catalog = parseCatalog({
  connectors: [
    {
      key: SHOPIFY.key,
      connectorId: SHOPIFY.id,
      name: "Shopify ↔ NetSuite",
      editions: [
        { key: "standard", prices: ["price_std_month"] },
        { key: "premium", prices: ["price_prem_month"] },
      ],
    },
    {
      key: TEST_APP.key,
      connectorId: TEST_APP.id,
      name: "Test app",
      editions: [{ key: "standard", prices: ["price_test"] }],
    },
  ],
  policy: { renewalBufferDays: 3, pastDueGraceDays: 14, onEnd: "expire" },
});

export interface ExtensionHarness {
  sim: IntegratorSimulator;
  table: Table;
  installs: Installs;
  licenses: Licenses;
  events: RecordedDomainEvents;
  deps: ExtensionDeps;
  handler: ReturnType<typeof makeHandler>;
  /** The gateway serving the handler: integrator.io's stack `hostURI` is `${api}/integrator`. */
  api: string;
  stop(): Promise<void>;
}

/**
 * DynamoDB Local, the integrator.io simulator (port 0) and the extension handler behind the local
 * gateway, registered in the simulator as the server stack of both test connectors.
 */
export async function startExtensionHarness(
  extraModules: ConnectorDefinition[] = [],
  /** How the simulator calls the stack (its default: the documented typed dialect). */
  { dialect }: { dialect?: StackDialect } = {},
): Promise<ExtensionHarness> {
  // The run's shared DynamoDB Local (a table of this harness's own) under vitest; else its own.
  const [store, sim]: [HarnessStore, IntegratorSimulator] = await Promise.all([
    harnessStore(),
    startIntegratorSimulator({ port: 0, quiet: true, vendorToken: VENDOR_TOKEN }),
  ]);
  const table = new Table(
    createDocumentClient({ dynamodbEndpoint: store.endpoint, awsRegion: "us-east-1" }),
    store.tableName,
  );
  const logger = new Logger({ logLevel: "SILENT" });
  const events = new RecordedDomainEvents(table);
  const deps: ExtensionDeps = {
    registry: new ExtensionRegistry(testCatalog, [...connectorModules, ...extraModules]),
    services: {
      catalog: testCatalog,
      installs: new Installs(table),
      licenses: new Licenses(table),
      vendor: createIntegratorClient({
        baseUrl: sim.url,
        token: VENDOR_TOKEN,
        limiter: createTokenBucket({ capacity: 1000, refillPerSecond: 300 }),
        lane: "interactive",
        retry: { maxAttempts: 1 },
      }),
      events,
      logger,
      now: () => new Date(),
    },
    logger,
    metrics: new ProductMetrics("extension-test"),
    systemToken: SYSTEM_TOKEN,
  };
  const handler = makeHandler(deps);
  const gateway = await startGateway({ port: 0, handlers: { "integrator-extension": handler as never } });
  const api = `http://127.0.0.1:${gateway.port}`;
  const stack = await vendorCall<{ _id: string }>(sim, "POST", "/stacks", {
    name: "extension test",
    type: "server",
    server: { hostURI: `${api}/integrator`, systemToken: SYSTEM_TOKEN },
  });
  for (const connector of testCatalog.connectors) {
    await control(sim, "POST", "/_sim/connectors", {
      _id: connector.connectorId,
      name: connector.key,
      published: true,
      _stackId: stack._id,
      ...connectorFunctionNames(connector),
      ...(dialect ? { stackDialect: dialect } : {}),
    });
  }
  return {
    sim,
    table,
    installs: deps.services.installs,
    licenses: deps.services.licenses,
    events,
    deps,
    handler,
    api,
    stop: async () => {
      await new Promise<void>((resolve) => {
        gateway.server.close(() => resolve());
        gateway.server.closeAllConnections();
      });
      await Promise.all([sim.stop(), store.stop()]);
    },
  };
}

interface HarnessStore {
  endpoint: string;
  tableName: string;
  stop(): Promise<void>;
}

async function harnessStore(): Promise<HarnessStore> {
  const shared = await sharedTable("extension");
  if (shared) return { endpoint: shared.endpoint, tableName: shared.tableName, stop: shared.drop };
  const dynamo: DynamoDbLocal = await startDynamoDbLocal();
  await createTable(dynamo.endpoint, "extension-test");
  return { endpoint: dynamo.endpoint, tableName: "extension-test", stop: () => dynamo.stop() };
}

/** The simulator's control API. */
export async function control<T = unknown>(
  sim: IntegratorSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${sim.origin}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A `/v1` call with any token; answers status and body. */
export async function apiCall<T = unknown>(
  sim: IntegratorSimulator,
  token: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function vendorCall<T>(
  sim: IntegratorSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const answer = await apiCall<T>(sim, VENDOR_TOKEN, method, path, body);
  if (answer.status >= 300)
    throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

let counter = 0;
/** A fresh integrator.io account (unique email) and its token. */
export async function newUser(harness: ExtensionHarness, label: string) {
  counter += 1;
  const email = `${label}-${Date.now().toString(36)}-${counter}@example.com`;
  return control<{ _id: string; email: string; token: string }>(harness.sim, "POST", "/_sim/users", {
    email,
  });
}

/**
 * A license in integrator.io for `email`, and (unless `inStore: false`) recorded in our store as
 * the provisioning worker would have it.
 */
export async function issueLicense(
  harness: ExtensionHarness,
  email: string,
  options: {
    edition?: string;
    expiresInDays?: number;
    inStore?: boolean;
    state?: "active" | "expired";
    connectorId?: string;
  } = {},
) {
  const connectorId = options.connectorId ?? SHOPIFY.id;
  const expires = new Date(Date.now() + (options.expiresInDays ?? 30) * 86_400_000).toISOString();
  const opts = { connectorEdition: options.edition ?? "standard" };
  const license = await vendorCall<{ _id: string }>(
    harness.sim,
    "POST",
    `/connectors/${connectorId}/licenses`,
    { email, expires, opts },
  );
  const customerId = `cus_${license._id.slice(-10)}`;
  if (options.inStore !== false) {
    await harness.licenses.save(
      {
        customerId,
        connectorKey: connectorId === SHOPIFY.id ? SHOPIFY.key : TEST_APP.key,
        connectorId,
        licenseId: license._id,
        email,
        expires: options.state === "expired" ? new Date(Date.now() - 1000).toISOString() : expires,
        opts,
        state: options.state ?? "active",
      },
      undefined,
    );
  }
  return { licenseId: license._id, customerId, expires, opts };
}
