import { randomBytes } from "node:crypto";

/** A 24-hex-digit id shaped like integrator.io's (MongoDB ObjectId): 4 bytes of seconds, 8 random. */
export function newId(now = Date.now()): string {
  const seconds = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, "0");
  return seconds + randomBytes(8).toString("hex");
}

/** An unguessable bearer token. */
export function newToken(): string {
  return randomBytes(24).toString("hex");
}
