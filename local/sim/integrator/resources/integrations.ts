import { z } from "zod";
import { integrationInScope, requireAccountToken, visibleIntegration } from "../access.ts";
import type { Principal } from "../auth.ts";
import type { ApiContext, ApiRouter } from "../context.ts";
import { accessRestricted, fieldLocked, invalidField } from "../errors.ts";
import { newId } from "../ids.ts";
import { type JsonObject, jsonEqual, nowIso } from "../json.ts";
import { pageReply } from "../pagination.ts";
import type { Integration } from "../store.ts";
import { objectBody, parseBody } from "../validation.ts";
import { integrationView } from "../views.ts";

/** SmartConnector fields only the integration app (its stack, through a one-time token) may change. */
const APP_FIELDS = ["mode", "install", "settings", "version", "updateInProgress"] as const;
const SMART_CONNECTOR_FIELDS = ["_connectorId", ...APP_FIELDS] as const;

const appFieldsSchema = z.object({
  mode: z.enum(["install", "settings", "uninstall"]).optional(),
  install: z
    .array(z.looseObject({ name: z.string().optional(), completed: z.boolean().optional() }))
    .optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
  version: z.string().optional(),
  updateInProgress: z.boolean().optional(),
});

export const isSmartConnector = (integration: Integration) =>
  typeof integration.doc._connectorId === "string";

/** The integration as an installed integration app, or `invalid_field` (422). */
export function requireSmartConnector(integration: Integration): string {
  const connectorId = integration.doc._connectorId;
  if (typeof connectorId !== "string") {
    throw invalidField("_connectorId", "This integration was not installed from a connector.");
  }
  return connectorId;
}

/** PUT on a SmartConnector integration: app fields are locked for people, open to the app's stack. */
function replaceSmartConnector(principal: Principal, integration: Integration, body: JsonObject): JsonObject {
  const current = integration.doc;
  if (body._connectorId !== undefined && !jsonEqual(body._connectorId, current._connectorId))
    throw fieldLocked("_connectorId");
  const next: JsonObject = { ...body };
  if (principal.kind === "one-time") {
    parseBody(appFieldsSchema, body);
  } else {
    for (const field of APP_FIELDS) {
      if (body[field] !== undefined && !jsonEqual(body[field], current[field])) throw fieldLocked(field);
    }
  }
  for (const field of SMART_CONNECTOR_FIELDS) if (next[field] === undefined) next[field] = current[field];
  return next;
}

function rejectSmartConnectorFields(body: JsonObject): void {
  for (const field of SMART_CONNECTOR_FIELDS) {
    if (body[field] !== undefined) {
      throw invalidField(
        field,
        `${field} is set by installing a connector: POST /v1/integrations/{connectorId}/install.`,
      );
    }
  }
}

function integrationOf({ principal, store }: ApiContext, id: string): Integration {
  return visibleIntegration(principal, store.integrations.get(id), id);
}

export function registerIntegrations(router: ApiRouter): void {
  router
    .add("GET", "/v1/integrations", ({ principal, store, query, url }) => {
      const mine = [...store.integrations.values()].filter((integration) =>
        integrationInScope(principal, integration),
      );
      return pageReply(mine.map(integrationView), query, url);
    })
    .add("POST", "/v1/integrations", ({ principal, store, body }) => {
      if (principal.kind === "one-time")
        throw accessRestricted("A one-time token cannot create integrations.");
      const { _id, lastModified, ...fields } = objectBody(body);
      rejectSmartConnectorFields(fields);
      const integration: Integration = {
        owner: principal.accountId,
        doc: { _id: newId(), ...fields, lastModified: nowIso() },
      };
      store.integrations.set(String(integration.doc._id), integration);
      return { status: 201, body: integrationView(integration) };
    })
    .add("GET", "/v1/integrations/:integrationId", (ctx) => ({
      status: 200,
      body: integrationView(integrationOf(ctx, ctx.params.integrationId ?? "")),
    }))
    .add("PUT", "/v1/integrations/:integrationId", (ctx) => {
      const id = ctx.params.integrationId ?? "";
      const integration = integrationOf(ctx, id);
      const { _id, lastModified, ...fields } = objectBody(ctx.body);
      if (isSmartConnector(integration))
        Object.assign(fields, replaceSmartConnector(ctx.principal, integration, fields));
      else rejectSmartConnectorFields(fields);
      integration.doc = { _id: id, ...fields, lastModified: nowIso() };
      return { status: 200, body: integrationView(integration) };
    })
    .add("DELETE", "/v1/integrations/:integrationId", (ctx) => {
      requireAccountToken(ctx.principal);
      const id = ctx.params.integrationId ?? "";
      const integration = integrationOf(ctx, id);
      // An integration app leaves through its uninstaller, so that the stack can clean up.
      if (isSmartConnector(integration)) {
        throw fieldLocked(
          "_connectorId",
          `Integration apps are uninstalled: DELETE /v1/integrations/${id}/install.`,
        );
      }
      ctx.store.integrations.delete(id);
      ctx.store.state.delete(`integrations:${id}`);
      return { status: 204 };
    });
}
