import Stripe from "stripe";
import type { Config } from "../config.ts";
import {
  type StripeCustomer,
  type StripeSubscription,
  stripeCustomerSchema,
  stripeSubscriptionSchema,
} from "./schemas.ts";

/** The official SDK, pointed at `STRIPE_API_URL` (the simulator locally, Stripe in production). */
export function createStripe(config: Pick<Config, "stripeApiUrl">, secretKey: string): Stripe {
  const url = new URL(config.stripeApiUrl);
  return new Stripe(secretKey, {
    host: url.hostname,
    port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    protocol: url.protocol === "https:" ? "https" : "http",
    maxNetworkRetries: 2,
    timeout: 10_000,
    telemetry: false,
    appInfo: { name: "integrator-licensing" },
  });
}

/** The SDK's objects carry response metadata; we keep plain JSON, as a webhook would carry it. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const isMissing = (error: unknown) =>
  error instanceof Stripe.errors.StripeError &&
  (error.statusCode === 404 || error.code === "resource_missing");

/** The Stripe API calls the worker and reconcile make, parsed into our schemas. */
export class StripeAccount {
  constructor(readonly stripe: Stripe) {}

  /** The subscription as Stripe holds it now, or `undefined` when Stripe answers 404. */
  async subscription(subscriptionId: string): Promise<StripeSubscription | undefined> {
    try {
      return stripeSubscriptionSchema.parse(plain(await this.stripe.subscriptions.retrieve(subscriptionId)));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** The customer, or `undefined` when Stripe answers 404. A deleted customer comes back with `deleted: true`. */
  async customer(customerId: string): Promise<StripeCustomer | undefined> {
    try {
      return stripeCustomerSchema.parse(plain(await this.stripe.customers.retrieve(customerId)));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Every subscription of every status, all pages. */
  async *allSubscriptions(): AsyncGenerator<StripeSubscription> {
    for await (const subscription of this.stripe.subscriptions.list({ status: "all", limit: 100 })) {
      yield stripeSubscriptionSchema.parse(plain(subscription));
    }
  }
}
