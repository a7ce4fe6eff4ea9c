import * as z from "zod/mini";
import { pageCursorParam, pageLimitParam } from "../http/page-limit-param.ts";
import { OPERATOR_NAME, ROLES } from "./roles.ts";

/** Schemas of the operator routes and the console session (docs/architecture.md §6). `zod/mini` only. */

const role = z.enum(ROLES);
const operatorName = z
  .string()
  .check(z.regex(OPERATOR_NAME, "must be 1 to 64 of a-z, 0-9, '_' or '-', starting with a letter or digit"));

/** `schema` with the description the OpenAPI document carries (every admin field has one). */
const d = <T extends z.ZodMiniType>(schema: T, description: string): T =>
  schema.check(z.describe(description));
const ROLE =
  "`viewer` reads; `operator` also replays, redrives, transfers and reconciles; `admin` also manages operators.";
const NAME = "The operator's name: 1 to 64 of a-z, 0-9, `_` or `-`, starting with a letter or digit.";

// POST /admin/operators, GET /admin/operators, DELETE /admin/operators/{name}
export const operatorRequest = z.strictObject({ name: d(operatorName, NAME), role: d(role, ROLE) });
export const operatorCreated = z.object({
  name: d(z.string(), "The operator's name."),
  role: d(role, ROLE),
  token: d(
    z.string(),
    "The operator's bearer token (`ilop.<name, base64url>.<32 random bytes, base64url>`): shown in this answer only, stored as a hash.",
  ),
});
export const operatorParams = z.object({ name: d(operatorName, NAME) });
export const operatorListQuery = z.object({ cursor: pageCursorParam, limit: pageLimitParam(100) });
export const operatorListResponse = z.object({
  data: d(
    z.array(
      z.object({
        name: d(z.string(), "The operator's name."),
        role: d(role, ROLE),
        createdAt: d(z.string(), "When the operator was created (ISO 8601 date-time, UTC)."),
        createdBy: d(z.string(), "Who created it: `operator:<name>` or `root`."),
      }),
    ),
    "The active operators of this page, by name.",
  ),
  nextCursor: d(
    z.optional(z.string()),
    "Present while more remain: pass it back as `cursor` for the next page.",
  ),
});

// POST/GET/DELETE /console/session
export const signInRequest = z.strictObject({
  token: z
    .string()
    .check(
      z.minLength(1, "must not be empty"),
      z.maxLength(512),
      z.regex(/^[\x21-\x7e]+$/, "must be an operator token (printable ASCII, no spaces)"),
      z.describe("An operator's own token (never ADMIN_TOKEN)."),
    ),
});
export const sessionResponse = z.object({
  operator: d(
    z.object({ name: d(z.string(), "The operator's name."), role: d(role, ROLE) }),
    "Who is signed in.",
  ),
  csrfToken: d(z.string(), "Send it back as `X-CSRF-Token` on every request that changes something."),
  expiresAt: d(z.string(), "When the session ends (ISO 8601 date-time, UTC), 8 hours after sign-in."),
});
