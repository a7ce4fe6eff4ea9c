import Stripe from "stripe";
import { badRequest, HttpError, notFound } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { RouteInput } from "#lib/http/types.ts";
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
        const session = await deps.ctx.stripe.stripe.billingPortal.sessions.create({
          customer: body.customerId,
          return_url: body.returnUrl,
        });
        return { status: 201, body: { url: session.url } };
      } catch (error) {
        if (
          error instanceof Stripe.errors.StripeError &&
          (error.statusCode === 404 || error.code === "resource_missing")
        ) {
          throw notFound(`No Stripe customer ${body.customerId}.`);
        }
        if (
          error instanceof Stripe.errors.StripeError &&
          error.statusCode !== undefined &&
          error.statusCode < 500
        ) {
          throw new HttpError(502, "stripe_refused", "Stripe refused to create the portal session.");
        }
        throw error;
      }
    },
  };
}
