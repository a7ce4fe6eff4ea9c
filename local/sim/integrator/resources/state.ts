import { visibleIntegration } from "../access.ts";
import type { ApiContext, ApiRouter } from "../context.ts";
import { invalidField, notFound } from "../errors.ts";
import { clone } from "../json.ts";
import type { Reply } from "../router.ts";

type Ctx = ApiContext & { params: Record<string, string> };

/**
 * Where a state call reads and writes. `/v1/state` is the account's global state; a one-time token
 * only has its integration's, so it lands there. `/v1/integrations/{id}/state` is that integration's.
 */
function namespaceOf({ principal, store, params }: Ctx): string {
  const integrationId = params.integrationId;
  if (integrationId !== undefined) {
    visibleIntegration(principal, store.integrations.get(integrationId), integrationId);
    return `integrations:${integrationId}`;
  }
  return principal.kind === "one-time"
    ? `integrations:${principal.integrationId}`
    : `account:${principal.accountId}`;
}

const listKeys = (ctx: Ctx): Reply => ({
  status: 200,
  body: { keys: [...ctx.store.stateOf(namespaceOf(ctx)).keys()] },
});

function deleteAll(ctx: Ctx): Reply {
  ctx.store.state.delete(namespaceOf(ctx));
  return { status: 204 };
}

function getValue(ctx: Ctx): Reply {
  const key = ctx.params.key ?? "";
  const values = ctx.store.stateOf(namespaceOf(ctx));
  if (!values.has(key)) throw notFound("State key", key);
  return { status: 200, body: clone(values.get(key)) };
}

/** Any JSON value; 201 when the key is new, 200 when it is replaced. */
function putValue(ctx: Ctx): Reply {
  const key = ctx.params.key ?? "";
  if (ctx.body === undefined)
    throw invalidField("body", "A state value is any JSON value; the body was empty.");
  const values = ctx.store.stateOf(namespaceOf(ctx));
  const created = !values.has(key);
  values.set(key, clone(ctx.body));
  return { status: created ? 201 : 200, body: clone(ctx.body) };
}

function deleteValue(ctx: Ctx): Reply {
  const key = ctx.params.key ?? "";
  const values = ctx.store.stateOf(namespaceOf(ctx));
  if (!values.delete(key)) throw notFound("State key", key);
  return { status: 204 };
}

export function registerState(router: ApiRouter): void {
  for (const base of ["/v1/state", "/v1/integrations/:integrationId/state"]) {
    router
      .add("GET", base, listKeys)
      .add("DELETE", base, deleteAll)
      .add("GET", `${base}/:key`, getValue)
      .add("PUT", `${base}/:key`, putValue)
      .add("DELETE", `${base}/:key`, deleteValue);
  }
}
