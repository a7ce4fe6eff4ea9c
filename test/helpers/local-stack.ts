import Stripe from "stripe";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "#local/stack.ts";
import { sharedTable } from "./shared-dynamodb.ts";

/**
 * The local stack on free ports with short queue timings, as every e2e test file runs it. Under
 * vitest, its store is a table of its own in the run's shared DynamoDB Local (./shared-dynamodb.ts)
 * unless `overrides` name an endpoint or a table; elsewhere the stack starts its own.
 */
export async function startTestStack(
  overrides: Record<string, string | undefined> = {},
  options: LocalStackOptions = {},
): Promise<TestStack> {
  const shared =
    overrides.DYNAMODB_ENDPOINT === undefined && overrides.TABLE_NAME === undefined
      ? await sharedTable("stack")
      : undefined;
  const stack = await startLocalStack(
    {
      ...(shared ? { DYNAMODB_ENDPOINT: shared.endpoint, TABLE_NAME: shared.tableName } : {}),
      PORT: "0",
      INTEGRATOR_API_URL: "http://127.0.0.1:0/v1",
      STRIPE_API_URL: "http://127.0.0.1:0",
      LOG_LEVEL: "WARN",
      // A create whose answer was lost and that never lands is created again 2 s after (AWS: 5 min),
      // so the tests of integrator.io's faults wait no longer than the queue's own retry.
      LATE_COMMIT_WINDOW_SECONDS: "2",
      ...overrides,
    },
    { visibilityTimeoutSeconds: 2, pollWaitSeconds: 1, workerConcurrency: 2, ...options },
  ).catch(async (error: unknown) => {
    await shared?.drop();
    throw error;
  });
  const stopStack = stack.stop;
  const stripeUrl = new URL(stack.urls.stripe);
  const stripe = new Stripe(stack.env.STRIPE_SECRET_KEY ?? "sk_test_local", {
    host: stripeUrl.hostname,
    port: Number(stripeUrl.port),
    protocol: "http",
    maxNetworkRetries: 0,
  });
  return Object.assign(stack, {
    stripe,
    integratorOrigin: new URL(stack.urls.integrator).origin,
    vendorToken: stack.env.INTEGRATOR_TOKEN ?? "",
    adminToken: stack.env.ADMIN_TOKEN ?? "",
    stop: async () => {
      await stopStack();
      await shared?.drop();
    },
  });
}

export type TestStack = LocalStack & {
  stripe: Stripe;
  integratorOrigin: string;
  vendorToken: string;
  adminToken: string;
};

/** Polls `probe` until it returns something other than undefined/false. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 200, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
}

/** GET/POST/PUT against the integrator.io simulator with the vendor token (or another). */
export async function integratorApi<T = unknown>(
  stack: TestStack,
  method: string,
  path: string,
  body?: unknown,
  token = stack.vendorToken,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${stack.urls.integrator}${path}`, {
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

/** The simulator's control API (`/_sim/...`). */
export async function simControl<T = unknown>(
  origin: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** An integrator.io account in the simulator, so licenses for `email` can be created. */
export const createIntegratorUser = (stack: TestStack, email: string) =>
  simControl<{ _id: string; email: string; token: string }>(stack.integratorOrigin, "POST", "/_sim/users", {
    email,
  });

/** Every license of a connector in the simulator (all pages). */
export async function connectorLicenses(stack: TestStack, connectorId: string) {
  const all: {
    _id: string;
    expires: string;
    opts: { connectorEdition?: string; addonLicenses?: unknown[] };
    user: { email: string };
  }[] = [];
  let skip = 0;
  for (;;) {
    const page = await integratorApi<typeof all>(
      stack,
      "GET",
      `/connectors/${connectorId}/licenses?skip=${skip}&limit=100`,
    );
    all.push(...page.body);
    if (page.body.length < 100) return all;
    skip += 100;
  }
}
