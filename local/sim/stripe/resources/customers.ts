import { type ApiRequest, type ApiRoute, LIST_KEYS, pathParam } from "../api.ts";
import type { EventOrigin } from "../events.ts";
import { newId, randomToken } from "../ids.ts";
import type { CustomerRecord, JsonObject } from "../model.ts";
import { type Metadata, rangeFilter } from "../params.ts";
import { renderCustomer } from "../render.ts";
import type { Simulator } from "../simulator.ts";

/** Accepted and stored (or accepted and ignored, where the simulator has nothing to do with them). */
const WRITABLE = ["email", "name", "description", "phone", "metadata"] as const;
const IGNORED = [
  "address",
  "shipping",
  "payment_method",
  "invoice_settings",
  "preferred_locales",
  "tax_exempt",
  "tax_id_data",
  "tax",
  "source",
  "balance",
  "invoice_prefix",
  "next_invoice_sequence",
] as const;

/** Creates a customer and emits `customer.created`. */
export function addCustomer(
  sim: Simulator,
  fields: {
    email: string | null;
    name?: string | null;
    description?: string | null;
    phone?: string | null;
    metadata?: Metadata;
    testClock?: string | null;
  },
  origin: EventOrigin,
): CustomerRecord {
  const testClock = fields.testClock ?? null;
  const created = sim.clockNow(testClock);
  const customer = sim.store.customers.add({
    id: newId("cus"),
    created,
    email: fields.email,
    name: fields.name ?? null,
    description: fields.description ?? null,
    phone: fields.phone ?? null,
    metadata: fields.metadata ?? {},
    testClock,
    invoicePrefix: randomToken(8).toUpperCase(),
    nextInvoiceSequence: 1,
    currency: null,
    paymentFails: false,
  });
  sim.events.emit("customer.created", renderCustomer(sim.store, customer), { created, origin });
  return customer;
}

function create({ sim, params, origin }: ApiRequest): JsonObject {
  params.allowOnly([...WRITABLE, ...IGNORED, "test_clock"]);
  const testClock = params.nonEmptyString("test_clock");
  if (testClock !== undefined) sim.store.testClocks.require(testClock, "test_clock");
  const customer = addCustomer(
    sim,
    {
      email: params.clearableString("email") ?? null,
      name: params.clearableString("name") ?? null,
      description: params.clearableString("description") ?? null,
      phone: params.clearableString("phone") ?? null,
      metadata: params.metadata(),
      testClock: testClock ?? null,
    },
    origin,
  );
  return renderCustomer(sim.store, customer);
}

function retrieve(request: ApiRequest): JsonObject {
  const { sim } = request;
  return renderCustomer(sim.store, sim.store.customers.require(pathParam(request, "id")));
}

function update(request: ApiRequest): JsonObject {
  const { sim, params, origin } = request;
  params.allowOnly([...WRITABLE, ...IGNORED]);
  const customer = sim.store.customers.require(pathParam(request, "id"));
  const before = renderCustomer(sim.store, customer);
  for (const field of ["email", "name", "description", "phone"] as const) {
    const value = params.clearableString(field);
    if (value !== undefined) customer[field] = value;
  }
  customer.metadata = params.metadata("metadata", customer.metadata);
  const after = renderCustomer(sim.store, customer);
  sim.events.emitUpdate("customer.updated", before, after, { created: sim.customerNow(customer.id), origin });
  return after;
}

function list({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly([...LIST_KEYS, "email", "created", "test_clock"]);
  const email = params.string("email");
  const testClock = params.nonEmptyString("test_clock");
  const created = rangeFilter(params, "created");
  return sim.store.customers.page(
    params,
    "/v1/customers",
    (customer) =>
      (email === undefined || customer.email === email) &&
      (testClock === undefined || customer.testClock === testClock) &&
      (created === undefined || created(customer.created)),
    (customer) => renderCustomer(sim.store, customer),
  );
}

export const customerRoutes: ApiRoute[] = [
  { method: "POST", path: "/v1/customers", handler: create },
  { method: "GET", path: "/v1/customers", handler: list },
  { method: "GET", path: "/v1/customers/:id", handler: retrieve },
  { method: "POST", path: "/v1/customers/:id", handler: update },
];
