/** Invoices: read, list, and pay an open one. */
import { type ApiRequest, type ApiRoute, LIST_KEYS, pathParam } from "../api.ts";
import { payInvoiceNow } from "../billing.ts";
import { invalidRequest } from "../errors.ts";
import type { JsonObject } from "../model.ts";
import { rangeFilter } from "../params.ts";
import { renderInvoice } from "../render.ts";

function list({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly([...LIST_KEYS, "customer", "subscription", "status", "created", "collection_method"]);
  const customer = params.nonEmptyString("customer");
  const subscription = params.nonEmptyString("subscription");
  const status = params.enumeration("status", ["draft", "open", "paid", "uncollectible", "void"] as const);
  const created = rangeFilter(params, "created");
  return sim.store.invoices.page(
    params,
    "/v1/invoices",
    (invoice) =>
      (customer === undefined || invoice.customer === customer) &&
      (subscription === undefined || invoice.subscription === subscription) &&
      (status === undefined || invoice.status === status) &&
      (created === undefined || created(invoice.created)),
    (invoice) => renderInvoice(sim.store, invoice),
  );
}

/** Charges the customer now; a declined card answers Stripe's 402 `card_declined` (after `invoice.payment_failed`). */
function pay(request: ApiRequest): JsonObject {
  const { sim, params, origin } = request;
  params.allowOnly(["off_session", "payment_method", "source", "forgive", "mandate", "paid_out_of_band"]);
  const invoice = sim.store.invoices.require(pathParam(request, "id"));
  if (invoice.status !== "open")
    throw invalidRequest(`Invoice is ${invoice.status === "paid" ? "already paid" : invoice.status}.`);
  payInvoiceNow(sim, invoice, origin, params.boolean("paid_out_of_band") === true ? true : undefined);
  return renderInvoice(sim.store, invoice);
}

export const invoiceRoutes: ApiRoute[] = [
  { method: "GET", path: "/v1/invoices", handler: list },
  {
    method: "GET",
    path: "/v1/invoices/:id",
    handler: (request) =>
      renderInvoice(request.sim.store, request.sim.store.invoices.require(pathParam(request, "id"))),
  },
  { method: "POST", path: "/v1/invoices/:id/pay", handler: pay },
];
