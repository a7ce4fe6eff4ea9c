import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { requiredSecret, type SyncSecretValue } from "#lib/secrets.ts";
import type { Table } from "#lib/store/dynamo.ts";

/** A console session lasts this long from sign-in (issue: 8 h), unless signed out first. */
export const SESSION_MS = 8 * 60 * 60 * 1000;
export const SESSION_COOKIE = "il_session";

/** A session as the console sees it: whose it is, until when, and the CSRF token its writes carry. */
export interface Session {
  operator: string;
  expiresAt: string;
  csrfToken: string;
  /**
   * When the operator it was started for was created: a name revoked and given again is another
   * operator, whose item has another `createdAt`, so the sessions of the revoked one never revive.
   */
  operatorCreatedAt?: string;
}

const sessionKey = (id: string) => ({
  pk: `SESSION#${createHash("sha256").update(id).digest("base64url")}`,
  sk: "SESSION",
});

/**
 * Console sessions: the cookie is `<id>.<expires, epoch seconds>.<HMAC-SHA256 of both>` under
 * `CONSOLE_SESSION_KEY`, so a forged or altered cookie is refused before any read; the session's
 * item (keyed by the id's hash, with a TTL) is what sign-out deletes, so a copied cookie stops
 * working at sign-out. The CSRF token is an HMAC of the id: nothing more to store. The key is read
 * at each use (a getter in a function: the value of the invocation's secrets), so a new key signs
 * everyone out within the secrets' maxAge.
 */
export class Sessions {
  constructor(
    private readonly table: Table,
    private readonly key: SyncSecretValue,
  ) {}

  /** A session of the operator `name` as created at `createdAt` (its item's, lib/access/operators.ts). */
  async start({
    name,
    createdAt,
  }: {
    name: string;
    createdAt: string;
  }): Promise<{ cookie: string; session: Session }> {
    const id = randomBytes(32).toString("base64url");
    const expiresMs = this.table.now() + SESSION_MS;
    const expires = Math.floor(expiresMs / 1000);
    await this.table.put({
      ...sessionKey(id),
      operator: name,
      operatorCreatedAt: createdAt,
      expiresAtMs: expires * 1000,
      ttl: expires,
    });
    return {
      cookie: `${id}.${expires}.${this.mac(`${id}.${expires}`)}`,
      session: this.sessionOf(id, name, expires, createdAt),
    };
  }

  /** The live session a cookie value names, or undefined (forged, expired, signed out). */
  async find(cookie: string | undefined): Promise<(Session & { id: string }) | undefined> {
    const parsed = this.verify(cookie);
    if (!parsed) return undefined;
    const item = await this.table.get<
      { operator: string; operatorCreatedAt?: string } & Record<string, unknown>
    >(sessionKey(parsed.id).pk, sessionKey(parsed.id).sk);
    if (!item) return undefined;
    return {
      id: parsed.id,
      ...this.sessionOf(parsed.id, item.operator, parsed.expires, item.operatorCreatedAt),
    };
  }

  async end(id: string): Promise<void> {
    await this.table.delete(sessionKey(id));
  }

  /** True when `given` is the CSRF token of session `id` (constant time). */
  csrfMatches(id: string, given: string | undefined): boolean {
    return given !== undefined && equal(given, this.csrfOf(id));
  }

  private verify(cookie: string | undefined): { id: string; expires: number } | undefined {
    const [id, expiresText, mac, ...rest] = (cookie ?? "").split(".");
    if (!id || !expiresText || !mac || rest.length > 0 || !/^\d{1,12}$/.test(expiresText)) return undefined;
    if (!equal(mac, this.mac(`${id}.${expiresText}`))) return undefined;
    const expires = Number(expiresText);
    return expires * 1000 > this.table.now() ? { id, expires } : undefined;
  }

  private sessionOf(id: string, operator: string, expires: number, operatorCreatedAt?: string): Session {
    return {
      operator,
      expiresAt: new Date(expires * 1000).toISOString(),
      csrfToken: this.csrfOf(id),
      ...(operatorCreatedAt === undefined ? {} : { operatorCreatedAt }),
    };
  }

  private csrfOf(id: string): string {
    return this.mac(`csrf:${id}`);
  }

  private mac(data: string): string {
    const key = requiredSecret(this.key, "CONSOLE_SESSION_KEY");
    return createHmac("sha256", key).update(data).digest("base64url");
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
