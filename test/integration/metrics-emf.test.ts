import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as worker from "#functions/provision-worker.ts";
import * as webhook from "#functions/stripe-webhook.ts";
import { loadEnvironment } from "#lib/runtime.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { type LocalQueues, startLocalQueues } from "#local/queues.ts";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import { functionEnv, signedDelivery, workerRecord, writtenDuring } from "#test/helpers/function-harness.ts";
import { lambdaContext } from "#test/helpers/http-events.ts";
import { simControl } from "#test/helpers/local-stack.ts";
import { makeCustomer, makeEvent, makeSubscription } from "#test/helpers/stripe-fixtures.ts";

/**
 * docs/architecture.md §9: the product's metrics leave each function as CloudWatch EMF lines on stdout, in the
 * `IntegratorLicensing` namespace, under the names the alarms are built on. One webhook delivery
 * and one worker batch run with metrics enabled (the test config disables them) and stdout captured.
 */

const CONNECTOR_ID = "65f1c0a2b7d94e3a1c8b7d20"; // local/catalog.json
const SECRET = "whsec_metrics_test";

let dynamo: DynamoDbLocal;
let queues: LocalQueues;
let integrator: IntegratorSimulator;
let env: Record<string, string>;

beforeAll(async () => {
  [dynamo, queues, integrator] = await Promise.all([
    startDynamoDbLocal(),
    startLocalQueues({ visibilityTimeoutSeconds: 1 }),
    startIntegratorSimulator({ vendorToken: "metrics-vendor-token", quiet: true }),
  ]);
  await createTable(dynamo.endpoint, "metrics-test");
  await simControl(integrator.origin, "POST", "/_sim/connectors", { _id: CONNECTOR_ID, name: "Shopify" });
  await simControl(integrator.origin, "POST", "/_sim/users", { email: "metrics@example.com" });
  // Stripe is never called by these events: its API stays closed.
  env = functionEnv(
    { dynamo, queues, tableName: "metrics-test", webhookSecret: SECRET },
    { INTEGRATOR_API_URL: integrator.url, INTEGRATOR_TOKEN: "metrics-vendor-token", LOG_LEVEL: "SILENT" },
  );
  // Powertools reads this when a Metrics object is built: enabled for the functions built below.
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([dynamo?.stop(), queues?.stop(), integrator?.stop()]);
});

type Emf = {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  service: string;
} & Record<string, unknown>;

/** Runs `work`, returning the EMF documents it wrote to stdout. */
async function emfOf(work: () => Promise<unknown>): Promise<Emf[]> {
  return (await writtenDuring(work))
    .split("\n")
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
}

const names = (documents: Emf[]) =>
  documents.flatMap((d) => d._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((metric) => metric.Name)));

describe("EMF metrics", () => {
  const customer = makeCustomer({ id: "cus_metrics1", email: "metrics@example.com" });
  const subscription = makeSubscription({
    customer: customer.id,
    status: "active",
    items: [{ price: "price_std_month" }],
    now: new Date(),
  });
  const events = [
    makeEvent("customer.created", customer),
    makeEvent("customer.subscription.created", subscription),
  ];

  it("a webhook delivery: EventsReceived, and EventsIgnored for a type the product does not handle", async () => {
    const handler = webhook.makeHandler(webhook.createDeps(await loadEnvironment(env)));
    const deliver = (payload: string) => handler(signedDelivery(payload, SECRET), lambdaContext);
    for (const event of events) {
      const documents = await emfOf(() => deliver(JSON.stringify(event)));
      expect(names(documents)).toEqual(["EventsReceived"]);
      expect(documents[0]).toMatchObject({
        service: "integrator-licensing.stripe-webhook",
        EventsReceived: 1,
      });
      expect(documents[0]?._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: "IntegratorLicensing",
        Dimensions: [["service"]],
        Metrics: [{ Name: "EventsReceived", Unit: "Count" }],
      });
    }
    const ignored = await emfOf(() =>
      deliver(JSON.stringify(makeEvent("charge.succeeded", { id: "ch_1", customer: customer.id }))),
    );
    expect(names(ignored).sort()).toEqual(["EventsIgnored", "EventsReceived"]);
  });

  it("a worker batch: EventsProcessed per record and LicensesCreated for the new license", async () => {
    const handler = worker.makeHandler(await worker.createDeps(await loadEnvironment(env)));
    const records = events.map((event) => workerRecord(event.id, customer.id));
    let result: unknown;
    const documents = await emfOf(async () => {
      result = await handler({ Records: records }, lambdaContext);
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(documents).toHaveLength(1);
    expect(documents[0]).toMatchObject({
      service: "integrator-licensing.provision-worker",
      // One value per count: CloudWatch sums them.
      EventsProcessed: [1, 1],
      LicensesCreated: 1,
    });
    // The license create went through the shared limiter: a call, and how long it waited (ms).
    expect(names(documents).sort()).toEqual([
      "EventsProcessed",
      "IntegratorCalls",
      "LicensesCreated",
      "LimiterWaitMs",
    ]);
    const units = Object.fromEntries(
      (documents[0]?._aws.CloudWatchMetrics[0]?.Metrics ?? []).map((metric) => [metric.Name, metric.Unit]),
    );
    expect(units).toMatchObject({ IntegratorCalls: "Count", LimiterWaitMs: "Milliseconds" });
    expect(documents[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe("IntegratorLicensing");
  });
});
