import type { Logger } from "@aws-lambda-powertools/logger";
import { createTable } from "#lib/engine/wiring.ts";
import { httpFunction } from "#lib/http/http-function.ts";
import { createLogger } from "#lib/observability/logger.ts";
import { ProductMetrics } from "#lib/observability/metrics.ts";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";
import { NotConfiguredError } from "#lib/secrets.ts";
import { Inbox } from "#lib/store/inbox.ts";
import { createStripe } from "#lib/stripe/client.ts";
import { receiveStripeEvent, type WebhookDeps } from "#lib/webhook/receive.ts";

export type Deps = WebhookDeps & { logger: Logger };

export const createDeps = ({ config, secrets }: Environment): Deps => ({
  // Verification needs no API key; the SDK only wants one to construct.
  stripe: createStripe(config, "sk_test_verification_only"),
  // Read at each delivery: a rotated (or added, comma-separated) secret takes effect within maxAge.
  webhookSecret: () => secrets.current("STRIPE_WEBHOOK_SECRET"),
  livemode: config.stripeLivemode,
  inbox: new Inbox(createTable(config)),
  sqs: createSqsClient(config),
  queueUrl: config.queueUrl,
  metrics: new ProductMetrics("stripe-webhook"),
  logger: createLogger("stripe-webhook", config),
});

/** POST /webhooks/stripe: verify → inbox → queue → 200. Never calls integrator.io. */
export const makeHandler = (deps: Deps) =>
  httpFunction(
    {
      "POST /webhooks/stripe": async ({ rawBody, headers }) => {
        try {
          const receipt = await receiveStripeEvent(rawBody, headers["stripe-signature"], deps);
          deps.logger.info("stripe event received", { ...receipt });
          return { status: 200, body: { received: true, ...receipt } };
        } catch (error) {
          // The signing secret not set yet: 503 not_configured, so Stripe delivers again later.
          if (error instanceof NotConfiguredError) deps.metrics.count("NotConfigured");
          throw error;
        } finally {
          deps.metrics.flush();
        }
      },
    },
    { logger: deps.logger },
  );

export const handler = lambdaHandler(createDeps, makeHandler);
