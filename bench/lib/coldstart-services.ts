import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import Stripe from "stripe";
import { LOCAL_DEFAULTS, SECRET_SETTINGS } from "../../lib/config.ts";
import { type FunctionName, functionTable } from "../../lib/functions.ts";
import { loadCatalogFile } from "../../lib/licensing/catalog-file.ts";
import { createSqsClient } from "../../lib/queue/sqs-client.ts";
import { loadEnvironment } from "../../lib/runtime.ts";
import { createTable, startDynamoDbLocal } from "../../local/dynamodb-local.ts";
import { startLocalQueues } from "../../local/queues.ts";
import { seedIntegratorSimulator, seedStripeSimulator } from "../../local/seed.ts";
import { startIntegratorSimulator } from "../../local/sim/integrator/index.ts";
import { startStripeSimulator } from "../../local/sim/stripe/index.ts";
import { startFakeSecretsManager } from "../../test/helpers/fake-secrets-manager.ts";
import { httpEvent } from "../../test/helpers/http-events.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A function's representative first invocation, and how to check its answer. */
export interface Invocation {
  event: unknown;
  expect: (result: unknown) => string | undefined;
  after?: () => Promise<string | undefined>;
}

/**
 * The local services every measured process talks to, and the representative invocation of each
 * function (a fresh Stripe event where a repeat would only hit a deduplication).
 */
export async function startServices() {
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stoppers.reverse()) await stopOne().catch(() => undefined);
  };
  try {
    const secrets = { ...LOCAL_DEFAULTS } as Record<string, string>;
    const tableName = "coldstart";
    const dynamo = await startDynamoDbLocal();
    stoppers.push(() => dynamo.stop());
    await createTable(dynamo.endpoint, tableName);
    const queues = await startLocalQueues();
    stoppers.push(() => queues.stop());
    const integrator = await startIntegratorSimulator({ vendorToken: secrets.INTEGRATOR_TOKEN, quiet: true });
    stoppers.push(() => integrator.stop());
    const stripeSim = await startStripeSimulator({ quiet: true });
    stoppers.push(() => stripeSim.stop());
    const secretsManager = await startFakeSecretsManager(
      Object.fromEntries(SECRET_SETTINGS.map((name) => [`coldstart/${name}`, secrets[name] as string])),
    );
    stoppers.push(() => secretsManager.stop());
    // Where the Stripe simulator delivers its (signed) events and integrator.io's stack points:
    // deliveries are kept for the webhook and worker invocations, and answered 200.
    const deliveries: { body: string; signature: string; event: Stripe.Event }[] = [];
    const sink = createServer(async (request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const signature = request.headers["stripe-signature"];
      if (typeof signature === "string")
        deliveries.push({ body, signature, event: JSON.parse(body) as Stripe.Event });
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
    stoppers.push(() => new Promise<void>((r) => sink.close(() => r())));
    sink.closeIdleConnections?.();
    const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

    const local: Record<string, string> = {
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      SQS_ENDPOINT: queues.endpoint,
      QUEUE_URL: queues.queueUrl,
      DLQ_URL: queues.dlqUrl,
      INTEGRATOR_API_URL: integrator.url,
      STRIPE_API_URL: stripeSim.url,
      SECRETS_MANAGER_ENDPOINT: secretsManager.endpoint,
    };
    const catalog = await loadCatalogFile(join(root, "local", "catalog.json"));
    await seedIntegratorSimulator({
      simulatorUrl: integrator.url,
      vendorToken: secrets.INTEGRATOR_TOKEN as string,
      apiUrl: sinkUrl,
      systemToken: secrets.INTEGRATOR_SYSTEM_TOKEN as string,
      catalog,
    });
    await seedStripeSimulator({
      simulatorUrl: stripeSim.url,
      apiUrl: sinkUrl,
      webhookSecret: secrets.STRIPE_WEBHOOK_SECRET as string,
      catalog,
      seedPath: join(root, "local", "stripe-seed.json"),
    });

    // This process's own stripe-webhook, as the local stack runs it: it records the worker's events.
    const parentEnv = {
      ...local,
      ...secrets,
      CATALOG_PATH: join(root, "local", "catalog.json"),
      LOG_LEVEL: "ERROR",
    };
    // Its metrics would only interleave with the table.
    process.env.POWERTOOLS_METRICS_DISABLED = "true";
    const environment = await loadEnvironment(parentEnv);
    const webhookModule = await import("../../functions/stripe-webhook.ts");
    const webhook = webhookModule.makeHandler(webhookModule.createDeps(environment));
    const sqs = createSqsClient(environment.config);
    const stripe = new Stripe(secrets.STRIPE_SECRET_KEY as string, {
      host: "127.0.0.1",
      port: stripeSim.port,
      protocol: "http",
      maxNetworkRetries: 0,
    });
    const { Inbox } = await import("../../lib/store/inbox.ts");
    const { createTable: storeTable } = await import("../../lib/engine/wiring.ts");
    const inbox = new Inbox(storeTable(environment.config));

    let serial = 0;
    /** A new buyer (with an integrator.io account) subscribing: the simulator's signed delivery of it. */
    const newSubscription = async (): Promise<(typeof deliveries)[number]> => {
      const email = `coldstart-${process.pid}-${++serial}@example.com`;
      const user = await fetch(`${integrator.origin}/_sim/users`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email }),
      });
      if (!user.ok) throw new Error(`integrator.io simulator: POST /_sim/users ${user.status}`);
      const customer = await stripe.customers.create({ email });
      await stripe.subscriptions.create({ customer: customer.id, items: [{ price: "price_std_month" }] });
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = deliveries.find(
          (d) =>
            d.event.type === "customer.subscription.created" &&
            (d.event.data.object as { customer?: string }).customer === customer.id,
        );
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no customer.subscription.created for ${customer.id}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const status =
      (...accepted: number[]) =>
      (result: unknown) => {
        const code = (result as { statusCode?: number } | undefined)?.statusCode;
        return code !== undefined && accepted.includes(code)
          ? undefined
          : `status ${code}, expected ${accepted.join("/")}: ${JSON.stringify(result).slice(0, 400)}`;
      };
    const completed = (result: unknown) =>
      result === undefined || (typeof result === "object" && result !== null && !("statusCode" in result))
        ? undefined
        : `unexpected result ${JSON.stringify(result).slice(0, 400)}`;
    const scheduled = () => ({
      version: "0",
      id: `coldstart-${++serial}`,
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "000000000000",
      time: new Date().toISOString(),
      region: "us-east-1",
      resources: ["arn:aws:events:us-east-1:000000000000:rule/coldstart"],
      detail: {},
    });
    const bearer = (token: string | undefined) => ({ authorization: `Bearer ${token}` });

    const invocations: Record<FunctionName, { describe: string; make: () => Promise<Invocation> }> = {
      health: {
        describe: "GET /health",
        make: async () => ({ event: httpEvent("GET /health"), expect: status(200) }),
      },
      fallback: {
        describe: "GET /no-such-route ($default)",
        make: async () => ({ event: httpEvent("$default", { path: "/no-such-route" }), expect: status(404) }),
      },
      "stripe-webhook": {
        describe: "POST /webhooks/stripe (signed customer.subscription.created, new)",
        make: async () => {
          const delivery = await newSubscription();
          return {
            event: httpEvent("POST /webhooks/stripe", {
              headers: { "content-type": "application/json", "stripe-signature": delivery.signature },
              body: delivery.body,
            }),
            expect: status(200),
            after: async () => {
              const stored = await inbox.get(delivery.event.id);
              return stored ? undefined : `event ${delivery.event.id} not in the inbox`;
            },
          };
        },
      },
      "provision-worker": {
        describe: "SQS record of a recorded customer.subscription.created (creates the license)",
        make: async () => {
          const delivery = await newSubscription();
          const answer = (await webhook(
            httpEvent("POST /webhooks/stripe", {
              headers: { "content-type": "application/json", "stripe-signature": delivery.signature },
              body: delivery.body,
            }),
            lambdaContextFor("stripe-webhook", 10),
          )) as { statusCode: number };
          if (answer.statusCode !== 200)
            throw new Error(`recording ${delivery.event.id}: ${answer.statusCode}`);
          const record = await receiveRecord(sqs, queues.queueUrl, delivery.event.id);
          return {
            event: { Records: [record] },
            expect: (result) => {
              const failures = (result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures;
              return Array.isArray(failures) && failures.length === 0
                ? undefined
                : `batch answer ${JSON.stringify(result)}`;
            },
            after: async () => {
              const stored = await inbox.get(delivery.event.id);
              return stored?.status === "processed"
                ? undefined
                : `event ${delivery.event.id} is ${stored?.status ?? "missing"}, not processed`;
            },
          };
        },
      },
      marketplace: {
        describe: "GET /marketplace/connectors",
        make: async () => ({ event: httpEvent("GET /marketplace/connectors"), expect: status(200) }),
      },
      "listings-sync": {
        describe: "EventBridge scheduled event",
        make: async () => ({ event: scheduled(), expect: completed }),
      },
      openapi: {
        describe: "GET /openapi.json",
        make: async () => ({ event: httpEvent("GET /openapi.json"), expect: status(200) }),
      },
      "integrator-extension": {
        describe: "POST /integrator/function (preSavePageOrders hook, system token)",
        make: async () => ({
          event: httpEvent("POST /integrator/function", {
            headers: { "content-type": "application/json", ...bearer(secrets.INTEGRATOR_SYSTEM_TOKEN) },
            body: JSON.stringify({
              _connectorId: catalog.connectors[0]?.connectorId,
              type: "hook",
              function: "preSavePageOrders",
              options: { data: [{ id: 1 }, { id: 2, test: true }], errors: [] },
            }),
          }),
          expect: status(200),
        }),
      },
      admin: {
        describe: "GET /admin/licenses (admin token)",
        make: async () => ({
          event: httpEvent("GET /admin/licenses", { headers: bearer(secrets.ADMIN_TOKEN) }),
          expect: status(200),
        }),
      },
      console: {
        describe: "GET /console (the page)",
        make: async () => ({ event: httpEvent("GET /console"), expect: status(200) }),
      },
      reconcile: {
        describe: "EventBridge scheduled event (a full run)",
        make: async () => ({ event: scheduled(), expect: completed }),
      },
    };

    return {
      stop,
      describe: (name: FunctionName) => invocations[name].describe,
      invocation: (name: FunctionName) => invocations[name].make(),
      /**
       * The function's environment as CDK sets it (the template's literal variables), with what
       * CDK resolves at deploy time pointed at the local services, the bundle's files where
       * `/var/task` would be, and the secret ids it is granted.
       */
      lambdaEnvironment: (name: FunctionName, template: Record<string, unknown>, taskRoot: string) => {
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? "",
          AWS_REGION: "us-east-1",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "local",
          AWS_SECRET_ACCESS_KEY: "local",
          AWS_SESSION_TOKEN: "local",
          AWS_LAMBDA_FUNCTION_NAME: `IntegratorLicensing-${name}`,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(functionTable[name].memoryMb),
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          LAMBDA_TASK_ROOT: taskRoot,
        };
        for (const [key, value] of Object.entries(template)) {
          if (key.endsWith("_SECRET_ID")) env[key] = `coldstart/${key.slice(0, -"_SECRET_ID".length)}`;
          else if (typeof value === "string") env[key] = value.replace(/^\/var\/task(?=\/|$)/, taskRoot);
        }
        for (const [key, value] of Object.entries(local))
          if (key in template || key.endsWith("_ENDPOINT") || key.endsWith("_URL")) env[key] = value;
        return env;
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The queue's message of `eventId` as the SQS trigger hands it to the worker. */
async function receiveRecord(sqs: ReturnType<typeof createSqsClient>, queueUrl: string, eventId: string) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["All"],
        WaitTimeSeconds: 1,
      }),
    );
    let found: (typeof Messages)[number] | undefined;
    for (const message of Messages) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      if ((JSON.parse(message.Body ?? "{}") as { eventId?: string }).eventId === eventId) found = message;
    }
    if (found)
      return {
        messageId: found.MessageId,
        receiptHandle: found.ReceiptHandle,
        body: found.Body,
        attributes: found.Attributes ?? {},
        messageAttributes: {},
        md5OfBody: found.MD5OfBody,
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:coldstart.fifo",
        awsRegion: "us-east-1",
      };
  }
  throw new Error(`no queue message for ${eventId}`);
}

function lambdaContextFor(name: string, timeoutSeconds: number) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    functionName: name,
    awsRequestId: `coldstart-${Date.now()}`,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as import("aws-lambda").Context;
}
