import { Logger } from "@aws-lambda-powertools/logger";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeHandler } from "#functions/stripe-webhook.ts";
import { createDocumentClient } from "#lib/aws.ts";
import { loadConfig } from "#lib/config.ts";
import { ProductMetrics } from "#lib/observability/metrics.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Inbox } from "#lib/store/inbox.ts";
import {
  createTable as createDynamoTable,
  type DynamoDbLocal,
  startDynamoDbLocal,
} from "#local/dynamodb-local.ts";
import { type LocalQueues, startLocalQueues } from "#local/queues.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";
import { makeCustomer, makeEvent, makeInvoice, makeSubscription } from "#test/helpers/stripe-fixtures.ts";

const secret = "whsec_test_secret";
const stripe = new Stripe("sk_test_unused");
let dynamo: DynamoDbLocal;
let queues: LocalQueues;
let inbox: Inbox;
let sqs: SQSClient;
let handler: ReturnType<typeof makeHandler>;
let deps: Parameters<typeof makeHandler>[0];

beforeAll(async () => {
  [dynamo, queues] = await Promise.all([
    startDynamoDbLocal(),
    startLocalQueues({ visibilityTimeoutSeconds: 1 }),
  ]);
  await createDynamoTable(dynamo.endpoint, "webhook-test");
  const config = loadConfig({
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SQS_ENDPOINT: queues.endpoint,
    TABLE_NAME: "webhook-test",
  });
  inbox = new Inbox(new Table(createDocumentClient(config), config.tableName));
  sqs = new SQSClient({
    endpoint: queues.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  deps = {
    stripe: async () => stripe,
    webhookSecret: secret,
    livemode: false,
    inbox,
    sqs,
    queueUrl: queues.queueUrl,
    metrics: new ProductMetrics("test"),
    logger: new Logger({ logLevel: "SILENT" }),
  };
  handler = makeHandler(deps);
});
beforeEach(async () => {
  await drainQueue();
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), queues?.stop()]);
});

const post = async (
  payload: string,
  signature: string | undefined,
  base64 = false,
  through: ReturnType<typeof makeHandler> = handler,
) => {
  const event = httpEvent("POST /webhooks/stripe", {
    headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) },
    body: payload,
  });
  if (base64) Object.assign(event, { body: Buffer.from(payload).toString("base64"), isBase64Encoded: true });
  const result = await through(event, lambdaContext);
  return { status: result.statusCode, body: JSON.parse(result.body ?? "{}") };
};
const sign = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
  stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? secret,
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });

/** Takes every message off the queue (deleting it) and returns what they carried. */
async function drainQueue(): Promise<{ eventId: string; group?: string | undefined }[]> {
  const drained: { eventId: string; group?: string | undefined }[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["MessageGroupId"],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return drained;
    for (const m of messages) {
      drained.push({
        ...(JSON.parse(m.Body ?? "{}") as { eventId: string }),
        group: m.Attributes?.MessageGroupId,
      });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

const subscriptionEvent = (customer = "cus_webhook_1") =>
  makeEvent(
    "customer.subscription.created",
    makeSubscription({ customer, status: "active", items: [{ price: "price_std_month" }] }),
  );

describe("POST /webhooks/stripe", () => {
  it("records a signed event once, queues its id grouped by customer, and answers 200", async () => {
    const event = subscriptionEvent("cus_group_a");
    const payload = JSON.stringify(event);
    const response = await post(payload, sign(payload));
    expect(response).toEqual({
      status: 200,
      body: { received: true, eventId: event.id, outcome: "enqueued" },
    });
    const stored = await inbox.get(event.id);
    expect(stored).toMatchObject({
      status: "enqueued",
      type: "customer.subscription.created",
      customerId: "cus_group_a",
      payload,
    });
    expect(stored?.receivedAt).toBeDefined();
    const messages = await drainQueue();
    expect(messages).toContainEqual({ eventId: event.id, group: "cus_group_a" });
  });

  it("accepts a base64-encoded body as API Gateway sends binary payloads", async () => {
    const event = subscriptionEvent("cus_base64");
    const payload = JSON.stringify(event);
    const response = await post(payload, sign(payload), true);
    expect(response.status).toBe(200);
    expect((await inbox.get(event.id))?.status).toBe("enqueued");
  });

  it("answers a duplicate delivery 200 and changes nothing", async () => {
    const event = subscriptionEvent("cus_dup");
    const payload = JSON.stringify(event);
    await post(payload, sign(payload));
    await drainQueue();
    const before = await inbox.get(event.id);
    const again = await post(payload, sign(payload));
    expect(again).toEqual({ status: 200, body: { received: true, eventId: event.id, outcome: "duplicate" } });
    expect(await inbox.get(event.id)).toEqual(before);
    expect(await drainQueue()).toEqual([]);
  });

  it("enqueues again a duplicate of an event that never reached the queue", async () => {
    const event = subscriptionEvent("cus_stuck");
    await inbox.record(
      {
        eventId: event.id,
        type: event.type,
        groupId: "cus_stuck",
        customerId: "cus_stuck",
        livemode: false,
        created: event.created,
        payload: JSON.stringify(event),
      },
      "received",
    );
    const payload = JSON.stringify(event);
    const response = await post(payload, sign(payload));
    expect(response.body.outcome).toBe("duplicate");
    expect((await inbox.get(event.id))?.status).toBe("enqueued");
    expect(await drainQueue()).toContainEqual({ eventId: event.id, group: "cus_stuck" });
  });

  it("records unhandled types and the other livemode as ignored, without queueing", async () => {
    const other = makeEvent("charge.refunded", { id: "ch_1", object: "charge", customer: "cus_x" });
    const payload = JSON.stringify(other);
    expect((await post(payload, sign(payload))).body.outcome).toBe("ignored");
    expect(await inbox.get(other.id)).toMatchObject({
      status: "ignored",
      reason: "event type charge.refunded is not handled",
    });
    const live = makeEvent("customer.created", makeCustomer({ id: "cus_live" }), { livemode: true });
    const livePayload = JSON.stringify(live);
    expect((await post(livePayload, sign(livePayload))).body.outcome).toBe("ignored");
    expect((await inbox.get(live.id))?.reason).toMatch(/livemode/);
    expect(await drainQueue()).toEqual([]);
  });

  it("records a signed event nested deeper than any Stripe object as ignored, never queued (the store could not hold it)", async () => {
    let deep: unknown = "bottom";
    for (let level = 0; level < 40; level++) deep = [deep];
    const subscription = makeSubscription({
      customer: "cus_deep",
      status: "active",
      items: [{ price: "price_std_month" }],
    });
    const event = makeEvent("customer.subscription.updated", { ...subscription, extra: deep });
    const payload = JSON.stringify(event);
    expect((await post(payload, sign(payload))).body.outcome).toBe("ignored");
    expect((await inbox.get(event.id))?.reason).toBe("the event nests deeper than 24 levels");
    // Stripe's own objects, expanded, pass.
    const usual = makeEvent("customer.subscription.updated", subscription);
    const usualPayload = JSON.stringify(usual);
    expect((await post(usualPayload, sign(usualPayload))).body.outcome).toBe("enqueued");
    expect(await drainQueue()).toEqual([{ eventId: usual.id, group: "cus_deep" }]);
  });

  describe("ids no key or queue can hold (docs/architecture.md §9)", () => {
    const oddIds = {
      "129 characters": `evt_${"a".repeat(125)}`,
      "2 KB": "x".repeat(2048),
      NUL: "evt_\u0000x",
      "a lone surrogate": "evt_\ud800x",
      "a slash": "evt_a/b",
    };

    it.each(Object.entries(oddIds))(
      "refuses a signed event whose own id has %s with 400, recording and queueing nothing",
      async (_what, id) => {
        const payload = JSON.stringify({ ...subscriptionEvent("cus_odd_event"), id });
        const response = await post(payload, sign(payload));
        expect(response.status).toBe(400);
        expect(response.body.error).toMatchObject({
          code: "invalid_event",
          details: [{ path: "id", message: expect.stringMatching(/must be an id of 1 to 128/) }],
        });
        expect((await inbox.list({ limit: 100 })).items.filter((item) => item.eventId === id)).toEqual([]);
        expect(await drainQueue()).toEqual([]);
      },
    );

    it("refuses a signed event whose type is not a Stripe event type with 400", async () => {
      const event = subscriptionEvent("cus_odd_type");
      for (const type of ["x".repeat(200_000), "customer.updated\u0000", "Customer Updated"]) {
        const payload = JSON.stringify({ ...event, type });
        const response = await post(payload, sign(payload));
        expect(response.status, type.slice(0, 20)).toBe(400);
        expect(response.body.error.code).toBe("invalid_event");
      }
      expect(await inbox.get(event.id)).toBeUndefined();
    });

    it.each(Object.entries(oddIds))(
      "records an event whose object, customer or subscription id has %s as ignored, never queued",
      async (what, odd) => {
        const events = [
          makeEvent("customer.updated", makeCustomer({ id: odd })),
          makeEvent(
            "customer.subscription.updated",
            makeSubscription({ customer: odd, status: "active", items: [{ price: "price_std_month" }] }),
          ),
          makeEvent(
            "customer.subscription.created",
            makeSubscription({ id: odd, status: "active", items: [{ price: "price_std_month" }] }),
          ),
          makeEvent("invoice.paid", makeInvoice({ customer: "cus_fine", subscription: odd })),
          makeEvent("invoice.paid", { ...makeInvoice({ subscription: "sub_fine" }), customer: { id: odd } }),
        ];
        for (const event of events) {
          const payload = JSON.stringify(event);
          const response = await post(payload, sign(payload));
          expect(response, `${event.type} with ${what}`).toEqual({
            status: 200,
            body: { received: true, eventId: event.id, outcome: "ignored" },
          });
          const stored = await inbox.get(event.id);
          expect(stored?.status).toBe("ignored");
          expect(stored?.reason).toMatch(
            /^data\.object\.(id|customer|subscription) must be an id of 1 to 128/,
          );
          expect(stored).not.toHaveProperty("customerId");
          expect(stored?.groupId).toBe(event.id);
        }
        expect(await drainQueue()).toEqual([]);
      },
    );

    it("queues an event whose ids are all 128 characters", async () => {
      const customer = `cus_${"c".repeat(124)}`;
      const event = makeEvent(
        "customer.subscription.created",
        makeSubscription({
          id: `sub_${"s".repeat(124)}`,
          customer,
          status: "active",
          items: [{ price: "price_std_month" }],
        }),
        { id: `evt_${"e".repeat(124)}` },
      );
      const payload = JSON.stringify(event);
      expect((await post(payload, sign(payload))).body.outcome).toBe("enqueued");
      expect(await drainQueue()).toEqual([{ eventId: event.id, group: customer }]);
    });
  });

  it.each([
    ["a missing header", () => undefined, /./],
    ["a forged signature", (p: string) => sign(`${p} `), /does not match the payload/],
    ["the wrong secret", (p: string) => sign(p, { secret: "whsec_other" }), /does not match the payload/],
    [
      "a stale timestamp",
      (p: string) => sign(p, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
      /outside the tolerance/,
    ],
    ["garbage", () => "t=abc,v1=nothing", /does not match the payload/],
    ["a header that is no signature at all", () => "garbage", /malformed/],
  ])("refuses %s with 400, saying why, and stores nothing", async (_name, signatureOf, why) => {
    const event = subscriptionEvent("cus_refused");
    const payload = JSON.stringify(event);
    const response = await post(payload, signatureOf(payload));
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_signature");
    expect(response.body.error.message).toMatch(why);
    expect(await inbox.get(event.id)).toBeUndefined();
  });

  it("refuses a signed body that is not JSON with 400 invalid_json, storing nothing", async () => {
    const payload = '{"id":"evt_truncated","type":"customer.created",';
    const response = await post(payload, sign(payload));
    expect(response).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_json", message: "Signed payload is not valid JSON." } },
    });
    expect(await inbox.get("evt_truncated")).toBeUndefined();
    expect(await drainQueue()).toEqual([]);
  });

  it("refuses a signed payload that is not a Stripe event with 400", async () => {
    const payload = JSON.stringify({ hello: "world" });
    const response = await post(payload, sign(payload));
    expect(response).toMatchObject({ status: 400, body: { error: { code: "invalid_event" } } });
  });

  it("refuses a body over 256 KB with 413 before looking at it", async () => {
    const payload = JSON.stringify({ ...subscriptionEvent(), padding: "x".repeat(300 * 1024) });
    const response = await post(payload, sign(payload));
    expect(response.status).toBe(413);
  });
});

describe("STRIPE_WEBHOOK_SECRET with several secrets (a rolling rotation)", () => {
  // Read at each delivery, as the function reads its secret source.
  const rolling = () => makeHandler({ ...deps, webhookSecret: async () => "whsec_old, whsec_new" });

  it("accepts a delivery signed under any listed secret", async () => {
    for (const [customer, signingSecret] of [
      ["cus_roll_old", "whsec_old"],
      ["cus_roll_new", "whsec_new"],
    ] as const) {
      const event = subscriptionEvent(customer);
      const payload = JSON.stringify(event);
      const response = await post(payload, sign(payload, { secret: signingSecret }), false, rolling());
      expect(response).toMatchObject({ status: 200, body: { outcome: "enqueued" } });
    }
    expect((await drainQueue()).map((m) => m.group).sort()).toEqual(["cus_roll_new", "cus_roll_old"]);
  });

  it.each([
    ["a secret not listed", (p: string) => sign(p, { secret: "whsec_other" }), /does not match the payload/],
    [
      "the second secret, stale",
      (p: string) => sign(p, { secret: "whsec_new", timestamp: Math.floor(Date.now() / 1000) - 301 }),
      /outside the tolerance/,
    ],
  ])("refuses %s with 400 invalid_signature, saying why", async (_name, signatureOf, why) => {
    const event = subscriptionEvent("cus_roll_refused");
    const payload = JSON.stringify(event);
    const response = await post(payload, signatureOf(payload), false, rolling());
    expect(response).toMatchObject({ status: 400, body: { error: { code: "invalid_signature" } } });
    expect(response.body.error.message).toMatch(why);
    expect(await inbox.get(event.id)).toBeUndefined();
  });

  it("answers 503 not_configured (Stripe retries) when the secret holds no signing secret", async () => {
    const payload = JSON.stringify(subscriptionEvent("cus_roll_none"));
    const none = makeHandler({ ...deps, webhookSecret: async () => " , " });
    const response = await post(payload, sign(payload), false, none);
    expect(response).toMatchObject({ status: 503, body: { error: { code: "not_configured" } } });
    expect(response.body.error.message).toMatch(/STRIPE_WEBHOOK_SECRET/);
  });
});
