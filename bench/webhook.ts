/**
 * `npm run bench -- webhook [--requests N]`
 *
 * Ack latency of POST /webhooks/stripe through the local gateway with DynamoDB Local and the SQS
 * emulator (verify → inbox put → enqueue → mark enqueued), measured by the client, side by side
 * with signature verification alone on the same payloads. Target: p99 ≤ 50 ms here.
 * Writes bench/results/webhook.json.
 */
import { parseArgs } from "node:util";
import { Logger } from "@aws-lambda-powertools/logger";
import Stripe from "stripe";
import { makeHandler as makeFallback } from "#functions/fallback.ts";
import { makeHandler } from "#functions/stripe-webhook.ts";
import { createDocumentClient } from "#lib/aws.ts";
import { loadConfig } from "#lib/config.ts";
import { ProductMetrics } from "#lib/observability/metrics.ts";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Inbox } from "#lib/store/inbox.ts";
import { createTable, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { startGateway } from "#local/gateway.ts";
import { startLocalQueues } from "#local/queues.ts";
import { printTable, quantile, round, writeResult } from "./lib/stats.ts";

const secret = "whsec_bench";

function subscriptionEvent(i: number) {
  const now = Math.floor(Date.now() / 1000);
  return {
    id: `evt_bench_${process.pid}_${i}`,
    object: "event",
    api_version: "2026-10-28.endive",
    created: now,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: "customer.subscription.created",
    data: {
      object: {
        id: `sub_bench_${i}`,
        object: "subscription",
        customer: `cus_bench_${i % 200}`,
        status: "active",
        created: now,
        livemode: false,
        metadata: {},
        cancel_at_period_end: false,
        items: {
          object: "list",
          data: [
            {
              id: `si_${i}`,
              object: "subscription_item",
              quantity: 1,
              current_period_start: now,
              current_period_end: now + 30 * 86400,
              price: { id: "price_std_month", object: "price", lookup_key: null },
            },
          ],
        },
      },
    },
  };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { requests: { type: "string", default: "1000" } } });
  const requests = Number(values.requests);
  const [dynamo, queues] = await Promise.all([startDynamoDbLocal(), startLocalQueues()]);
  try {
    await createTable(dynamo.endpoint, "bench");
    const config = loadConfig({
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      SQS_ENDPOINT: queues.endpoint,
      TABLE_NAME: "bench",
      QUEUE_URL: queues.queueUrl,
    });
    const stripe = new Stripe("sk_test_bench");
    const logger = new Logger({ logLevel: "SILENT" });
    const handler = makeHandler({
      stripe: async () => stripe,
      webhookSecret: secret,
      livemode: false,
      inbox: new Inbox(new Table(createDocumentClient(config), config.tableName)),
      sqs: createSqsClient(config),
      queueUrl: queues.queueUrl,
      metrics: new ProductMetrics("bench"),
      logger,
    });
    const gateway = await startGateway({
      port: 0,
      handlers: { "stripe-webhook": handler, fallback: makeFallback({ logger, corsAllowedOrigins: [] }) },
    });
    const url = `http://127.0.0.1:${gateway.port}/webhooks/stripe`;
    const payloads = Array.from({ length: requests + 50 }, (_, i) => JSON.stringify(subscriptionEvent(i)));

    const ack: number[] = [];
    for (const [i, payload] of payloads.entries()) {
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret });
      const started = performance.now();
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature },
        body: payload,
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
      if (i >= 50) ack.push(performance.now() - started); // the first 50 warm up JIT and connections
    }
    const verify: number[] = [];
    for (const payload of payloads.slice(50)) {
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret });
      const started = performance.now();
      stripe.webhooks.constructEvent(payload, signature, secret, 300);
      verify.push(performance.now() - started);
    }
    await new Promise<void>((resolve) => gateway.server.close(() => resolve()));
    gateway.server.closeAllConnections();

    const result = {
      requests,
      p50Ms: round(quantile(ack, 0.5)),
      p99Ms: round(quantile(ack, 0.99)),
      verifyOnlyP50Ms: round(quantile(verify, 0.5), 3),
      verifyOnlyP99Ms: round(quantile(verify, 0.99), 3),
      ratioP99: round(quantile(ack, 0.99) / quantile(verify, 0.99), 1),
      targetP99Ms: 50,
    };
    printTable([
      { measure: "webhook ack (verify + inbox + queue)", p50Ms: result.p50Ms, p99Ms: result.p99Ms },
      {
        measure: "signature verification alone",
        p50Ms: result.verifyOnlyP50Ms,
        p99Ms: result.verifyOnlyP99Ms,
      },
    ]);
    console.log(
      `ack p99 / verify p99 = ${result.ratioP99}; target p99 ≤ 50 ms: ${result.p99Ms <= 50 ? "met" : "MISSED"}`,
    );
    console.log(`wrote ${writeResult("webhook", result)}`);
  } finally {
    await Promise.all([dynamo.stop(), queues.stop()]);
  }
}
