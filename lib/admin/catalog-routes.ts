import { badRequest, HttpError, notFound } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { loadStripeSdk } from "#lib/stripe/client.ts";
import type { AdminDeps } from "./deps.ts";

/** The catalog as loaded, and Stripe's customer portal (reachable only through the admin API, docs/architecture.md §9). */
export function catalogRoutes(deps: AdminDeps): Record<string, RouteHandler> {
  return {
    "GET /admin/catalog": async () => ({ body: deps.ctx.catalog }),

    "POST /admin/billing/portal-sessions": async ({
      body,
    }: RouteInput<{ customerId: string; returnUrl: string }>) => {
      const origin = new URL(body.returnUrl).origin;
      if (!deps.config.checkoutAllowedOrigins.includes(origin)) {
        throw badRequest(
          `returnUrl must be on an allowed origin (CHECKOUT_ALLOWED_ORIGINS), not ${origin}.`,
          [{ path: "body.returnUrl", message: "origin not allowed" }],
        );
      }
      try {
        const stripe = await deps.ctx.stripe.sdk();
        const session = await stripe.billingPortal.sessions.create({
          customer: body.customerId,
          return_url: body.returnUrl,
        });
        return { status: 201, body: { url: session.url } };
      } catch (error) {
        const { errors } = await loadStripeSdk();
        if (
          error instanceof errors.StripeError &&
          (error.statusCode === 404 || error.code === "resource_missing")
        ) {
          throw notFound(`No Stripe customer ${body.customerId}.`);
        }
        if (error instanceof errors.StripeError && error.statusCode !== undefined && error.statusCode < 500) {
          throw new HttpError(502, "stripe_refused", "Stripe refused to create the portal session.");
        }
        throw error;
      }
    },
  };
}
