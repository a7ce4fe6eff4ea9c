import * as z from "zod/mini";
import { DEFAULT_STALE_EVENT_MINUTES, LATE_COMMIT_WINDOW_MS } from "#lib/engine/timing.ts";

/**
 * Every setting of the product, read from the environment once at cold start and validated.
 * A missing or malformed value fails loudly with the variable's name. Nothing else in the code
 * reads `process.env`.
 *
 * Secrets have local defaults (printed by `npm start` only while they are the default); inside
 * AWS Lambda those defaults never apply: the stack passes Secrets Manager ids instead
 * (`*_SECRET_ID`), read by `lib/secrets.ts` and read again once `SECRETS_MAX_AGE_SECONDS` have passed.
 */

const csv = z.pipe(
  z.string(),
  z.transform((value) =>
    value
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean),
  ),
);
const origins = z.pipe(
  csv,
  z.array(
    z
      .string()
      .check(
        z.regex(
          /^https?:\/\/[^/\s]+$/,
          "must be a comma-separated list of origins like https://shop.example.com",
        ),
      ),
  ),
);
const port = z.coerce
  .number("must be a port number")
  .check(z.int("must be a port number"), z.minimum(0), z.maximum(65535));
const positive = z.coerce.number("must be a number").check(z.positive());
const httpUrl = z.string().check(z.regex(/^https?:\/\/\S+$/, "must be an http(s) URL"));
const secret = z.string().check(z.minLength(1, "must not be empty"));

export const LOCAL_DEFAULTS = {
  STRIPE_SECRET_KEY: "sk_test_local",
  STRIPE_WEBHOOK_SECRET: "whsec_local",
  STRIPE_API_URL: "http://127.0.0.1:3200",
  INTEGRATOR_API_URL: "http://127.0.0.1:3100/v1",
  INTEGRATOR_TOKEN: "local-integrator-token",
  INTEGRATOR_SYSTEM_TOKEN: "local-system-token",
  ADMIN_TOKEN: "local-admin-token",
  CURSOR_SIGNING_KEY: "local-cursor-signing-key",
  CONSOLE_SESSION_KEY: "local-console-session-key",
} as const;

/** The names of the settings that are secrets: never printed (unless the local default), never logged. */
export const SECRET_SETTINGS = [
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "INTEGRATOR_TOKEN",
  "INTEGRATOR_SYSTEM_TOKEN",
  "ADMIN_TOKEN",
  "CURSOR_SIGNING_KEY",
  "CONSOLE_SESSION_KEY",
] as const;
export type SecretSetting = (typeof SECRET_SETTINGS)[number];

/**
 * What a secret the vendor sets (the Stripe key, the webhook secret, the integrator.io token) holds
 * until it is set: CDK creates them holding it (cdk/secrets.ts), and a function reading it
 * answers "not configured" (lib/secrets.ts) instead of calling Stripe or integrator.io with it.
 */
export const SECRET_PLACEHOLDER = "NOT_CONFIGURED_YET";

/**
 * Why `value` of secret `name` does not count as configured, or undefined when it does: the
 * placeholder, or a value of the wrong form (a Stripe key not `sk_`/`rk_` + test/live, a webhook
 * secret — each of a comma-separated list — not `whsec_`). The reason never quotes the value.
 */
export function notConfiguredReason(name: SecretSetting, value: string): string | undefined {
  // CDK's placeholder is {"placeholder":"NOT_CONFIGURED_YET",...}; the bare marker counts too.
  if (value.includes(SECRET_PLACEHOLDER)) return "it still holds its placeholder";
  if (name === "STRIPE_SECRET_KEY" && !/^(sk|rk)_(test|live)_/.test(value))
    return "it is not a Stripe secret key (sk_test_, sk_live_, rk_test_ or rk_live_)";
  if (
    name === "STRIPE_WEBHOOK_SECRET" &&
    !value
      .split(",")
      .map((part) => part.trim())
      .every((part) => part.startsWith("whsec_"))
  )
    return "it is not a webhook signing secret (whsec_…, or several comma-separated)";
  return undefined;
}

const schema = z.object({
  // The single DynamoDB table (CDK passes its generated name).
  TABLE_NAME: z._default(z.string().check(z.minLength(1)), "integrator-licensing"),
  // Local only: DynamoDB Local / SQS emulator endpoints; unset in AWS.
  DYNAMODB_ENDPOINT: z.optional(httpUrl),
  SQS_ENDPOINT: z.optional(httpUrl),
  // Region for the AWS SDK clients (Lambda sets AWS_REGION itself).
  AWS_REGION: z._default(z.string(), "us-east-1"),
  // The FIFO queue the webhook feeds and the worker drains, and its DLQ (the local stack sets both).
  QUEUE_URL: z._default(z.string(), ""),
  DLQ_URL: z._default(z.string(), ""),
  // EventBridge bus for domain events; empty = record and log only (local stack).
  EVENT_BUS_NAME: z._default(z.string(), ""),
  // Stripe API key; sk_test_local means the Stripe simulator.
  STRIPE_SECRET_KEY: z.optional(secret),
  // Secret(s) that sign webhook deliveries (Stripe dashboard / `stripe listen`), comma-separated
  // during a rolling rotation: a delivery signed under any of them is accepted.
  STRIPE_WEBHOOK_SECRET: z.optional(secret),
  // Whether the Stripe account is in live mode; events of the other mode are ignored. Unset: from
  // the key's prefix. In Lambda the key arrives later (Secrets Manager), so CDK sets it explicitly,
  // and each key read is checked against it (`checkStripeKey`).
  STRIPE_LIVEMODE: z.optional(z.enum(["true", "false"])),
  // Base URL of the Stripe API; defaults to the simulator while the key is the local one.
  STRIPE_API_URL: z.optional(httpUrl),
  // integrator.io API base (US: https://api.integrator.io/v1, EU: https://api.eu.integrator.io/v1).
  INTEGRATOR_API_URL: z._default(httpUrl, LOCAL_DEFAULTS.INTEGRATOR_API_URL),
  // The vendor (partner) account's API token.
  INTEGRATOR_TOKEN: z.optional(secret),
  // The stack's system token integrator.io sends to POST /integrator/function.
  INTEGRATOR_SYSTEM_TOKEN: z.optional(secret),
  // Bearer token of the admin API and CLI.
  ADMIN_TOKEN: z.optional(secret),
  // Key of the HMAC that authenticates list cursors (lib/http/page-cursor.ts).
  CURSOR_SIGNING_KEY: z.optional(secret),
  // Key of the HMAC that signs the console's session cookies (lib/access/sessions.ts).
  CONSOLE_SESSION_KEY: z.optional(secret),
  // integrator.io's per-account bucket: 1000 requests, refilled at 300/s.
  INTEGRATOR_RATE_CAPACITY: z._default(positive, 1000),
  INTEGRATOR_RATE_REFILL_PER_SECOND: z._default(positive, 300),
  // Share of the account's limit this deployment may use (other tools may share the account).
  INTEGRATOR_RATE_SHARE: z._default(z.coerce.number().check(z.positive(), z.maximum(1)), 1),
  // Most of the refill the bulk lane (reconcile, listings sync) takes while other work waits.
  INTEGRATOR_BULK_SHARE: z._default(z.coerce.number().check(z.positive(), z.maximum(1)), 0.2),
  // Where the catalog of connectors, editions and prices lives.
  CATALOG_PATH: z._default(z.string(), "local/catalog.json"),
  // Where the operator console's built page and assets are (npm run build:console; CDK bundles them).
  CONSOLE_ASSETS_DIR: z._default(z.string(), "dist/console"),
  // Where the API reference page's built files are (npm run build:docs; CDK bundles them).
  DOCS_ASSETS_DIR: z._default(z.string(), "dist/docs"),
  // Origins checkout success/cancel URLs may point at.
  CHECKOUT_ALLOWED_ORIGINS: z.prefault(origins, "http://localhost:3000"),
  // Origins allowed to call the public marketplace routes from a browser.
  CORS_ALLOWED_ORIGINS: z.prefault(origins, "http://localhost:3000"),
  // Port of the local gateway (npm start); 0 = any free port.
  PORT: z._default(port, 3000),
  // Reconcile re-enqueues inbox events left `received`/`enqueued` this long: well past a normal
  // queue round trip, short enough that a lost enqueue is repaired by the next 15-minute run.
  RECONCILE_STALE_EVENT_MINUTES: z._default(positive, DEFAULT_STALE_EVENT_MINUTES),
  // How long a license create whose answer was lost may still land in integrator.io before it is
  // created again (lib/engine/timing.ts, LATE_COMMIT_WINDOW_MS).
  LATE_COMMIT_WINDOW_SECONDS: z._default(positive, LATE_COMMIT_WINDOW_MS / 1000),
  // Powertools log level.
  LOG_LEVEL: z._default(z.enum(["DEBUG", "INFO", "WARN", "ERROR", "SILENT"]), "INFO"),
  // Set by AWS Lambda: local secret defaults never apply there.
  AWS_LAMBDA_FUNCTION_NAME: z.optional(z.string()),
  // How long a secret read from Secrets Manager is used before it is read again: a rotated or
  // revoked secret takes effect within this on every warm function.
  SECRETS_MAX_AGE_SECONDS: z._default(
    z.coerce
      .number("must be a whole number of seconds")
      .check(z.int("must be a whole number of seconds"), z.positive()),
    300,
  ),
  // Local only: a Secrets Manager endpoint (tests); unset in AWS.
  SECRETS_MANAGER_ENDPOINT: z.optional(httpUrl),
  // In AWS, the Secrets Manager ids of the secrets (set by CDK).
  STRIPE_SECRET_KEY_SECRET_ID: z.optional(z.string()),
  STRIPE_WEBHOOK_SECRET_SECRET_ID: z.optional(z.string()),
  INTEGRATOR_TOKEN_SECRET_ID: z.optional(z.string()),
  INTEGRATOR_SYSTEM_TOKEN_SECRET_ID: z.optional(z.string()),
  ADMIN_TOKEN_SECRET_ID: z.optional(z.string()),
  CURSOR_SIGNING_KEY_SECRET_ID: z.optional(z.string()),
  CONSOLE_SESSION_KEY_SECRET_ID: z.optional(z.string()),
});

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface Config {
  tableName: string;
  dynamodbEndpoint: string | undefined;
  sqsEndpoint: string | undefined;
  awsRegion: string;
  queueUrl: string;
  dlqUrl: string;
  eventBusName: string;
  stripeApiUrl: string;
  /** True while Stripe is the local simulator (key unset or sk_test_local). */
  stripeIsLocal: boolean;
  /** The Stripe key's mode: events of the other mode are ignored. */
  stripeLivemode: boolean;
  integratorApiUrl: string;
  rateLimit: { capacity: number; refillPerSecond: number; share: number; bulkShare: number };
  catalogPath: string;
  consoleAssetsDir: string;
  docsAssetsDir: string;
  checkoutAllowedOrigins: string[];
  corsAllowedOrigins: string[];
  port: number;
  /** Minutes an inbox event may stay `received`/`enqueued` before reconcile queues it again. */
  reconcileStaleEventMinutes: number;
  /** How long a license create whose answer was lost may still land before it is created again. */
  lateCommitWindowMs: number;
  logLevel: "DEBUG" | "INFO" | "WARN" | "ERROR" | "SILENT";
  inLambda: boolean;
  /** Seconds a secret read from Secrets Manager is used before it is read again. */
  secretsMaxAgeSeconds: number;
  /** Local only: the Secrets Manager endpoint (tests). */
  secretsManagerEndpoint: string | undefined;
  /** Secret values given in the environment (local) — in Lambda, read from `secretIds`. */
  secrets: Partial<Record<SecretSetting, string>>;
  /** Secrets Manager ids per secret (AWS). */
  secretIds: Partial<Record<SecretSetting, string>>;
}

/** Validates `env` (default `process.env`) into a typed `Config`; throws `ConfigError` naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ""),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "environment"}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  const inLambda = e.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  const secrets: Partial<Record<SecretSetting, string>> = {};
  const secretIds: Partial<Record<SecretSetting, string>> = {};
  for (const name of SECRET_SETTINGS) {
    const id = e[`${name}_SECRET_ID`];
    if (id !== undefined) secretIds[name] = id;
    // A secret with an id is Secrets Manager's: the local default never hides it.
    const value = e[name] ?? (inLambda || id !== undefined ? undefined : LOCAL_DEFAULTS[name]);
    if (value !== undefined) secrets[name] = value;
  }
  const stripeKey = secrets.STRIPE_SECRET_KEY;
  const stripeIsLocal = stripeKey === undefined || stripeKey === LOCAL_DEFAULTS.STRIPE_SECRET_KEY;
  if (stripeKey !== undefined) checkStripeKeyFormat(stripeKey);
  return {
    tableName: e.TABLE_NAME,
    dynamodbEndpoint: e.DYNAMODB_ENDPOINT,
    sqsEndpoint: e.SQS_ENDPOINT,
    awsRegion: e.AWS_REGION,
    queueUrl: e.QUEUE_URL,
    dlqUrl: e.DLQ_URL,
    eventBusName: e.EVENT_BUS_NAME,
    stripeApiUrl:
      e.STRIPE_API_URL ?? (stripeIsLocal ? LOCAL_DEFAULTS.STRIPE_API_URL : "https://api.stripe.com"),
    stripeIsLocal,
    stripeLivemode: stripeLivemode(e.STRIPE_LIVEMODE, stripeKey),
    integratorApiUrl: e.INTEGRATOR_API_URL.replace(/\/+$/, ""),
    rateLimit: {
      capacity: e.INTEGRATOR_RATE_CAPACITY,
      refillPerSecond: e.INTEGRATOR_RATE_REFILL_PER_SECOND,
      share: e.INTEGRATOR_RATE_SHARE,
      bulkShare: e.INTEGRATOR_BULK_SHARE,
    },
    catalogPath: e.CATALOG_PATH,
    consoleAssetsDir: e.CONSOLE_ASSETS_DIR,
    docsAssetsDir: e.DOCS_ASSETS_DIR,
    checkoutAllowedOrigins: e.CHECKOUT_ALLOWED_ORIGINS,
    corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS,
    port: e.PORT,
    reconcileStaleEventMinutes: e.RECONCILE_STALE_EVENT_MINUTES,
    lateCommitWindowMs: e.LATE_COMMIT_WINDOW_SECONDS * 1000,
    logLevel: e.LOG_LEVEL,
    inLambda,
    secretsMaxAgeSeconds: e.SECRETS_MAX_AGE_SECONDS,
    secretsManagerEndpoint: e.SECRETS_MANAGER_ENDPOINT,
    secrets,
    secretIds,
  };
}

function stripeLivemode(setting: "true" | "false" | undefined, key: string | undefined): boolean {
  if (setting === undefined) return key === undefined ? false : isLiveKey(key);
  if (key !== undefined) checkStripeKey(key, setting === "true");
  return setting === "true";
}

const isLiveKey = (key: string) => /^(sk|rk)_live_/.test(key);

function checkStripeKeyFormat(key: string): void {
  if (!/^(sk|rk)_(test|live)_/.test(key)) {
    throw new ConfigError(
      "Invalid configuration: STRIPE_SECRET_KEY: must start with sk_test_, sk_live_, rk_test_ or rk_live_",
    );
  }
}

/** A Stripe key whose mode is not the configured `STRIPE_LIVEMODE`'s: the function refuses to run. */
export class LivemodeMismatchError extends ConfigError {
  override name = "LivemodeMismatchError";
}

/**
 * The livemode guard: throws `LivemodeMismatchError` when `key`'s prefix (`sk_live_`/`rk_live_`
 * or `sk_test_`/`rk_test_`) is not of `STRIPE_LIVEMODE`'s mode — a live key on a stack configured
 * for test mode would record every live event as ignored — and `ConfigError` for a key of no mode.
 * The message names both settings, never the key.
 */
export function checkStripeKey(key: string, livemode: boolean): void {
  checkStripeKeyFormat(key);
  if (isLiveKey(key) === livemode) return;
  const keyMode = isLiveKey(key) ? "live" : "test";
  throw new LivemodeMismatchError(
    `Invalid configuration: STRIPE_LIVEMODE is ${livemode} but STRIPE_SECRET_KEY is a ${keyMode}-mode key ` +
      `(${key.slice(0, 8)}…): set STRIPE_LIVEMODE=${!livemode} (CDK: -c stripeLivemode=${!livemode}) ` +
      `or store a ${livemode ? "live" : "test"}-mode key`,
  );
}

/** The port part of a URL (its explicit port, else 80/443). */
export function portOf(url: string): number {
  const parsed = new URL(url);
  return Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
}
