import { z } from "zod";
import { requireConnectorAccess, requireVendor } from "../access.ts";
import type { ApiRouter } from "../context.ts";
import { invalidRef, notFound } from "../errors.ts";
import { newId } from "../ids.ts";
import { clone, type JsonObject, nowIso } from "../json.ts";
import { pageReply } from "../pagination.ts";
import type { SimStore } from "../store.ts";
import { parseBody } from "../validation.ts";

const functionName = z.string().min(1);

/** The connector fields the simulator checks; any other field is stored as given. */
export const connectorFields = {
  name: z.string().min(1),
  description: z.string().optional(),
  imageURL: z.string().optional(),
  websiteURL: z.string().optional(),
  contactEmail: z.string().optional(),
  handle: z.string().optional(),
  published: z.boolean().optional(),
  managed: z.boolean().optional(),
  trialEnabled: z.boolean().optional(),
  applications: z.array(z.string()).optional(),
  _stackId: z.string().min(1).nullable().optional(),
  _integrationId: z.string().nullable().optional(),
  installerFunction: functionName.optional(),
  uninstallerFunction: functionName.optional(),
  updateFunction: functionName.optional(),
  preUninstallFunction: functionName.optional(),
};

const connectorSchema = z.looseObject(connectorFields);

/** The connector, or 404. */
export function connectorOrNotFound(store: SimStore, id: string): JsonObject {
  const connector = store.connectors.get(id);
  if (!connector) throw notFound("Connector", id);
  return connector;
}

/** `_stackId` must name an existing stack (`invalid_ref`, 422). */
export function checkStackRef(store: SimStore, fields: JsonObject): void {
  const stackId = fields._stackId;
  if (typeof stackId === "string" && !store.stacks.has(stackId)) {
    throw invalidRef("_stackId", `There is no stack ${stackId}.`);
  }
}

function writableFields(body: unknown): JsonObject {
  const { _id, lastModified, ...fields } = parseBody(connectorSchema, body) as JsonObject;
  return fields;
}

export function registerConnectors(router: ApiRouter): void {
  router
    .add("GET", "/v1/connectors", ({ principal, store, query, url }) => {
      requireVendor(principal);
      return pageReply([...store.connectors.values()].map(clone), query, url);
    })
    .add("POST", "/v1/connectors", ({ principal, store, body }) => {
      requireVendor(principal);
      const fields = writableFields(body);
      checkStackRef(store, fields);
      const connector = { _id: newId(), ...fields, lastModified: nowIso() };
      store.connectors.set(connector._id, connector);
      return { status: 201, body: clone(connector) };
    })
    .add("GET", "/v1/connectors/:connectorId", ({ principal, store, params }) => {
      requireConnectorAccess(principal, params.connectorId ?? "");
      return { status: 200, body: clone(connectorOrNotFound(store, params.connectorId ?? "")) };
    })
    .add("PUT", "/v1/connectors/:connectorId", ({ principal, store, params, body }) => {
      requireVendor(principal);
      const id = params.connectorId ?? "";
      connectorOrNotFound(store, id);
      const fields = writableFields(body);
      checkStackRef(store, fields);
      // PUT replaces the document; only the id is kept.
      const connector = { _id: id, ...fields, lastModified: nowIso() };
      store.connectors.set(id, connector);
      return { status: 200, body: clone(connector) };
    })
    .add("DELETE", "/v1/connectors/:connectorId", ({ principal, store, params }) => {
      requireVendor(principal);
      const id = params.connectorId ?? "";
      connectorOrNotFound(store, id);
      store.connectors.delete(id);
      store.licenses.delete(id);
      return { status: 204 };
    })
    .add("GET", "/v1/connectors/:connectorId/installBase", ({ principal, store, params, query, url }) => {
      requireVendor(principal);
      const id = params.connectorId ?? "";
      connectorOrNotFound(store, id);
      const installs = [...store.integrations.values()]
        .filter((integration) => integration.doc._connectorId === id)
        .map((integration) => {
          const user = store.users.get(integration.owner);
          const license = store.findLicense(integration.licenseId);
          return {
            _id: integration.doc._id,
            _integrationId: integration.doc._id,
            _userId: integration.owner,
            email: user?.email ?? license?.email,
            name: user?.name,
            _licenseId: integration.licenseId,
            version: integration.doc.version,
            mode: integration.doc.mode,
            updateInProgress: integration.doc.updateInProgress,
            sandbox: license?.sandbox ?? false,
          };
        });
      return pageReply(installs, query, url);
    });
}
