import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as consoleFunction from "#functions/console.ts";
import * as fallback from "#functions/fallback.ts";
import * as health from "#functions/health.ts";
import * as openapi from "#functions/openapi.ts";
import * as stripeWebhook from "#functions/stripe-webhook.ts";
import { Operators } from "#lib/access/operators.ts";
import { createDocumentClient } from "#lib/aws.ts";
import { type FunctionName, functionTable } from "#lib/functions.ts";
import type { HttpEvent, HttpResult } from "#lib/http/types.ts";
import { type Environment, loadEnvironment } from "#lib/runtime.ts";
import { Table } from "#lib/store/dynamo.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { type LocalQueues, startLocalQueues } from "#local/queues.ts";
import { type RecordedCall, startCallRecorder } from "#test/helpers/aws-call-recorder.ts";
import { declaredActions } from "#test/helpers/declared-access.ts";
import { signedDelivery } from "#test/helpers/function-harness.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";
import { makeCustomer, makeEvent, makeSubscription } from "#test/helpers/stripe-fixtures.ts";

// The functions' real wiring (createDeps from the environment), with DynamoDB Local and the SQS
// emulator behind recording proxies: every call a function makes is one its `access` in
// lib/functions.ts declares — what its IAM role allows in AWS — on the items it declares, and
// (the functions driven through all their paths here) every declared call is made.
const tableName = "function-access-test";
const webhookSecret = "whsec_function_access";
let dynamo: DynamoDbLocal;
let queues: LocalQueues;
let dynamoCalls: Awaited<ReturnType<typeof startCallRecorder>>;
let sqsCalls: Awaited<ReturnType<typeof startCallRecorder>>;
let environment: Environment;

beforeAll(async () => {
  [dynamo, queues] = await Promise.all([startDynamoDbLocal({ port: 0 }), startLocalQueues()]);
  await createTable(dynamo.endpoint, tableName);
  [dynamoCalls, sqsCalls] = await Promise.all([
    startCallRecorder(dynamo.endpoint),
    startCallRecorder(queues.endpoint),
  ]);
  environment = await loadEnvironment({
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: dynamoCalls.endpoint,
    SQS_ENDPOINT: sqsCalls.endpoint,
    QUEUE_URL: queues.queueUrl,
    DLQ_URL: queues.dlqUrl,
    STRIPE_WEBHOOK_SECRET: webhookSecret,
    STRIPE_API_URL: "http://127.0.0.1:9",
    INTEGRATOR_API_URL: "http://127.0.0.1:9/v1",
    LOG_LEVEL: "ERROR",
  });
}, 60_000);
afterAll(async () => {
  await Promise.all([dynamoCalls?.stop(), sqsCalls?.stop()]);
  await Promise.all([dynamo?.stop(), queues?.stop()]);
});

type HttpHandler = (event: HttpEvent, context: typeof lambdaContext) => Promise<HttpResult>;
interface HttpFunctionModule {
  createDeps(environment: Environment): unknown;
  makeHandler(deps: never): HttpHandler;
}
const modules: Partial<Record<FunctionName, HttpFunctionModule>> = {
  "stripe-webhook": stripeWebhook,
  console: consoleFunction,
  health,
  fallback,
  openapi,
};

/** A function's HTTP handler as its module builds it for Lambda, from this test's environment. */
async function handlerOf(name: FunctionName): Promise<HttpHandler> {
  const module = modules[name] as HttpFunctionModule;
  return module.makeHandler((await module.createDeps(environment)) as never);
}

/** The calls `work` makes through the recording proxies. */
async function callsDuring(work: () => Promise<void>): Promise<RecordedCall[]> {
  dynamoCalls.calls.length = 0;
  sqsCalls.calls.length = 0;
  await work();
  return [...dynamoCalls.calls, ...sqsCalls.calls];
}

/** Every call is declared and on a declared key; with `everyDeclared`, each declared action was called. */
function expectWithinAccess(name: FunctionName, calls: RecordedCall[], everyDeclared: boolean) {
  const access = functionTable[name].access;
  const declared = declaredActions(access);
  for (const call of calls) {
    expect(declared, `${name} calls ${call.action}`).toContain(call.action);
    const prefixes = access?.table?.keyPrefixes;
    if (prefixes && call.action.startsWith("dynamodb:")) {
      expect(call.partitionKeys.length, `${name} ${call.action} names no item`).toBeGreaterThan(0);
      const reading = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"].includes(call.action);
      const allowed = [...prefixes, ...(reading ? (access?.table?.readOnlyKeyPrefixes ?? []) : [])];
      for (const key of call.partitionKeys) {
        expect(
          allowed.some((prefix) => key.startsWith(prefix)),
          `${name} ${call.action} on ${key}`,
        ).toBe(true);
      }
    }
  }
  if (everyDeclared) expect(new Set(calls.map((call) => call.action))).toEqual(declared);
}

describe("what the functions call in AWS", () => {
  it("stripe-webhook: only gets, puts and updates EVENT# items, and sends to the queue", async () => {
    const webhook = await handlerOf("stripe-webhook");
    const deliver = async (event: object, secret = webhookSecret) =>
      (await webhook(signedDelivery(JSON.stringify(event), secret), lambdaContext)).statusCode;
    const customer = makeCustomer({ id: "cus_access" });
    const created = makeEvent("customer.subscription.created", makeSubscription({ customer: customer.id }));
    const calls = await callsDuring(async () => {
      expect(await deliver(created)).toBe(200); // recorded, queued, marked enqueued
      expect(await deliver(created)).toBe(200); // a duplicate: read back
      expect(await deliver(makeEvent("charge.refunded", { id: "ch_1", object: "charge" }))).toBe(200);
      expect(await deliver(makeEvent("customer.created", customer, { livemode: true }))).toBe(200);
    });
    expectWithinAccess("stripe-webhook", calls, true);

    const forged = await callsDuring(async () => {
      expect(await deliver(created, "whsec_someone_else")).toBe(400);
    });
    expect(forged).toEqual([]);
  });

  it("console: reads OPERATOR# items, and gets, puts and deletes SESSION# items, nothing else", async () => {
    // The operator is made straight in DynamoDB Local (not through the recorder): the admin API's work.
    const direct = new Table(
      createDocumentClient({ dynamodbEndpoint: dynamo.endpoint, awsRegion: "us-east-1" }),
      tableName,
    );
    const { token } = await new Operators(direct).add("access-check", "viewer", "root");
    const console = await handlerOf("console");
    const json = { "content-type": "application/json" };
    const calls = await callsDuring(async () => {
      const signedIn = await console(
        httpEvent("POST /console/session", { headers: json, body: JSON.stringify({ token }) }),
        lambdaContext,
      );
      expect(signedIn.statusCode).toBe(201);
      const cookie = (signedIn.cookies?.[0] ?? "").split(";")[0] ?? "";
      const { csrfToken } = JSON.parse(signedIn.body ?? "{}") as { csrfToken: string };
      expect(
        (await console(httpEvent("GET /console/session", { headers: { cookie } }), lambdaContext)).statusCode,
      ).toBe(200);
      const out = await console(
        httpEvent("DELETE /console/session", { headers: { cookie, "x-csrf-token": csrfToken } }),
        lambdaContext,
      );
      expect(out.statusCode).toBe(204);
    });
    expectWithinAccess("console", calls, true);
    const written = calls.filter((call) => call.action !== "dynamodb:GetItem");
    for (const call of written)
      expect(
        call.partitionKeys.every((key) => key.startsWith("SESSION#")),
        call.action,
      ).toBe(true);
  });

  it("health: describes the table and reads the queue's attributes", async () => {
    const health = await handlerOf("health");
    const calls = await callsDuring(async () => {
      expect((await health(httpEvent("GET /health"), lambdaContext)).statusCode).toBe(200);
    });
    expectWithinAccess("health", calls, true);
  });

  it("fallback and openapi: call nothing", async () => {
    for (const [name, routeKey, path] of [
      ["fallback", "$default", "/nowhere"],
      ["openapi", "GET /openapi.json", "/openapi.json"],
    ] as const) {
      const handler = await handlerOf(name);
      const calls = await callsDuring(async () => {
        await handler(httpEvent(routeKey, { path }), lambdaContext);
      });
      expect(calls, name).toEqual([]);
      expect(declaredActions(functionTable[name].access), name).toEqual(new Set());
    }
  });
});
