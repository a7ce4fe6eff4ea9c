import type { Logger } from "@aws-lambda-powertools/logger";
import type { AdminAccess } from "#lib/access/access.ts";
import { OperatorExistsError, type Operators } from "#lib/access/operators.ts";
import type { Principal, Role } from "#lib/access/roles.ts";
import { conflict, notFound } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import type { PageCursors } from "#lib/http/page-cursor.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { pageLimit } from "./page-limit.ts";

/** Named operators (role `admin`): created with a token shown once, listed, revoked. */
export function operatorRoutes(
  operators: Operators,
  { access, cursors, logger }: { access: Pick<AdminAccess, "forget">; cursors: PageCursors; logger: Logger },
): Record<string, RouteHandler> {
  const actorOf = (principal: Principal | undefined) => principal?.actor ?? "root";
  return {
    "POST /admin/operators": async ({ body, principal }: RouteInput<{ name: string; role: Role }>) => {
      try {
        const { operator, token } = await operators.add(body.name, body.role, actorOf(principal));
        // A name given again: what this function remembers of the one revoked is not this operator.
        access.forget(operator.name);
        logger.info("operator added", { operator: operator.name, role: operator.role });
        return {
          status: 201,
          body: { name: operator.name, role: operator.role, token },
          headers: { "cache-control": "no-store" },
        };
      } catch (error) {
        if (error instanceof OperatorExistsError) throw conflict(error.message);
        throw error;
      }
    },

    "GET /admin/operators": async ({ query }: RouteInput<unknown, { cursor?: string; limit?: number }>) => {
      const scope = { list: "operators" };
      const page = await operators.list(pageLimit(query.limit), cursors.read(scope, query.cursor));
      const nextCursor = cursors.issue(scope, page.nextCursor);
      return { body: { data: page.items, ...(nextCursor ? { nextCursor } : {}) } };
    },

    "DELETE /admin/operators/{name}": async ({
      params,
      principal,
    }: RouteInput<unknown, Record<string, string>, { name: string }>) => {
      if (!(await operators.revoke(params.name, actorOf(principal)))) {
        throw notFound(`No active operator named ${params.name}.`);
      }
      access.forget(params.name);
      logger.info("operator revoked", { operator: params.name });
      return { status: 204 };
    },
  };
}
