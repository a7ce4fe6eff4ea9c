/**
 * Every Lambda function of the product, by name. CDK builds one NodejsFunction per entry and the
 * local stack loads the same modules, so a handler is always named by its module path and no
 * bundle ever imports another handler.
 */
const definitions = {
  health: { entry: "functions/health.ts", trigger: "http", timeoutSeconds: 10, memoryMb: 256 },
  fallback: { entry: "functions/fallback.ts", trigger: "http", timeoutSeconds: 5, memoryMb: 128 },
  "stripe-webhook": {
    entry: "functions/stripe-webhook.ts",
    trigger: "http",
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  "provision-worker": {
    entry: "functions/provision-worker.ts",
    trigger: "queue",
    timeoutSeconds: 60,
    memoryMb: 512,
  },
  // Listings and checkout; a first request on an empty cache (and the admin sync) fills it inline.
  marketplace: {
    entry: "functions/marketplace.ts",
    trigger: "http",
    timeoutSeconds: 29,
    memoryMb: 512,
  },
  // Refreshes the stored listings from integrator.io and Stripe (local scheduler / EventBridge).
  "listings-sync": {
    entry: "functions/listings-sync.ts",
    trigger: "schedule",
    timeoutSeconds: 120,
    memoryMb: 256,
  },
  // The OpenAPI document, generated from the route table once per cold start.
  openapi: { entry: "functions/openapi.ts", trigger: "http", timeoutSeconds: 10, memoryMb: 256 },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionName = keyof typeof definitions;
export const functionTable: Record<FunctionName, FunctionDefinition> = definitions;

export interface FunctionDefinition {
  /** Module path from the repository root; it exports `handler`, `makeHandler` and `createDeps`. */
  entry: string;
  trigger: "http" | "queue" | "schedule";
  timeoutSeconds: number;
  memoryMb: number;
}
