import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { functionTable } from "#lib/functions.ts";
import { matchRoute, methodsOf, routeByKey, routeKey, routes, takesBody } from "#lib/routes.ts";

describe("route table", () => {
  it("names an existing function module for every route", async () => {
    for (const route of routes) {
      const definition = functionTable[route.function];
      expect(definition, routeKey(route)).toBeDefined();
      const module = await import(/* @vite-ignore */ pathToFileURL(resolve(definition.entry)).href);
      expect(typeof module.makeHandler, definition.entry).toBe("function");
      expect(typeof module.createDeps, definition.entry).toBe("function");
    }
  });

  it("has one entry per method and path", () => {
    const keys = routes.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("matches a known route", () => {
    const match = matchRoute("GET", "/health");
    expect(match).toMatchObject({
      kind: "found",
      routeKey: "GET /health",
      route: { path: "/health", function: "health" },
    });
  });

  it("answers HEAD wherever GET, under the HEAD route key, and nowhere else", () => {
    expect(matchRoute("HEAD", "/admin/customers/cus_1")).toMatchObject({
      kind: "found",
      routeKey: "HEAD /admin/customers/{customerId}",
      route: { method: "GET", path: "/admin/customers/{customerId}" },
      params: { customerId: "cus_1" },
    });
    expect(routeByKey("HEAD /health")).toBe(routeByKey("GET /health"));
    expect(matchRoute("HEAD", "/webhooks/stripe")).toEqual({ kind: "method_not_allowed", allowed: ["POST"] });
    for (const route of routes) expect(methodsOf(route)).toContain(route.method);
  });

  it("tells a wrong method (405 with the allowed ones) from an unknown path (404)", () => {
    expect(matchRoute("DELETE", "/health")).toEqual({ kind: "method_not_allowed", allowed: ["GET", "HEAD"] });
    expect(matchRoute("GET", "/nothing/here")).toEqual({ kind: "not_found" });
    expect(matchRoute("GET", "/health/extra")).toEqual({ kind: "not_found" });
  });

  it("allows OPTIONS where a route takes CORS preflights, and methods only in their own case", () => {
    expect(matchRoute("PUT", "/checkout/sessions")).toEqual({
      kind: "method_not_allowed",
      allowed: ["POST", "OPTIONS"],
    });
    expect(matchRoute("get", "/health")).toEqual({ kind: "method_not_allowed", allowed: ["GET", "HEAD"] });
  });

  it("says which routes read a body; the others ignore one", () => {
    const reading = routes.filter(takesBody).map(routeKey);
    expect(reading).toEqual(routes.filter((route) => route.method === "POST").map(routeKey));
  });
});
