import { afterAll, beforeAll, expect, it } from "vitest";
import { simControl, startTestStack, type TestStack } from "#test/helpers/local-stack.ts";

/** integrator.io down when the first buyer arrives: a clear 503, no storm of retries, and recovery by a sync. */

let stack: TestStack;

const api = async (path: string, init: { method?: string; headers?: Record<string, string> } = {}) => {
  const response = await fetch(`${stack.urls.api}${path}`, {
    method: init.method ?? "GET",
    headers: init.headers ?? {},
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { data: { key: string }[]; error: { code: string; message: string } },
  };
};
const integratorRequests = async () =>
  (await simControl<{ requests: number }>(stack.integratorOrigin, "GET", "/_sim/stats")).requests;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

it("answers 503 with Retry-After while nothing is stored and integrator.io fails, then serves what a sync fetched", async () => {
  await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", { errorRate: 1, status: 503 });
  const first = await api("/marketplace/connectors");
  expect(first.status).toBe(503);
  expect(first.body.error.code).toBe("listings_unavailable");
  expect(first.headers.get("retry-after")).toBe("30");

  // The next requests do not each retry the fill against integrator.io.
  const before = await integratorRequests();
  expect((await api("/marketplace/templates")).status).toBe(503);
  expect(await integratorRequests()).toBe(before);

  await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", {});
  const synced = await api("/admin/listings/sync", {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
  expect(synced.status).toBe(200);
  const listed = await api("/marketplace/connectors");
  expect(listed.status).toBe(200);
  expect(listed.body.data.map((listing) => listing.key)).toEqual(["shopify-netsuite"]);

  // integrator.io down again: the stored listings are served as they are, and a sync answers 502.
  await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", { errorRate: 1, status: 500 });
  expect((await api("/marketplace/connectors")).body).toEqual(listed.body);
  const failed = await api("/admin/listings/sync", {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
  expect(failed.status).toBe(502);
  expect(failed.body.error).toMatchObject({ code: "listings_unavailable" });
  expect((await api("/marketplace/connectors")).body).toEqual(listed.body);
});
