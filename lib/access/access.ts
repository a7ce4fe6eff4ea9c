import { bearerToken, safeEqual } from "#lib/http/auth.ts";
import { HttpError } from "#lib/http/errors.ts";
import type { HttpEvent } from "#lib/http/types.ts";
import { type SyncSecretValue, syncSecretValue } from "#lib/secrets.ts";
import { claimedName, type Operator, type Operators } from "./operators.ts";
import { operatorPrincipal, type Principal, ROOT, type Role, roleAllows } from "./roles.ts";
import { SESSION_COOKIE, type Session, type Sessions } from "./sessions.ts";

/**
 * How long a warm function trusts what it read of an operator: a revoked operator's token and
 * sessions stop working within this (issue: within a minute), without a read per request.
 */
export const OPERATOR_CACHE_MS = 30_000;
const CACHE_LIMIT = 1_000;

export interface AccessOptions {
  /**
   * The bootstrap (root) credential, or how to read its current value (`ADMIN_TOKEN`, read at each
   * request: a rotated token takes over within the secrets' maxAge); absent → only operators get in.
   */
  rootToken: SyncSecretValue;
  operators?: Operators;
  sessions?: Sessions;
  now?: () => number;
}

/** The console session a request carried (for sign-out and the CSRF check). */
export interface SessionCredential {
  id: string;
  principal: Principal;
  session: Session;
}

/**
 * Who an admin request is (docs/architecture.md §6): `Authorization: Bearer` with `ADMIN_TOKEN`
 * (root) or an operator's token, else the console's session cookie, whose state-changing
 * requests must also carry `X-CSRF-Token`. 401 without credentials (or with a session that
 * ended), 403 with a wrong token, a missing CSRF token, or a role below the route's.
 */
export class AdminAccess {
  private readonly byToken = new Map<string, { operator: Operator | undefined; at: number }>();
  private readonly byName = new Map<string, { operator: Operator | undefined; at: number }>();
  private readonly now: () => number;

  constructor(private readonly options: AccessOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The principal of a request to a route that needs `role`; throws its 401/403. */
  async authorize(event: HttpEvent, headers: Record<string, string>, role: Role): Promise<Principal> {
    const principal = await this.authenticate(event, headers);
    if (!roleAllows(principal.role, role)) {
      throw new HttpError(
        403,
        "forbidden",
        `This action needs the ${role} role; ${principal.actor} has ${principal.role}.`,
      );
    }
    return principal;
  }

  async authenticate(event: HttpEvent, headers: Record<string, string>): Promise<Principal> {
    const token = bearerToken(headers);
    if (token !== undefined) {
      const principal = await this.principalOfToken(token);
      if (!principal) throw new HttpError(403, "forbidden", "Invalid admin token.");
      return principal;
    }
    const cookie = sessionCookie(event, headers);
    if (cookie === undefined) {
      throw new HttpError(
        401,
        "unauthorized",
        "Missing bearer token (Authorization: Bearer <admin token>).",
        {
          headers: { "www-authenticate": "Bearer" },
        },
      );
    }
    const session = await this.session(cookie);
    if (!session) throw sessionEnded();
    if (!SAFE_METHODS.has(requestMethod(event))) {
      if (!this.options.sessions?.csrfMatches(session.id, headers["x-csrf-token"])) {
        throw new HttpError(
          403,
          "csrf_required",
          "A console request that changes something needs its X-CSRF-Token header.",
        );
      }
    }
    return session.principal;
  }

  /** Root or the active operator a bearer token names; undefined for any other token. */
  async principalOfToken(token: string): Promise<Principal | undefined> {
    if (this.isRootToken(token)) return ROOT;
    const operator = await this.operatorOfToken(token);
    return operator ? operatorPrincipal(operator.name, operator.role) : undefined;
  }

  /** True when `token` is the bootstrap `ADMIN_TOKEN` (constant time); never where none is set. */
  isRootToken(token: string): boolean {
    const root = syncSecretValue(this.options.rootToken);
    return root !== undefined && root !== "" && safeEqual(token, root);
  }

  /**
   * The active operator a token belongs to (never root). A token not shaped like an operator's
   * is refused without a read and without a cache entry, so junk cannot push real ones out.
   */
  async operatorOfToken(token: string): Promise<Operator | undefined> {
    const { operators } = this.options;
    if (!operators || claimedName(token) === undefined) return undefined;
    return this.cached(this.byToken, token, () => operators.authenticate(token));
  }

  /**
   * The live session of a cookie value, with its operator's current role; undefined once it ended.
   * A session belongs to the operator as created when it started: one whose name was revoked and
   * given again (another `createdAt`) is over, whatever the new operator's role.
   */
  async session(cookie: string): Promise<SessionCredential | undefined> {
    const { sessions, operators } = this.options;
    const found = await sessions?.find(cookie);
    if (!found || !operators) return undefined;
    const read = () => operators.active(found.operator);
    let operator = await this.cached(this.byName, found.operator, read);
    // What this function remembers may predate the name being given again: look once more.
    if (operator && operator.createdAt !== found.operatorCreatedAt)
      operator = await this.cached(this.byName, found.operator, read, { fresh: true });
    if (!operator || operator.createdAt !== found.operatorCreatedAt) return undefined;
    const { id, ...session } = found;
    return { id, principal: operatorPrincipal(operator.name, operator.role), session };
  }

  /** Drops what this function remembers of `name` (its own revocation takes effect at once here). */
  forget(name: string): void {
    this.byName.delete(name);
    for (const [token, entry] of this.byToken) if (entry.operator?.name === name) this.byToken.delete(token);
  }

  private async cached(
    cache: Map<string, { operator: Operator | undefined; at: number }>,
    key: string,
    read: () => Promise<Operator | undefined>,
    { fresh = false } = {},
  ): Promise<Operator | undefined> {
    const hit = cache.get(key);
    if (!fresh && hit && this.now() - hit.at < OPERATOR_CACHE_MS) return hit.operator;
    const operator = await read();
    cache.delete(key);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, { operator, at: this.now() });
    return operator;
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The request's method: API Gateway's, else the route key's. Never assumed: a request whose
 * method is unknown is treated as one that changes something (it needs the CSRF token).
 */
function requestMethod(event: HttpEvent): string {
  return event.requestContext?.http?.method ?? event.routeKey?.split(" ")[0] ?? "";
}

export function sessionEnded(): HttpError {
  return new HttpError(401, "session_ended", "The console session has ended; sign in again.");
}

/** The session cookie's value: from API Gateway's `cookies` (payload 2.0) or a `Cookie` header. */
export function sessionCookie(event: HttpEvent, headers: Record<string, string>): string | undefined {
  const pairs = event.cookies ?? (headers.cookie ?? "").split(";");
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at).trim() === SESSION_COOKIE) return pair.slice(at + 1).trim();
  }
  return undefined;
}
