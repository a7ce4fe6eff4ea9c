import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { functionTable } from "#lib/functions.ts";
import { matchRoute, routeKey, routes } from "#lib/routes.ts";

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
    expect(match).toMatchObject({ kind: "found", route: { path: "/health", function: "health" } });
  });

  it("tells a wrong method (405 with the allowed ones) from an unknown path (404)", () => {
    expect(matchRoute("DELETE", "/health")).toEqual({ kind: "method_not_allowed", allowed: ["GET"] });
    expect(matchRoute("GET", "/nothing/here")).toEqual({ kind: "not_found" });
    expect(matchRoute("GET", "/health/extra")).toEqual({ kind: "not_found" });
  });
});
