/** Webhook endpoints and the event log (`GET /v1/events`). */
import { type ApiRequest, type ApiRoute, LIST_KEYS, pathParam } from "../api.ts";
import { invalidParam } from "../errors.ts";
import type { JsonObject } from "../model.ts";
import { missingParam, type Params, rangeFilter } from "../params.ts";
import { renderWebhookEndpoint } from "../render.ts";

function readUrl(params: Params): string | undefined {
  const url = params.nonEmptyString("url");
  if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url))
    throw invalidParam("Invalid URL: must be an http(s) URL", "url", "url_invalid");
  return url;
}

function readEnabledEvents(params: Params): string[] | undefined {
  const events = params.stringList("enabled_events");
  if (events !== undefined && events.length === 0)
    throw invalidParam("enabled_events must not be empty", "enabled_events");
  return events;
}

function create({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly(["url", "enabled_events", "description", "metadata", "api_version", "connect"]);
  const url = readUrl(params);
  if (url === undefined) throw missingParam("url");
  const enabledEvents = readEnabledEvents(params);
  if (enabledEvents === undefined) throw missingParam("enabled_events");
  const endpoint = sim.addWebhookEndpoint({
    url,
    enabledEvents,
    description: params.clearableString("description") ?? null,
    metadata: params.metadata(),
    apiVersion: params.string("api_version") ?? null,
  });
  return renderWebhookEndpoint(endpoint, true);
}

function update(request: ApiRequest): JsonObject {
  const { sim, params } = request;
  params.allowOnly(["url", "enabled_events", "description", "metadata", "disabled"]);
  const endpoint = sim.store.webhookEndpoints.require(pathParam(request, "id"));
  endpoint.url = readUrl(params) ?? endpoint.url;
  endpoint.enabledEvents = readEnabledEvents(params) ?? endpoint.enabledEvents;
  const description = params.clearableString("description");
  if (description !== undefined) endpoint.description = description;
  endpoint.metadata = params.metadata("metadata", endpoint.metadata);
  const disabled = params.boolean("disabled");
  if (disabled !== undefined) endpoint.status = disabled ? "disabled" : "enabled";
  return renderWebhookEndpoint(endpoint);
}

function remove(request: ApiRequest): JsonObject {
  const { sim } = request;
  const endpoint = sim.store.webhookEndpoints.require(pathParam(request, "id"));
  sim.store.webhookEndpoints.delete(endpoint.id);
  return { id: endpoint.id, object: "webhook_endpoint", deleted: true };
}

function listEndpoints({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly([...LIST_KEYS]);
  return sim.store.webhookEndpoints.page(
    params,
    "/v1/webhook_endpoints",
    () => true,
    (endpoint) => renderWebhookEndpoint(endpoint),
  );
}

/** `type` accepts a `*` wildcard (`customer.subscription.*`), as Stripe's does. */
function typeMatcher(pattern: string): (type: string) => boolean {
  if (!pattern.includes("*")) return (type) => type === pattern;
  const regex = new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return (type) => regex.test(type);
}

function listEvents({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly([...LIST_KEYS, "type", "types", "created", "delivery_success"]);
  const type = params.nonEmptyString("type");
  const types = params.stringList("types");
  if (type !== undefined && types !== undefined) {
    throw invalidParam(
      "You may only specify one of these parameters: type, types.",
      "types",
      "parameters_exclusive",
    );
  }
  if (types !== undefined && types.length > 20) throw invalidParam("You can pass up to 20 types.", "types");
  const matches = type === undefined ? undefined : typeMatcher(type);
  const created = rangeFilter(params, "created");
  const deliverySuccess = params.boolean("delivery_success");
  return sim.store.events.page(
    params,
    "/v1/events",
    (event) =>
      (matches === undefined || matches(event.type)) &&
      (types === undefined || types.includes(event.type)) &&
      (created === undefined || created(event.created)) &&
      (deliverySuccess === undefined || (event.body.pending_webhooks === 0) === deliverySuccess),
    (event) => structuredClone(event.body),
  );
}

export const webhookRoutes: ApiRoute[] = [
  { method: "POST", path: "/v1/webhook_endpoints", handler: create },
  { method: "GET", path: "/v1/webhook_endpoints", handler: listEndpoints },
  {
    method: "GET",
    path: "/v1/webhook_endpoints/:id",
    handler: (request) =>
      renderWebhookEndpoint(request.sim.store.webhookEndpoints.require(pathParam(request, "id"))),
  },
  { method: "POST", path: "/v1/webhook_endpoints/:id", handler: update },
  { method: "DELETE", path: "/v1/webhook_endpoints/:id", handler: remove },
  { method: "GET", path: "/v1/events", handler: listEvents },
  {
    method: "GET",
    path: "/v1/events/:id",
    handler: (request) => structuredClone(request.sim.store.events.require(pathParam(request, "id")).body),
  },
];
