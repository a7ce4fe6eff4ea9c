import { inScope, visibleIntegration, visibleRecord } from "../access.ts";
import type { Principal } from "../auth.ts";
import type { ApiRouter } from "../context.ts";
import { accessRestricted, invalidRef } from "../errors.ts";
import { newId } from "../ids.ts";
import { clone, type JsonObject, nowIso } from "../json.ts";
import { pageReply } from "../pagination.ts";
import { type Owned, PLAIN_RESOURCES, type PlainResource, type SimStore } from "../store.ts";
import { objectBody } from "../validation.ts";

const singular: Record<PlainResource, string> = {
  iClients: "iClient",
  connections: "connection",
  exports: "export",
  imports: "import",
  flows: "flow",
};

/**
 * The document a create or replace stores: the body without `_id`/`lastModified`. Records made with
 * a one-time token belong to its integration; an `_integrationId` given must be one the caller sees.
 */
function documentFrom(principal: Principal, store: SimStore, body: unknown, id: string): JsonObject {
  const { _id, lastModified, ...fields } = objectBody(body);
  if (principal.kind === "one-time") {
    if (fields._integrationId !== undefined && fields._integrationId !== principal.integrationId) {
      throw accessRestricted(`This one-time token is for integration ${principal.integrationId} only.`);
    }
    fields._integrationId = principal.integrationId;
    fields._connectorId ??= principal.connectorId;
  } else if (fields._integrationId !== undefined && fields._integrationId !== null) {
    const integrationId = String(fields._integrationId);
    try {
      visibleIntegration(principal, store.integrations.get(integrationId), integrationId);
    } catch {
      throw invalidRef("_integrationId", `There is no integration ${integrationId} in this account.`);
    }
  }
  return { _id: id, ...fields, lastModified: nowIso() };
}

/** iClients, connections, exports, imports and flows: any JSON object, plus `_id` and `lastModified`. */
export function registerPlainResources(router: ApiRouter): void {
  for (const kind of PLAIN_RESOURCES) {
    const what = singular[kind];
    const item = `/v1/${kind}/:${what}Id`;
    const idOf = (params: Record<string, string>) => params[`${what}Id`] ?? "";
    const find = (store: SimStore, principal: Principal, id: string): Owned =>
      visibleRecord(principal, store.plainOf(kind).get(id), what, id);
    router
      .add("GET", `/v1/${kind}`, ({ principal, store, query, url }) => {
        const records = [...store.plainOf(kind).values()].filter((record) => inScope(principal, record));
        return pageReply(
          records.map((record) => clone(record.doc)),
          query,
          url,
        );
      })
      .add("POST", `/v1/${kind}`, ({ principal, store, body }) => {
        const doc = documentFrom(principal, store, body, newId());
        store.plainOf(kind).set(String(doc._id), { owner: principal.accountId, doc });
        return { status: 201, body: clone(doc) };
      })
      .add("GET", item, ({ principal, store, params }) => ({
        status: 200,
        body: clone(find(store, principal, idOf(params)).doc),
      }))
      .add("PUT", item, ({ principal, store, params, body }) => {
        const record = find(store, principal, idOf(params));
        record.doc = documentFrom(principal, store, body, idOf(params));
        return { status: 200, body: clone(record.doc) };
      })
      .add("DELETE", item, ({ principal, store, params }) => {
        find(store, principal, idOf(params));
        store.plainOf(kind).delete(idOf(params));
        return { status: 204 };
      });
  }
}
