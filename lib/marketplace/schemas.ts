import * as z from "zod/mini";
import { pageCursorParam, pageLimitParam } from "../http/page-limit-param.ts";
import { identifier } from "../identifiers.ts";
import { ADDON_MAX_QUANTITY_CEILING } from "../licensing/catalog.ts";

/**
 * Request and response schemas of the marketplace and checkout routes. lib/routes.ts attaches
 * them to the route table, so validation, the stored listing types and the OpenAPI document all
 * come from here. zod/mini ships no messages, so every field a caller can get wrong carries its own.
 */

const required = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : `must be ${what}`),
});
const nonEmpty = z
  .string(required("a non-empty string"))
  .check(z.minLength(1, "must not be empty"), z.maxLength(200, "must be at most 200 characters"));

export const INTERVALS = ["month", "year"] as const;
export type CheckoutInterval = (typeof INTERVALS)[number];

/** One Stripe price as listed: `amount` in the currency's minor unit (cents), as Stripe gives it. */
export const listingPriceSchema = z.object({
  id: z.string(),
  lookupKey: z.nullable(z.string()),
  amount: z.nullable(
    z.number().check(z.describe("In the currency's minor unit (cents), as Stripe gives it.")),
  ),
  currency: z.string(),
  interval: z.enum(["day", "week", "month", "year"]),
  intervalCount: z.number(),
  trialDays: z
    .number()
    .check(z.describe("Free days before the first charge (the catalog's; checkout applies them).")),
});
export type ListingPrice = z.infer<typeof listingPriceSchema>;

const listingMedia = {
  description: z.optional(z.string()),
  imageURL: z.optional(z.string()),
  websiteURL: z.optional(z.string()),
  applications: z.array(z.string()),
};

export const connectorListingSchema = z.object({
  key: z.string(),
  connectorId: z.string(),
  name: z.string(),
  ...listingMedia,
  trialDays: z.number(),
  editions: z.array(z.object({ key: z.string(), name: z.string(), prices: z.array(listingPriceSchema) })),
  addons: z.array(
    z.object({
      key: z.string(),
      name: z.string(),
      type: z.string(),
      maxQuantity: z
        .number()
        .check(z.describe("The most units of this add-on one checkout (and license) takes.")),
      prices: z.array(listingPriceSchema),
    }),
  ),
});
export type ConnectorListing = z.infer<typeof connectorListingSchema>;

export const templateListingSchema = z.object({
  id: z.string(),
  name: z.string(),
  ...listingMedia,
  lastModified: z.optional(z.string()),
});
export type TemplateListing = z.infer<typeof templateListingSchema>;

export const connectorListResponse = z.object({ data: z.array(connectorListingSchema) });
export const templateListResponse = z.object({
  data: z.array(templateListingSchema),
  nextCursor: z.optional(z.string()),
});

export const connectorKeyParams = z.object({ key: identifier });
export const templateIdParams = z.object({ id: identifier });

export const MAX_TEMPLATE_PAGE = 100;
export const DEFAULT_TEMPLATE_PAGE = 20;

export const templateQuery = z.object({
  application: z.optional(
    nonEmpty.check(z.describe("Only templates for this application (case-insensitive), e.g. `Shopify`.")),
  ),
  q: z.optional(
    nonEmpty.check(z.describe("Text searched in name, description and applications (case-insensitive).")),
  ),
  limit: pageLimitParam(MAX_TEMPLATE_PAGE),
  cursor: pageCursorParam,
});
export type TemplateQuery = z.infer<typeof templateQuery>;

const url = z
  .url({ error: "must be an absolute http(s) URL", protocol: /^https?$/ })
  .check(z.maxLength(2000));

export const checkoutRequestSchema = z.strictObject({
  connector: nonEmpty.check(z.describe("Catalog connector key, e.g. `shopify-netsuite`.")),
  edition: nonEmpty.check(z.describe("Edition key of that connector, e.g. `standard`.")),
  interval: z.optional(
    z
      .enum(INTERVALS, {
        error: (issue) =>
          `unknown interval ${typeof issue.input === "string" ? JSON.stringify(issue.input.slice(0, 40)) : typeof issue.input}; expected "month" or "year"`,
      })
      .check(z.describe("Billing interval; absent: the edition's first listed price.")),
  ),
  addons: z.optional(
    z
      .array(
        z.strictObject({
          key: nonEmpty,
          quantity: z._default(
            z
              .int(required(`a whole number from 1 to ${ADDON_MAX_QUANTITY_CEILING}`))
              .check(
                z.minimum(1, "must be at least 1"),
                z.maximum(ADDON_MAX_QUANTITY_CEILING, `must be at most ${ADDON_MAX_QUANTITY_CEILING}`),
                z.describe("Units; at most the add-on's `maxQuantity` in its listing."),
              ),
            1,
          ),
        }),
      )
      .check(z.maxLength(20, "must list at most 20 add-ons")),
  ),
  integratorEmail: z
    .email({ error: "must be an email address" })
    .check(
      z.maxLength(200),
      z.describe("The buyer's integrator.io account email: the license is issued to it."),
    ),
  successUrl: url.check(
    z.describe("Where Stripe sends the buyer after paying; on an origin of CHECKOUT_ALLOWED_ORIGINS."),
  ),
  cancelUrl: url.check(
    z.describe("Where Stripe sends a buyer who gives up; on an origin of CHECKOUT_ALLOWED_ORIGINS."),
  ),
});
export type CheckoutRequest = z.infer<typeof checkoutRequestSchema>;

export const checkoutResponseSchema = z.object({
  id: z.string().check(z.describe("The Stripe Checkout session id (`cs_...`).")),
  url: z.string().check(z.describe("Stripe's hosted payment page: redirect the buyer here.")),
  trial: z
    .boolean()
    .check(
      z.describe(
        "Whether the session starts with the connector's free trial (once per email and connector).",
      ),
    ),
  trialDays: z.optional(z.number().check(z.describe("The trial's length, when `trial` is true."))),
  noTrialReason: z.optional(
    z
      .enum(["not_offered", "already_used"])
      .check(
        z.describe(
          "Why `trial` is false: the connector has no trial (`not_offered`), or this integrator.io email already had, or has an unpaid checkout holding, its trial of this connector (`already_used`).",
        ),
      ),
  ),
});
export type CheckoutResponse = z.infer<typeof checkoutResponseSchema>;

export const listingsSyncResponseSchema = z.object({
  generation: z.string().check(z.describe("The stored listing generation now served.")),
  changed: z
    .boolean()
    .check(z.describe("False when integrator.io and Stripe held exactly what was already served.")),
  connectors: z.number().check(z.describe("Connectors now listed.")),
  templates: z.number().check(z.describe("Published templates now listed.")),
  syncedAt: z.string().check(z.describe("When the sync finished (ISO 8601 date-time, UTC).")),
  problems: z
    .array(z.string())
    .check(
      z.describe(
        "What was left out and why: a connector integrator.io does not know, a price Stripe does not have.",
      ),
    ),
});
export type ListingsSyncResult = z.infer<typeof listingsSyncResponseSchema>;
