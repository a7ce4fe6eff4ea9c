import { z } from "zod";
import { requireVendor } from "../access.ts";
import type { ApiRouter } from "../context.ts";
import { invalidRef, missingField, notFound } from "../errors.ts";
import { newId } from "../ids.ts";
import { nowIso } from "../json.ts";
import { pageReply } from "../pagination.ts";
import type { SimStore, Stack } from "../store.ts";
import { parseBody } from "../validation.ts";
import { MASKED_SECRET, stackView } from "../views.ts";

const httpUrl = z.string().regex(/^https?:\/\/\S+$/, "must be an http(s) URL");

// Only HTTP server stacks: the simulator cannot invoke AWS Lambda.
const stackSchema = z.object({
  name: z.string().optional(),
  type: z.literal("server", { message: 'only "server" stacks are simulated' }),
  server: z.object({ hostURI: httpUrl, systemToken: z.string().min(1).optional() }),
});

function stackOrNotFound(store: SimStore, id: string): Stack {
  const stack = store.stacks.get(id);
  if (!stack) throw notFound("Stack", id);
  return stack;
}

/** The system token is write-only: a PUT without it (or with the mask) keeps the current one. */
function systemTokenOf(given: string | undefined, current: Stack | undefined): string | undefined {
  if (given !== undefined && given !== MASKED_SECRET) return given;
  return current?.server.systemToken;
}

function buildStack(id: string, body: unknown, current: Stack | undefined): Stack {
  const input = parseBody(stackSchema, body);
  const systemToken = systemTokenOf(input.server.systemToken, current);
  if (systemToken === undefined) throw missingField("server.systemToken");
  const stack: Stack = {
    _id: id,
    type: "server",
    server: { hostURI: input.server.hostURI, systemToken },
    lastModified: nowIso(),
  };
  if (input.name !== undefined) stack.name = input.name;
  return stack;
}

export function registerStacks(router: ApiRouter): void {
  router
    .add("GET", "/v1/stacks", ({ principal, store, query, url }) => {
      requireVendor(principal);
      return pageReply([...store.stacks.values()].map(stackView), query, url);
    })
    .add("POST", "/v1/stacks", ({ principal, store, body }) => {
      requireVendor(principal);
      const stack = buildStack(newId(), body, undefined);
      store.stacks.set(stack._id, stack);
      return { status: 201, body: stackView(stack) };
    })
    .add("GET", "/v1/stacks/:stackId", ({ principal, store, params }) => {
      requireVendor(principal);
      return { status: 200, body: stackView(stackOrNotFound(store, params.stackId ?? "")) };
    })
    .add("PUT", "/v1/stacks/:stackId", ({ principal, store, params, body }) => {
      requireVendor(principal);
      const id = params.stackId ?? "";
      const stack = buildStack(id, body, stackOrNotFound(store, id));
      store.stacks.set(id, stack);
      return { status: 200, body: stackView(stack) };
    })
    .add("DELETE", "/v1/stacks/:stackId", ({ principal, store, params }) => {
      requireVendor(principal);
      const id = params.stackId ?? "";
      stackOrNotFound(store, id);
      const user = [...store.connectors.values()].find((connector) => connector._stackId === id);
      if (user) throw invalidRef("_stackId", `Connector ${String(user._id)} still uses stack ${id}.`);
      store.stacks.delete(id);
      return { status: 204 };
    });
}
