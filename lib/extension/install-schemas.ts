import * as z from "zod/mini";
import { pageCursorParam, pageLimitParam } from "../http/page-limit-param.ts";
import { identifier } from "../identifiers.ts";

/** An install record as the admin API answers it (see `InstallRecord`). */
export const installRecordSchema = z.object({
  integrationId: z.string(),
  connectorId: z.string(),
  connectorKey: z.string(),
  licenseId: z.string(),
  email: z.string(),
  customerId: z.optional(z.string()),
  edition: z.optional(z.string()),
  version: z.optional(z.string()),
  sandbox: z.optional(z.boolean()),
  state: z.enum(["installing", "installed", "uninstalling", "removed"]),
  createdAt: z.string(),
  installedAt: z.optional(z.string()),
  removedAt: z.optional(z.string()),
  updatedAt: z.string(),
});

/** `GET /admin/installs` query: a connector (catalog key or `_connectorId`), an email, a page. */
export const installsQuery = z.object({
  connector: z.optional(identifier),
  // At most an SMTP address's 254 characters: it becomes part of a DynamoDB key.
  email: z.optional(z.string().check(z.minLength(3), z.maxLength(254))),
  cursor: pageCursorParam,
  limit: pageLimitParam(100),
});

export const installListResponse = z.object({
  data: z.array(installRecordSchema),
  nextCursor: z.optional(z.string()),
});

/** `GET /integrator/healthCheck`. */
export const stackHealthResponse = z.object({ success: z.literal(true) });
