import type { ApiRouter } from "../context.ts";

/** `GET /v1/tokenInfo`: the account the token acts for (a one-time token: the integration's owner). */
export function registerTokenInfo(router: ApiRouter): void {
  router.add("GET", "/v1/tokenInfo", ({ principal }) => ({
    status: 200,
    body: { _userId: principal.accountId },
  }));
}
