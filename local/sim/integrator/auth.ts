import { createHash, timingSafeEqual } from "node:crypto";
import { unauthorized } from "./errors.ts";
import type { OneTimeTokens } from "./one-time-tokens.ts";
import type { SimStore } from "./store.ts";

/** Who is calling: the vendor (partner) account, a user account, or a stack holding a one-time token. */
export type Principal =
  | { kind: "vendor"; accountId: string; bucketId: string }
  | { kind: "user"; accountId: string; bucketId: string; email: string }
  | {
      kind: "one-time";
      /** The account the integration lives in. */
      accountId: string;
      /** One-time tokens are issued on the vendor's behalf and count against its limit. */
      bucketId: string;
      connectorId: string;
      integrationId: string;
    };

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Resolves `Authorization: Bearer <token>`; anything else is `unauthorized` (401). */
export function authenticate(
  header: string | undefined,
  deps: { vendorToken: string; store: SimStore; oneTimeTokens: OneTimeTokens },
): Principal {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  const token = match?.[1];
  if (token === undefined) throw unauthorized();
  const { store } = deps;
  // Constant time for the vendor token, as a real service compares its secrets.
  if (timingSafeEqual(digest(token), digest(deps.vendorToken))) {
    return { kind: "vendor", accountId: store.vendorId, bucketId: store.vendorId };
  }
  const user = store.usersByToken.get(token);
  if (user) return { kind: "user", accountId: user._id, bucketId: user._id, email: user.email };
  const scope = deps.oneTimeTokens.find(token);
  if (scope) return { kind: "one-time", ...scope, bucketId: store.vendorId };
  throw unauthorized();
}
