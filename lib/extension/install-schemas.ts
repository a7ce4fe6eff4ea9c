import * as z from "zod/mini";
import { pageCursorParam, pageLimitParam } from "../http/page-limit-param.ts";
import { identifier } from "../identifiers.ts";

/** An install record as the admin API answers it (see `InstallRecord`). */
const d = <T extends z.ZodMiniType>(schema: T, description: string): T =>
  schema.check(z.describe(description));
const ISO = "(ISO 8601 date-time, UTC)";

export const installRecordSchema = z.object({
  integrationId: d(z.string(), "integrator.io's `_integrationId` of the installed integration."),
  connectorId: d(z.string(), "The connector's integrator.io `_id`."),
  connectorKey: d(z.string(), "The connector's catalog key."),
  licenseId: d(z.string(), "The integrator.io license the install runs under."),
  email: d(z.string(), "The license's email, lower-cased."),
  customerId: d(z.optional(z.string()), "The Stripe customer, when the license is one our store issued."),
  edition: d(z.optional(z.string()), "The edition installed (the license's `connectorEdition`)."),
  version: d(z.optional(z.string()), "The connector version the integration runs."),
  sandbox: d(z.optional(z.boolean()), "True for an install in an integrator.io sandbox."),
  state: d(
    z.enum(["installing", "installed", "uninstalling", "removed"]),
    "`installing` until every install step completed, then `installed`; `uninstalling`, then `removed`.",
  ),
  createdAt: d(z.string(), `When the installer first ran for this integration ${ISO}.`),
  installedAt: d(z.optional(z.string()), `When every install step was completed ${ISO}.`),
  removedAt: d(z.optional(z.string()), `When the uninstall finished ${ISO}.`),
  updatedAt: d(z.string(), `Last written ${ISO}.`),
});

/** `GET /admin/installs` query: a connector (catalog key or `_connectorId`), an email, a page. */
export const installsQuery = z.object({
  connector: d(z.optional(identifier), "Only this connector's installs: its catalog key or `_connectorId`."),
  // At most an SMTP address's 254 characters: it becomes part of a DynamoDB key.
  email: d(
    z.optional(z.string().check(z.minLength(3), z.maxLength(254))),
    "Only installs under licenses of this email (any case).",
  ),
  cursor: pageCursorParam,
  limit: pageLimitParam(100),
});

export const installListResponse = z.object({
  data: d(z.array(installRecordSchema), "The installs of this page, newest first."),
  nextCursor: d(
    z.optional(z.string()),
    "Present while more remain: pass it back as `cursor`, with the same filters, for the next page.",
  ),
});

/** `GET /integrator/healthCheck`. */
export const stackHealthResponse = z.object({ success: z.literal(true) });
