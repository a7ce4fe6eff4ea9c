import type Stripe from "stripe";
import type * as z from "zod/mini";
import type { Config } from "../config.ts";
import { stripeEndpoint } from "./endpoint.ts";
import {
  type StripeCustomer,
  type StripeInvoice,
  type StripeSubscription,
  stripeCustomerSchema,
  stripeInvoiceSchema,
  stripeSubscriptionSchema,
} from "./schemas.ts";
import { describeIssues, type StripeObjectType, UnrecognisedStripeObject } from "./unrecognised.ts";

/** The SDK's class, its module imported on first use (the SDK is ~240 KB of a bundle to evaluate). */
let sdkClass: Promise<typeof Stripe> | undefined;

/**
 * The official SDK's class (`Stripe`, its `errors`, `API_VERSION`), imported once, at the first
 * call: a function whose request never reaches Stripe never evaluates the SDK (docs/architecture.md §8).
 */
export function loadStripeSdk(): Promise<typeof Stripe> {
  sdkClass ??= import("stripe").then(
    (module) => module.default,
    (error: unknown) => {
      sdkClass = undefined;
      throw error;
    },
  );
  return sdkClass;
}

/** A Stripe client built at its first use (`createStripe`); every call after answers the same client. */
export type StripeSdk = () => Promise<Stripe>;

/**
 * The official SDK, pointed at `STRIPE_API_URL` (the simulator locally, Stripe in production),
 * built — and the SDK imported — at the first call of the returned function, once.
 * `secretKey` is the key, or how to read it: then every request (every retry too) asks for the key
 * as it is now, through the SDK's `authenticator`, so a rotated key takes over on the same client.
 */
export function createStripe(
  config: Pick<Config, "stripeApiUrl">,
  secretKey: string | (() => Promise<string>),
): StripeSdk {
  // Parsed now: a malformed URL still fails the cold start, not the first Stripe call.
  const url = new URL(config.stripeApiUrl);
  let client: Promise<Stripe> | undefined;
  const build = (StripeClass: typeof Stripe): Stripe => {
    const auth = typeof secretKey === "string" ? {} : keyReadingAuth(StripeClass, secretKey);
    return new StripeClass(typeof secretKey === "string" ? secretKey : "", {
      ...auth,
      ...stripeEndpoint(url),
      maxNetworkRetries: 2,
      timeout: 10_000,
      telemetry: false,
      appInfo: { name: "integrator-licensing" },
    });
  };
  return () => {
    client ??= loadStripeSdk().then(build, (error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };
}

/** The header by which `keyReadingAuth`'s authenticator hands a refused key read to its HTTP client. */
const REFUSED_HEADER = "x-integrator-licensing-key-refused";

/**
 * The SDK's `authenticator` reading the key at each request, and an HTTP client that fails the
 * request when the read failed (a key not configured yet, a livemode mismatch, Secrets Manager
 * down). The SDK does not survive an authenticator that throws: it leaves the call pending forever
 * and rejects a promise nobody holds (an unhandled rejection ends a Lambda invocation). So the
 * authenticator never throws; the client rejects with the read's error, which the SDK gives the
 * caller as a connection error whose `detail` it is (lib/http/http-function.ts answers an
 * `HttpError` found there, e.g. 503 not_configured).
 */
function keyReadingAuth(StripeClass: typeof Stripe, secretKey: () => Promise<string>) {
  const refused = new Map<string, unknown>();
  let next = 0;
  const base = StripeClass.createNodeHttpClient();
  const httpClient: typeof base = Object.create(base);
  httpClient.makeRequest = (...args: Parameters<typeof base.makeRequest>) => {
    const headers = args[4] as Record<string, unknown>;
    const id = headers[REFUSED_HEADER];
    if (typeof id === "string" && refused.has(id)) {
      const error = refused.get(id);
      refused.delete(id);
      return Promise.reject(error);
    }
    return base.makeRequest(...args);
  };
  return {
    httpClient,
    authenticator: async (request: { headers: Record<string, unknown> }) => {
      try {
        request.headers.Authorization = `Bearer ${await secretKey()}`;
      } catch (error) {
        next += 1;
        refused.set(String(next), error);
        request.headers[REFUSED_HEADER] = String(next);
      }
    },
  };
}

/** The SDK's objects carry response metadata; we keep plain JSON, as a webhook would carry it. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const isMissing = async (error: unknown) => {
  const { errors } = await loadStripeSdk();
  return (
    error instanceof errors.StripeError && (error.statusCode === 404 || error.code === "resource_missing")
  );
};

/** An object fetched in the pinned API version, parsed; one that does not parse is `UnrecognisedStripeObject`. */
function parsePinned<S extends z.ZodMiniType>(
  schema: S,
  type: StripeObjectType,
  id: string,
  value: unknown,
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new UnrecognisedStripeObject(type, id, describeIssues(parsed.error.issues, value));
  return parsed.data;
}

/**
 * The Stripe API calls the worker and reconcile make, in the SDK's pinned API version
 * (`Stripe.API_VERSION`), parsed into our schemas. An object that does not parse even so carries
 * something Stripe added since: `UnrecognisedStripeObject`.
 */
export class StripeAccount {
  /** `sdk`: the client (`createStripe`), built at the first call that needs it. */
  constructor(readonly sdk: StripeSdk) {}

  /** The subscription as Stripe holds it now, or `undefined` when Stripe answers 404. */
  async subscription(subscriptionId: string): Promise<StripeSubscription | undefined> {
    const raw = await this.retrieve((stripe) => stripe.subscriptions.retrieve(subscriptionId));
    return raw === undefined
      ? undefined
      : parsePinned(stripeSubscriptionSchema, "subscription", subscriptionId, raw);
  }

  /** The customer, or `undefined` when Stripe answers 404. A deleted customer comes back with `deleted: true`. */
  async customer(customerId: string): Promise<StripeCustomer | undefined> {
    const raw = await this.retrieve((stripe) => stripe.customers.retrieve(customerId));
    return raw === undefined ? undefined : parsePinned(stripeCustomerSchema, "customer", customerId, raw);
  }

  /** The invoice, or `undefined` when Stripe answers 404. */
  async invoice(invoiceId: string): Promise<StripeInvoice | undefined> {
    const raw = await this.retrieve((stripe) => stripe.invoices.retrieve(invoiceId));
    return raw === undefined ? undefined : parsePinned(stripeInvoiceSchema, "invoice", invoiceId, raw);
  }

  /** The object as plain JSON, or `undefined` when Stripe answers 404. */
  private async retrieve(call: (stripe: Stripe) => Promise<unknown>): Promise<unknown> {
    const stripe = await this.sdk();
    try {
      return plain(await call(stripe));
    } catch (error) {
      if (await isMissing(error)) return undefined;
      throw error;
    }
  }
}
