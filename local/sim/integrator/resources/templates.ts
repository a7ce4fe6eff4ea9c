import { z } from "zod";
import { requireVendor } from "../access.ts";
import type { ApiRouter } from "../context.ts";
import { notFound } from "../errors.ts";
import { newId } from "../ids.ts";
import { clone, type JsonObject, nowIso } from "../json.ts";
import type { SimStore } from "../store.ts";
import { parseBody } from "../validation.ts";

export const templateFields = {
  name: z.string().min(1),
  description: z.string().optional(),
  imageURL: z.string().optional(),
  websiteURL: z.string().optional(),
  contactEmail: z.string().optional(),
  applications: z.array(z.string()).optional(),
};

const templateSchema = z.looseObject(templateFields);

/** `published` is read-only through the API (the marketplace review sets it; here `POST /_sim/templates`). */
function writableFields(body: unknown): JsonObject {
  const { _id, lastModified, published, ...fields } = parseBody(templateSchema, body) as JsonObject;
  return fields;
}

function templateOrNotFound(store: SimStore, id: string): JsonObject {
  const template = store.templates.get(id);
  if (!template) throw notFound("Template", id);
  return template;
}

export function registerTemplates(router: ApiRouter): void {
  router
    // integrator.io answers the template list as one flat array, without pagination.
    .add("GET", "/v1/templates", ({ principal, store }) => {
      requireVendor(principal);
      return { status: 200, body: [...store.templates.values()].map(clone) };
    })
    .add("POST", "/v1/templates", ({ principal, store, body }) => {
      requireVendor(principal);
      const template = { _id: newId(), ...writableFields(body), published: false, lastModified: nowIso() };
      store.templates.set(template._id, template);
      return { status: 201, body: clone(template) };
    })
    .add("GET", "/v1/templates/:templateId", ({ principal, store, params }) => {
      requireVendor(principal);
      return { status: 200, body: clone(templateOrNotFound(store, params.templateId ?? "")) };
    })
    .add("PUT", "/v1/templates/:templateId", ({ principal, store, params, body }) => {
      requireVendor(principal);
      const id = params.templateId ?? "";
      const current = templateOrNotFound(store, id);
      const template = {
        _id: id,
        ...writableFields(body),
        published: current.published === true,
        lastModified: nowIso(),
      };
      store.templates.set(id, template);
      return { status: 200, body: clone(template) };
    })
    .add("DELETE", "/v1/templates/:templateId", ({ principal, store, params }) => {
      requireVendor(principal);
      const id = params.templateId ?? "";
      templateOrNotFound(store, id);
      store.templates.delete(id);
      return { status: 204 };
    });
}
