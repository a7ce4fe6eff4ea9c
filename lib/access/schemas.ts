import * as z from "zod/mini";
import { pageCursorParam, pageLimitParam } from "../http/page-limit-param.ts";
import { OPERATOR_NAME, ROLES } from "./roles.ts";

/** Schemas of the operator routes and the console session (docs/architecture.md §6). `zod/mini` only. */

const role = z.enum(ROLES);
const operatorName = z
  .string()
  .check(z.regex(OPERATOR_NAME, "must be 1 to 64 of a-z, 0-9, '_' or '-', starting with a letter or digit"));

// POST /admin/operators, GET /admin/operators, DELETE /admin/operators/{name}
export const operatorRequest = z.strictObject({ name: operatorName, role });
export const operatorCreated = z.object({
  name: z.string(),
  role,
  /** Shown once; only its hash is stored. */
  token: z.string(),
});
export const operatorParams = z.object({ name: operatorName });
export const operatorListQuery = z.object({ cursor: pageCursorParam, limit: pageLimitParam(100) });
export const operatorListResponse = z.object({
  data: z.array(z.object({ name: z.string(), role, createdAt: z.string(), createdBy: z.string() })),
  nextCursor: z.optional(z.string()),
});

// POST/GET/DELETE /console/session
export const signInRequest = z.strictObject({
  token: z
    .string()
    .check(
      z.minLength(1, "must not be empty"),
      z.maxLength(512),
      z.regex(/^[\x21-\x7e]+$/, "must be an operator token (printable ASCII, no spaces)"),
    ),
});
export const sessionResponse = z.object({
  operator: z.object({ name: z.string(), role }),
  /** Sent back as X-CSRF-Token on every request that changes something. */
  csrfToken: z.string(),
  expiresAt: z.string(),
});
