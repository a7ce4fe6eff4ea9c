import { describe, expect, it } from "vitest";
import { shopifyNetsuite } from "#lib/extension/connectors/shopify-netsuite.ts";
import { clientContextFields, parseHttpCall } from "#lib/extension/protocol.ts";
import { ExtensionRegistry, RegistryError } from "#lib/extension/registry.ts";
import { defineConnector } from "#lib/extension/types.ts";
import { SHOPIFY, TEST_APP, testCatalog } from "#test/helpers/extension-harness.ts";

describe("extension registry", () => {
  const registry = new ExtensionRegistry(testCatalog, [shopifyNetsuite]);

  it("registers every catalog connector, with the built-ins when it has no module", () => {
    const bare = registry.connector(TEST_APP.id);
    expect(bare && Object.keys(registry.functionsFor(bare, undefined) ?? {})).toEqual([
      "installerFunction",
      "preUninstallFunction",
      "uninstallerFunction",
      "updateFunction",
    ]);
    expect(bare && Object.keys(registry.functionsFor(bare, "setting") ?? {})).toEqual([
      "persistSettings",
      "refreshMetadata",
      "changeEdition",
    ]);
    expect(bare && registry.functionsFor(bare, "hook")).toBeUndefined();
    expect(registry.connector("ffffffffffffffffffffffff")).toBeUndefined();
  });

  it("maps install steps to the installer and uninstaller objects by their function names", () => {
    const shopify = registry.connector(SHOPIFY.id);
    expect(shopify && Object.keys(registry.functionsFor(shopify, "installer") ?? {})).toEqual([
      "installShopifyConnection",
      "installNetSuiteConnection",
      "installOrderFlows",
    ]);
    expect(shopify && Object.keys(registry.functionsFor(shopify, "uninstaller") ?? {})).toContain(
      "uninstallOrderFlows",
    );
    expect(shopify && registry.functionsFor(shopify, "toString")).toBeUndefined();
  });

  it("fails the cold start for a module the catalog does not know, a duplicate, or a clash with a built-in name", () => {
    expect(() => new ExtensionRegistry(testCatalog, [defineConnector({ key: "nope" })])).toThrow(
      RegistryError,
    );
    expect(() => new ExtensionRegistry(testCatalog, [shopifyNetsuite, shopifyNetsuite])).toThrow(
      /registered twice/,
    );
    const clash = defineConnector({ key: TEST_APP.key, functions: { updateFunction: () => null } });
    expect(() => new ExtensionRegistry(testCatalog, [clash])).toThrow(/built-in/);
    const settingClash = defineConnector({ key: TEST_APP.key, settings: { changeEdition: () => null } });
    expect(() => new ExtensionRegistry(testCatalog, [settingClash])).toThrow(/built-in/);
  });
});

describe("protocol envelope", () => {
  it("reads a ClientContext wherever integrator.io or the runtime put the fields", () => {
    const fields = { _connectorId: "c", function: "f" };
    expect(clientContextFields(fields)).toEqual(fields);
    expect(clientContextFields({ client: {}, Custom: fields })).toEqual(fields);
    expect(clientContextFields({ custom: fields })).toEqual(fields);
    expect(clientContextFields(JSON.stringify(fields))).toEqual(fields);
    expect(clientContextFields(Buffer.from(JSON.stringify(fields)).toString("base64"))).toEqual(fields);
    expect(clientContextFields("%%%")).toEqual({});
    expect(clientContextFields(undefined)).toEqual({});
  });

  it("defaults maxResponseSize to 5 MiB and keeps an absent type absent", () => {
    const parsed = parseHttpCall({ _connectorId: "c", function: "f", options: {}, type: "" });
    expect(parsed).toEqual({
      call: {
        connectorId: "c",
        type: undefined,
        function: "f",
        options: {},
        maxResponseSize: 5 * 1024 * 1024,
      },
    });
  });
});
