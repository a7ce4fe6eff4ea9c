import { type Config, checkStripeKey, LivemodeMismatchError } from "../config.ts";
import type { ProductMetrics } from "../observability/metrics.ts";
import { NotConfiguredError, type SecretSource } from "../secrets.ts";

/**
 * The Stripe key of a function that holds one (lib/functions.ts), as a getter for `createStripe`,
 * behind the livemode guard: every new value of `STRIPE_SECRET_KEY` — at cold start, here, and each
 * rotated key a later read brings — must be of `STRIPE_LIVEMODE`'s mode. A key of the other mode
 * counts `LivemodeMismatch` (published at once: the alarm watches it) and throws
 * `LivemodeMismatchError` naming both settings, at every read until a key of the right mode
 * arrives: the cold start fails, and so do later invocations (`lambdaHandler` reads the secrets
 * before each) and Stripe calls.
 */
export async function stripeKeyOf(
  secrets: SecretSource,
  config: Pick<Config, "stripeLivemode">,
  metrics: ProductMetrics,
): Promise<() => Promise<string>> {
  if (!secrets.has("STRIPE_SECRET_KEY")) throw new Error("STRIPE_SECRET_KEY is not configured");
  secrets.check("STRIPE_SECRET_KEY", (key) => {
    try {
      checkStripeKey(key, config.stripeLivemode);
    } catch (error) {
      if (error instanceof LivemodeMismatchError) {
        metrics.count("LivemodeMismatch");
        metrics.flush();
      }
      throw error;
    }
  });
  const read = async () => {
    const key = await secrets.current("STRIPE_SECRET_KEY");
    if (!key) throw new Error("STRIPE_SECRET_KEY is not available (its secret holds no value)");
    return key;
  };
  // A key not configured yet (its placeholder) fails each use with 503 not_configured, not the cold start.
  await read().catch((error: unknown) => {
    if (!(error instanceof NotConfiguredError)) throw error;
  });
  return read;
}
