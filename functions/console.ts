import type { Context } from "aws-lambda";
import { AdminAccess } from "#lib/access/access.ts";
import { Operators } from "#lib/access/operators.ts";
import { Sessions } from "#lib/access/sessions.ts";
import { createDocumentClient } from "#lib/aws.ts";
import { type ConsoleDeps, consoleRoutes } from "#lib/console/routes.ts";
import { httpFunction } from "#lib/http/http-function.ts";
import { pageAssetsOnce } from "#lib/http/static-page.ts";
import type { HttpEvent, HttpResult } from "#lib/http/types.ts";
import { createLogger } from "#lib/observability/logger.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";
import { Table } from "#lib/store/dynamo.ts";

export type Deps = ConsoleDeps;

/**
 * The operator console's page, assets and sign-in. It holds no admin token: sign-in checks an
 * operator's token against its hash, and the console's calls go to the admin function with the
 * session cookie. Only operator and session items (lib/functions.ts).
 */
export const createDeps = ({ config, secrets }: Environment): Deps => {
  const table = new Table(createDocumentClient(config), config.tableName);
  const operators = new Operators(table);
  // Read at each use (lib/secrets.ts): a new key signs everyone out within the secrets' maxAge.
  const sessions = secrets.has("CONSOLE_SESSION_KEY")
    ? new Sessions(table, () => secrets.get("CONSOLE_SESSION_KEY"))
    : undefined;
  return {
    // Never the root token: the console is for people with names.
    access: new AdminAccess({ rootToken: undefined, operators, sessions }),
    sessions,
    // Read on the first request for one, then kept: they change only with a deploy.
    assets: pageAssetsOnce(config.consoleAssetsDir),
    logger: createLogger("console", config),
  };
};

export const makeHandler = (deps: Deps): ((event: HttpEvent, context: Context) => Promise<HttpResult>) =>
  httpFunction(consoleRoutes(deps), { logger: deps.logger });

export const handler = lambdaHandler(createDeps, makeHandler);
