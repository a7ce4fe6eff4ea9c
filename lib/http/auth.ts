import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "./errors.ts";

/** Constant-time string comparison (hashing first so lengths never leak). */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(headers: Record<string, string | undefined>): string | undefined {
  const value = headers.authorization;
  const match = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match?.[1];
}

/** The integrator.io stack route: integrator.io's own convention, 401 for a missing or wrong system token. */
export function assertSystemToken(
  headers: Record<string, string | undefined>,
  systemToken: string | undefined,
): void {
  const token = bearerToken(headers);
  if (token === undefined || systemToken === undefined || !safeEqual(token, systemToken)) {
    throw new HttpError(401, "unauthorized", "Invalid system token.", {
      headers: { "www-authenticate": "invalid system token" },
    });
  }
}
