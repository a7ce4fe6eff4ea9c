import type { Logger } from "@aws-lambda-powertools/logger";
import type { AdminAccess } from "#lib/access/access.ts";
import { sessionCookie } from "#lib/access/access.ts";
import { claimedName } from "#lib/access/operators.ts";
import { operatorPrincipal } from "#lib/access/roles.ts";
import { SESSION_COOKIE, SESSION_MS, type Session, type Sessions } from "#lib/access/sessions.ts";
import { HttpError } from "#lib/http/errors.ts";
import type { RouteHandler } from "#lib/http/http-function.ts";
import { pageFileServer } from "#lib/http/static-page.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { CONSOLE_CSP, type ConsoleAsset, type ConsoleFile } from "./assets.ts";

export interface ConsoleDeps {
  access: AdminAccess;
  /** Undefined without `CONSOLE_SESSION_KEY`: sign-in answers 503. */
  sessions: Sessions | undefined;
  /** The built page and assets; undefined when the console was not built (503). */
  assets: () => Promise<Map<ConsoleFile, ConsoleAsset> | undefined>;
  logger: Logger;
}

const NO_STORE = { "cache-control": "no-store" };

/**
 * The operator console (docs/architecture.md §6): its page and assets, and the session that
 * trades an operator token for a cookie. The page is one file with hash routing, so nothing under
 * `/console` is a catch-all.
 */
export function consoleRoutes(deps: ConsoleDeps): Record<string, RouteHandler> {
  const serve = pageFileServer({
    assets: deps.assets,
    csp: CONSOLE_CSP,
    notBuilt: {
      code: "console_not_built",
      message: "The console is not built here: run npm run build:console.",
    },
  });

  return {
    "GET /console": ({ headers }: RouteInput) => serve("index.html", headers),

    "GET /console/app.js": ({ headers }: RouteInput) => serve("app.js", headers),

    "GET /console/app.css": ({ headers }: RouteInput) => serve("app.css", headers),

    "POST /console/session": async ({ body, headers, event }: RouteInput<{ token: string }>) => {
      const sessions = signInAvailable(deps.sessions);
      const operator = await deps.access.operatorOfToken(body.token);
      if (!operator) {
        const reason = deps.access.isRootToken(body.token)
          ? "root token"
          : claimedName(body.token) === undefined
            ? "not an operator token"
            : "unknown token";
        deps.logger.info("console sign-in refused", { reason });
        throw new HttpError(
          401,
          "invalid_token",
          reason === "unknown token"
            ? "Wrong or revoked operator token."
            : "That is not an operator token: the console takes an operator's own token (ilop.…), never ADMIN_TOKEN. Create one with `integrator-licensing operators add <name> --role <role>`.",
        );
      }
      const principal = operatorPrincipal(operator.name, operator.role);
      const { cookie, session } = await sessions.start(operator);
      deps.logger.info("console sign-in", { actor: principal.actor });
      return {
        status: 201,
        body: sessionBody(operator.name, operator.role, session),
        headers: NO_STORE,
        cookies: [sessionSetCookie(cookie, SESSION_MS / 1000, secureCookie(event, headers))],
      };
    },

    "GET /console/session": async ({ headers, event }: RouteInput) => {
      const found = await sessionOf(deps, event, headers);
      if (!found) throw new HttpError(401, "no_session", "Not signed in to the console.");
      const { principal, session } = found;
      return { body: sessionBody(principal.name ?? "", principal.role, session), headers: NO_STORE };
    },

    "DELETE /console/session": async ({ headers, event }: RouteInput) => {
      const found = await sessionOf(deps, event, headers);
      if (found) {
        if (!deps.sessions?.csrfMatches(found.id, headers["x-csrf-token"])) {
          throw new HttpError(403, "csrf_required", "Signing out needs the session's X-CSRF-Token header.");
        }
        await deps.sessions.end(found.id);
        deps.logger.info("console sign-out", { actor: found.principal.actor });
      }
      return {
        status: 204,
        headers: NO_STORE,
        cookies: [sessionSetCookie("", 0, secureCookie(event, headers))],
      };
    },
  };
}

function signInAvailable(sessions: Sessions | undefined): Sessions {
  if (!sessions) {
    throw new HttpError(
      503,
      "console_unavailable",
      "Console sign-in is not configured: CONSOLE_SESSION_KEY is unset.",
    );
  }
  return sessions;
}

async function sessionOf(deps: ConsoleDeps, event: RouteInput["event"], headers: Record<string, string>) {
  const cookie = sessionCookie(event, headers);
  return cookie === undefined ? undefined : deps.access.session(cookie);
}

function sessionBody(name: string, role: string, session: Session) {
  return { operator: { name, role }, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
}

/** `Set-Cookie` for the session: HttpOnly, SameSite=Strict, for the whole API (the console calls /admin). */
function sessionSetCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    "Path=/",
    `Max-Age=${maxAgeSeconds}`,
    "HttpOnly",
    "SameSite=Strict",
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/**
 * `Secure` always, except on plain http to a loopback host (`npm start`), where a browser would
 * drop a Secure cookie. API Gateway is https only, on its own or a custom domain.
 */
export function secureCookie(event: RouteInput["event"], headers: Record<string, string>): boolean {
  const host = headers.host ?? event.requestContext?.domainName ?? "";
  return !(LOOPBACK.test(host) && headers["x-forwarded-proto"] !== "https");
}
