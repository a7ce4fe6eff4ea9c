import { newToken } from "./ids.ts";

/** What a one-time token may reach: one connector's resources and the one integration being acted on. */
export interface OneTimeScope {
  connectorId: string;
  integrationId: string;
  /** The account the integration lives in (the installing user). */
  accountId: string;
}

/** integrator.io's default lifetime of a stack invocation's token. */
export const ONE_TIME_TOKEN_TTL_MS = 15 * 60 * 1000;

/** Tokens handed to the stack in `options.bearerToken`: valid until revoked or `ttlMs` old. */
export class OneTimeTokens {
  private readonly live = new Map<string, OneTimeScope & { expiresAt: number }>();

  constructor(private readonly ttlMs: number = ONE_TIME_TOKEN_TTL_MS) {}

  issue(scope: OneTimeScope, now = Date.now()): string {
    const token = newToken();
    this.live.set(token, { ...scope, expiresAt: now + this.ttlMs });
    return token;
  }

  /** The token's scope while it is valid; an expired token is forgotten. */
  find(token: string, now = Date.now()): OneTimeScope | undefined {
    const entry = this.live.get(token);
    if (!entry) return undefined;
    if (now >= entry.expiresAt) {
      this.live.delete(token);
      return undefined;
    }
    return { connectorId: entry.connectorId, integrationId: entry.integrationId, accountId: entry.accountId };
  }

  revoke(token: string): void {
    this.live.delete(token);
  }

  clear(): void {
    this.live.clear();
  }
}
