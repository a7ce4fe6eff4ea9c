import { z } from "zod";
import { conflict, invalidRef, missingField } from "./errors.ts";
import { faultsSchema } from "./faults.ts";
import { newId, newToken } from "./ids.ts";
import { clone, type JsonObject, nowIso } from "./json.ts";
import { checkStackRef, connectorFields } from "./resources/connectors.ts";
import { normalizeEmail } from "./resources/licenses.ts";
import { templateFields } from "./resources/templates.ts";
import { type Reply, Router } from "./router.ts";
import type { SimRuntime } from "./runtime.ts";
import { STACK_DIALECTS } from "./stack-caller.ts";
import type { User } from "./store.ts";
import { parseBody } from "./validation.ts";

export interface ControlContext {
  sim: SimRuntime;
  body: unknown;
}

const userSchema = z.object({ email: z.email(), name: z.string().min(1).optional() });
const connectorSchema = z.looseObject({
  _id: z.string().min(1),
  ...z.object(connectorFields).partial().shape,
  /** How the simulator calls the connector's stack (`typed` by default); see stack-caller.ts. */
  stackDialect: z.enum(STACK_DIALECTS).optional(),
});
const templateSchema = z.looseObject({
  _id: z.string().min(1).optional(),
  ...z.object(templateFields).partial().shape,
  published: z.boolean().optional(),
});
const jobSchema = z.looseObject({
  type: z.string().min(1),
  status: z.string().min(1),
  _integrationId: z.string().optional(),
});
const rateLimitSchema = z.object({
  capacity: z.number().positive().optional(),
  refillPerSecond: z.number().positive().optional(),
});

/** Creates the document with the given `_id`, or merges the fields into the existing one. */
function upsert(
  collection: Map<string, JsonObject>,
  id: string,
  fields: JsonObject,
  defaults: JsonObject = {},
): Reply {
  const existing = collection.get(id);
  const doc = { ...(existing ?? defaults), ...fields, _id: id, lastModified: nowIso() };
  collection.set(id, doc);
  return { status: existing ? 200 : 201, body: clone(doc) };
}

/** The simulator's own API at the root of its port (`/_sim/...`): no auth, loopback only. */
export function controlRouter(): Router<ControlContext> {
  const router = new Router<ControlContext>();
  router
    .add("POST", "/_sim/users", ({ sim, body }) => {
      const input = parseBody(userSchema, body);
      const email = normalizeEmail(input.email);
      if (sim.store.usersByEmail.has(email))
        throw conflict("already_exists", `An account for ${email} exists.`, "email");
      const user: User = { _id: newId(), email, token: newToken() };
      if (input.name !== undefined) user.name = input.name;
      sim.store.addUser(user);
      return { status: 201, body: { ...user } };
    })
    .add("POST", "/_sim/connectors", ({ sim, body }) => {
      const { _id, lastModified, ...fields } = parseBody(connectorSchema, body) as JsonObject;
      checkStackRef(sim.store, fields);
      return upsert(sim.store.connectors, String(_id), fields);
    })
    .add("POST", "/_sim/templates", ({ sim, body }) => {
      const { _id, lastModified, ...fields } = parseBody(templateSchema, body) as JsonObject;
      const id = typeof _id === "string" ? _id : newId();
      if (!sim.store.templates.has(id) && fields.name === undefined) throw missingField("name");
      return upsert(sim.store.templates, id, fields, { published: false });
    })
    .add("POST", "/_sim/jobs", ({ sim, body }) => {
      const { _id, ...fields } = parseBody(jobSchema, body) as JsonObject;
      let owner = sim.store.vendorId;
      if (typeof fields._integrationId === "string") {
        const integration = sim.store.integrations.get(fields._integrationId);
        if (!integration)
          throw invalidRef("_integrationId", `There is no integration ${fields._integrationId}.`);
        owner = integration.owner;
      }
      const now = nowIso();
      const doc = { _id: newId(), ...fields, createdAt: now, lastModified: now };
      sim.store.jobs.set(doc._id, { owner, doc });
      return { status: 201, body: clone(doc) };
    })
    .add("GET", "/_sim/faults", ({ sim }) => ({ status: 200, body: sim.faults }))
    .add("PUT", "/_sim/faults", ({ sim, body }) => {
      sim.faults = parseBody(faultsSchema, body);
      return { status: 200, body: sim.faults };
    })
    .add("GET", "/_sim/rate-limit", ({ sim }) => ({ status: 200, body: sim.buckets.settings }))
    .add("PUT", "/_sim/rate-limit", ({ sim, body }) => {
      const input = parseBody(rateLimitSchema, body);
      const current = sim.buckets.settings;
      sim.buckets.configure({
        capacity: input.capacity ?? current.capacity,
        refillPerSecond: input.refillPerSecond ?? current.refillPerSecond,
      });
      return { status: 200, body: sim.buckets.settings };
    })
    .add("GET", "/_sim/stats", ({ sim }) => ({
      status: 200,
      body: { ...sim.stats.snapshot(), licenses: sim.store.licenseCount() },
    }))
    .add("POST", "/_sim/reset", ({ sim }) => {
      sim.reset();
      return { status: 204 };
    });
  return router;
}
