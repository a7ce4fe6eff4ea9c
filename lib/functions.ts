import { REDRIVE_REQUEST } from "./admin/redrive-request.ts";
import type { SecretSetting } from "./config.ts";
import { RECONCILE_REQUEST } from "./reconcile/request.ts";

/**
 * Every Lambda function of the product, by name. CDK builds one NodejsFunction per entry and the
 * local stack loads the same modules, so a handler is always named by its module path and no
 * bundle ever imports another handler.
 */
const definitions = {
  health: {
    entry: "functions/health.ts",
    trigger: "http",
    timeoutSeconds: 10,
    memoryMb: 256,
    // The Stripe key and the integrator.io token, read only to report one not configured yet (its
    // placeholder, or the wrong form); never a route's credential (the webhook secret reports itself: 503).
    access: {
      table: { actions: ["DescribeTable"] },
      queue: ["attributes"],
      secrets: ["STRIPE_SECRET_KEY", "INTEGRATOR_TOKEN"],
    },
  },
  fallback: { entry: "functions/fallback.ts", trigger: "http", timeoutSeconds: 5, memoryMb: 256, access: {} },
  "stripe-webhook": {
    entry: "functions/stripe-webhook.ts",
    trigger: "http",
    timeoutSeconds: 10,
    // Memory buys cold-start CPU here (RSS after init is ~70 MB): Stripe waits on this answer.
    memoryMb: 1024,
    // Verification needs only the webhook secret; the SDK is built with a placeholder key. It only
    // records, reads and moves its inbox item (lib/store/inbox.ts), so only `EVENT#` items.
    access: {
      table: { actions: ["GetItem", "PutItem", "UpdateItem"], keyPrefixes: ["EVENT#"] },
      queue: ["send"],
      secrets: ["STRIPE_WEBHOOK_SECRET"],
    },
  },
  "provision-worker": {
    entry: "functions/provision-worker.ts",
    trigger: "queue",
    timeoutSeconds: 60,
    memoryMb: 512,
    // Its queue grant comes with the trigger; GetItem and UpdateItem also serve the distributed
    // integrator.io token bucket, which lives in the table (every INTEGRATOR_TOKEN holder needs them).
    access: {
      table: { actions: ["GetItem", "PutItem", "UpdateItem", "Query"] },
      secrets: ["STRIPE_SECRET_KEY", "INTEGRATOR_TOKEN"],
      eventBus: true,
    },
  },
  // Listings and checkout, public only (no admin token); a first request on an empty cache fills it inline.
  marketplace: {
    entry: "functions/marketplace.ts",
    trigger: "http",
    timeoutSeconds: 29,
    memoryMb: 512,
    // BatchWriteItem: an inline fill writes a listing generation; DeleteItem: a trial claim let go.
    access: {
      table: { actions: ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchWriteItem"] },
      secrets: ["STRIPE_SECRET_KEY", "INTEGRATOR_TOKEN", "CURSOR_SIGNING_KEY"],
    },
  },
  // Refreshes the stored listings from integrator.io and Stripe (local scheduler / EventBridge).
  "listings-sync": {
    entry: "functions/listings-sync.ts",
    trigger: "schedule",
    timeoutSeconds: 120,
    memoryMb: 256,
    access: {
      table: { actions: ["GetItem", "PutItem", "UpdateItem", "Query", "BatchWriteItem"] },
      secrets: ["STRIPE_SECRET_KEY", "INTEGRATOR_TOKEN"],
    },
  },
  // The OpenAPI document, generated from the route table once per cold start, and the page that
  // renders it (GET /docs, its built files bundled beside the function).
  openapi: {
    entry: "functions/openapi.ts",
    trigger: "http",
    timeoutSeconds: 10,
    memoryMb: 256,
    servesDocs: true,
    access: {},
  },
  // The vendor's integrator.io stack (HTTP server stack behind API Gateway, or invoked directly as a
  // Lambda stack). 25 s: under API Gateway's 30 s integration limit, so the function answers
  // before the gateway's 503; the call itself stops a second before the timeout with an
  // integrator.io-format `timeout` error (lib/extension/dispatch.ts). Celigo's own server allows 300 s.
  "integrator-extension": {
    entry: "functions/integrator-extension.ts",
    trigger: "http",
    timeoutSeconds: 25,
    memoryMb: 512,
    access: {
      table: { actions: ["GetItem", "UpdateItem", "Query"] },
      secrets: ["INTEGRATOR_SYSTEM_TOKEN", "INTEGRATOR_TOKEN"],
      eventBus: true,
    },
  },
  // The admin API (bearer ADMIN_TOKEN, lib/admin). It starts reconcile runs by putting a
  // `reconcile.requested` event on the bus (RECONCILE_REQUEST, lib/reconcile/request.ts), lists and
  // redrives the dead-letter queue, and transfers licenses (Stripe metadata + integrator.io).
  admin: {
    entry: "functions/admin.ts",
    trigger: "http",
    timeoutSeconds: 29,
    memoryMb: 512,
    // Scan: the license list without a state; BatchWriteItem: the listings sync; DeleteItem: a
    // released lease (lib/store/leases.ts).
    access: {
      table: {
        actions: ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchWriteItem"],
      },
      queue: ["send"],
      dlq: ["consume", "attributes"],
      secrets: [
        "STRIPE_SECRET_KEY",
        "INTEGRATOR_TOKEN",
        "ADMIN_TOKEN",
        "CURSOR_SIGNING_KEY",
        "CONSOLE_SESSION_KEY",
      ],
      eventBus: true,
    },
  },
  // The operator console's page, assets and sign-in (lib/console). It holds no admin token: it
  // reads operators (to check a token's hash, never to write one) and writes sessions, nothing else.
  console: {
    entry: "functions/console.ts",
    trigger: "http",
    timeoutSeconds: 10,
    memoryMb: 256,
    servesConsole: true,
    access: {
      table: {
        actions: ["GetItem", "PutItem", "DeleteItem"],
        keyPrefixes: ["SESSION#"],
        readOnlyKeyPrefixes: ["OPERATOR#"],
      },
      secrets: ["CONSOLE_SESSION_KEY"],
    },
  },
  // Stripe ↔ store ↔ integrator.io on the schedule (every 15 minutes), and on the admin API's
  // `reconcile.requested` events: an EventBridge rule on the bus matching RECONCILE_REQUEST
  // (lib/reconcile/request.ts) invokes it asynchronously. A run may take minutes: Lambda's maximum.
  reconcile: {
    entry: "functions/reconcile.ts",
    trigger: "schedule",
    timeoutSeconds: 900,
    memoryMb: 1024,
    // And the admin API's dead-letter redrive jobs (REDRIVE_REQUEST, lib/admin/redrive-job.ts).
    busEvents: [RECONCILE_REQUEST, REDRIVE_REQUEST],
    // BatchGetItem: the owners of a connector's licenses; BatchWriteItem: a run's drift items;
    // DeleteItem: its released lease.
    access: {
      table: {
        actions: [
          "GetItem",
          "PutItem",
          "UpdateItem",
          "DeleteItem",
          "Query",
          "BatchGetItem",
          "BatchWriteItem",
        ],
      },
      queue: ["send"],
      // A redrive job moves the DLQ's messages back to the event queue.
      dlq: ["consume", "attributes"],
      secrets: ["STRIPE_SECRET_KEY", "INTEGRATOR_TOKEN"],
      eventBus: true,
    },
  },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionName = keyof typeof definitions;
export const functionTable: Record<FunctionName, FunctionDefinition> = definitions;

export interface FunctionDefinition {
  /** Module path from the repository root; it exports `handler`, `makeHandler` and `createDeps`. */
  entry: string;
  trigger: "http" | "queue" | "schedule";
  timeoutSeconds: number;
  memoryMb: number;
  /** What the function may touch in AWS; CDK grants exactly this (absent = nothing). */
  access?: FunctionAccess;
  /** Its bundle carries the built console (dist/console → `console/`, CONSOLE_ASSETS_DIR). */
  servesConsole?: boolean;
  /** Its bundle carries the built API reference page (dist/docs → `docs/`, DOCS_ASSETS_DIR). */
  servesDocs?: boolean;
  /** Events on the product's EventBridge bus that invoke it asynchronously (CDK adds one rule per pattern). */
  busEvents?: readonly BusEventPattern[];
}

/** An EventBridge event by `source` and `detail-type`. */
export interface BusEventPattern {
  source: string;
  detailType: string;
}

/**
 * Least privilege, declared beside the function: CDK turns each entry into IAM grants and sets
 * only the matching settings (a secret's `*_SECRET_ID` only where the secret may be read).
 */
export interface FunctionAccess {
  /** The single table: the DynamoDB calls the function's code makes, and on which items. */
  table?: TableAccess;
  /** The FIFO event queue. A `queue` trigger brings its own grant (receive, delete, attributes). */
  queue?: QueueAccess[];
  /** The dead-letter queue (inspection and replay). */
  dlq?: QueueAccess[];
  /** Secrets read from Secrets Manager (at cold start, then again once `SECRETS_MAX_AGE_SECONDS` old). */
  secrets?: SecretSetting[];
  /** Publishes domain events to the EventBridge bus (`EVENT_BUS_NAME`). */
  eventBus?: boolean;
}

/**
 * The DynamoDB actions a function calls, by their IAM names (one per SDK command: `GetCommand` and
 * `GetItemCommand` are `GetItem`). Query and Scan reach the indexes too.
 */
export type TableAction =
  | "DescribeTable"
  | "GetItem"
  | "BatchGetItem"
  | "Query"
  | "Scan"
  | "PutItem"
  | "UpdateItem"
  | "DeleteItem"
  | "BatchWriteItem";

export interface TableAccess {
  actions: readonly TableAction[];
  /**
   * Only items whose partition key starts with one of these (IAM `dynamodb:LeadingKeys`); absent:
   * any item. Calls without a key (Scan, DescribeTable) cannot be held to it, so they may not be declared with it.
   */
  keyPrefixes?: readonly string[];
  /**
   * Items under these partition-key prefixes may only be read (the declared GetItem, Query and
   * BatchGetItem); the declared writes stay on `keyPrefixes`. For a function that checks what
   * another writes, e.g. the console reading operators it must never create.
   */
  readOnlyKeyPrefixes?: readonly string[];
}

/** The table actions that only read. */
export const READ_TABLE_ACTIONS: ReadonlySet<TableAction> = new Set(["GetItem", "Query", "BatchGetItem"]);

/**
 * `send`: SendMessage; `consume`: ReceiveMessage, ChangeMessageVisibility and DeleteMessage;
 * `attributes`: GetQueueAttributes.
 */
export type QueueAccess = "send" | "consume" | "attributes";
