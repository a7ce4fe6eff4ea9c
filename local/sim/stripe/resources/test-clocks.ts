/** Test clocks (`/v1/test_helpers/test_clocks`): frozen time for their customers, advanced on request. */
import { type ApiRequest, type ApiRoute, LIST_KEYS, pathParam } from "../api.ts";
import { invalidParam } from "../errors.ts";
import { newId } from "../ids.ts";
import type { JsonObject } from "../model.ts";
import { missingParam } from "../params.ts";
import { renderTestClock } from "../render.ts";

/** Stripe deletes a test clock 30 days after creating it; the simulator only reports the date. */
const CLOCK_LIFETIME_SECONDS = 30 * 86_400;

function create({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly(["frozen_time", "name"]);
  const frozenTime = params.timestamp("frozen_time");
  if (frozenTime === undefined) throw missingParam("frozen_time");
  const now = sim.realNow();
  const clock = sim.store.testClocks.add({
    id: newId("clock"),
    created: now,
    frozenTime,
    name: params.clearableString("name") ?? null,
    deletesAfter: now + CLOCK_LIFETIME_SECONDS,
    advancingTo: null,
  });
  return renderTestClock(clock);
}

/**
 * Moves the clock forward and runs every renewal, trial end, retry and cancellation that falls
 * due on the way, in time order. The work is done before answering; the answer is Stripe's
 * (`status: "advancing"` with the target time), and the next retrieve shows `ready`.
 */
function advance(request: ApiRequest): JsonObject {
  const { sim, params } = request;
  params.allowOnly(["frozen_time"]);
  const clock = sim.store.testClocks.require(pathParam(request, "id"));
  const target = params.timestamp("frozen_time");
  if (target === undefined) throw missingParam("frozen_time");
  if (target <= clock.frozenTime) {
    throw invalidParam("The frozen_time must be after the test clock's current frozen_time.", "frozen_time");
  }
  const answer = renderTestClock({ ...clock, advancingTo: target });
  sim.advanceClock(clock.id, target);
  return answer;
}

/** Deleting a clock deletes its customers and their subscriptions and invoices, as on Stripe. */
function remove(request: ApiRequest): JsonObject {
  const { sim } = request;
  const clock = sim.store.testClocks.require(pathParam(request, "id"));
  for (const customer of sim.store.customers.values()) {
    if (customer.testClock === clock.id) sim.store.customers.delete(customer.id);
  }
  for (const subscription of sim.store.subscriptions.values()) {
    if (subscription.testClock === clock.id) sim.store.subscriptions.delete(subscription.id);
  }
  for (const invoice of sim.store.invoices.values()) {
    if (invoice.testClock === clock.id) sim.store.invoices.delete(invoice.id);
  }
  sim.store.testClocks.delete(clock.id);
  return { id: clock.id, object: "test_helpers.test_clock", deleted: true };
}

export const testClockRoutes: ApiRoute[] = [
  { method: "POST", path: "/v1/test_helpers/test_clocks", handler: create },
  {
    method: "GET",
    path: "/v1/test_helpers/test_clocks",
    handler: ({ sim, params }) =>
      sim.store.testClocks.page(
        params.allowOnly([...LIST_KEYS]),
        "/v1/test_helpers/test_clocks",
        () => true,
        renderTestClock,
      ),
  },
  {
    method: "GET",
    path: "/v1/test_helpers/test_clocks/:id",
    handler: (request) => renderTestClock(request.sim.store.testClocks.require(pathParam(request, "id"))),
  },
  { method: "POST", path: "/v1/test_helpers/test_clocks/:id/advance", handler: advance },
  { method: "DELETE", path: "/v1/test_helpers/test_clocks/:id", handler: remove },
];
