import { describe, expect, it } from "vitest";
import { shopifyNetsuite } from "#lib/extension/connectors/shopify-netsuite.ts";
import { clientContextFields, parseHttpCall } from "#lib/extension/protocol.ts";
import { ExtensionRegistry, RegistryError } from "#lib/extension/registry.ts";
import { defineConnector } from "#lib/extension/types.ts";
import { parseCatalog } from "#lib/licensing/catalog.ts";
import { SHOPIFY, TEST_APP, testCatalog } from "#test/helpers/extension-harness.ts";

const fn = (registry: ExtensionRegistry, connectorId: string, type: string | undefined, name: string) => {
  const registered = registry.connector(connectorId);
  if (!registered) throw new Error(`no connector ${connectorId}`);
  const resolved = registry.resolve(registered, type, name);
  return "fn" in resolved ? resolved.fn : resolved;
};

describe("extension registry", () => {
  const registry = new ExtensionRegistry(testCatalog, [shopifyNetsuite]);
  const lifecycle = {
    installer: ["installerFunction", "updateFunction"],
    uninstaller: ["preUninstallFunction", "uninstallerFunction"],
    setting: ["persistSettings", "refreshMetadata", "changeEdition", "getMappingMetadata"],
  };

  it("answers every built-in in both dialects: typed under its object, flat at the top level", () => {
    for (const [type, names] of Object.entries(lifecycle)) {
      for (const name of names) {
        const typed = fn(registry, TEST_APP.id, type, name);
        expect(typeof typed, `${type}.${name}`).toBe("function");
        expect(fn(registry, TEST_APP.id, undefined, name), `flat ${name}`).toBe(typed);
      }
    }
    expect(fn(registry, TEST_APP.id, "installer", "nope")).toEqual({
      missing: "function",
      where: "installer",
    });
    expect(fn(registry, TEST_APP.id, undefined, "nope")).toEqual({
      missing: "function",
      where: "the connector module",
    });
    expect(registry.connector("ffffffffffffffffffffffff")).toBeUndefined();
  });

  it("falls back to the top level for installer, uninstaller and setting calls only, never for a hook", () => {
    const own = () => ({ mine: true });
    const registryWithOwn = new ExtensionRegistry(testCatalog, [
      defineConnector({ key: TEST_APP.key, functions: { own }, hooks: { preSavePage: own } }),
    ]);
    for (const type of ["installer", "uninstaller", "setting"])
      expect(fn(registryWithOwn, TEST_APP.id, type, "own"), type).toBe(own);
    expect(fn(registryWithOwn, TEST_APP.id, "hook", "own")).toEqual({ missing: "function", where: "hook" });
    expect(fn(registryWithOwn, TEST_APP.id, "hook", "installerFunction")).toEqual({
      missing: "function",
      where: "hook",
    });
    expect(fn(registryWithOwn, TEST_APP.id, "hook", "preSavePage")).toBe(own);
    // A typed call never crosses into another object's lifecycle: settings cannot uninstall.
    for (const [type, name] of [
      ["setting", "uninstallerFunction"],
      ["setting", "preUninstallFunction"],
      ["setting", "installerFunction"],
      ["installer", "uninstallerFunction"],
      ["uninstaller", "installerFunction"],
      ["installer", "persistSettings"],
    ] as const) {
      expect(fn(registryWithOwn, TEST_APP.id, type, name), `${type}.${name}`).toEqual({
        missing: "function",
        where: type,
      });
    }
    expect(fn(registryWithOwn, TEST_APP.id, "wrapper", "own")).toEqual({ missing: "object" });
    expect(fn(registryWithOwn, TEST_APP.id, "toString", "own")).toEqual({ missing: "object" });
  });

  it("answers install steps typed and flat, and the connector document's own names for the lifecycle", () => {
    for (const step of ["installShopifyConnection", "installNetSuiteConnection", "installOrderFlows"]) {
      const typed = fn(registry, SHOPIFY.id, "installer", step);
      expect(typeof typed, step).toBe("function");
      expect(fn(registry, SHOPIFY.id, undefined, step)).toBe(typed);
    }
    expect(typeof fn(registry, SHOPIFY.id, "uninstaller", "uninstallOrderFlows")).toBe("function");
    expect(fn(registry, SHOPIFY.id, undefined, "uninstallOrderFlows")).toBe(
      fn(registry, SHOPIFY.id, "uninstaller", "uninstallOrderFlows"),
    );

    const named = parseCatalog({
      ...testCatalog,
      connectors: testCatalog.connectors.map((connector) =>
        connector.key === TEST_APP.key
          ? {
              ...connector,
              stackFunctions: { installerFunction: "onInstall", uninstallerFunction: "onRemove" },
            }
          : connector,
      ),
    });
    const custom = new ExtensionRegistry(named, []);
    const builtIn = fn(registry, TEST_APP.id, "installer", "installerFunction");
    expect(fn(custom, TEST_APP.id, "installer", "onInstall")).toBe(builtIn);
    expect(fn(custom, TEST_APP.id, undefined, "onInstall")).toBe(builtIn);
    expect(fn(custom, TEST_APP.id, "uninstaller", "onRemove")).toBe(
      fn(registry, TEST_APP.id, "uninstaller", "uninstallerFunction"),
    );
    expect(fn(custom, TEST_APP.id, undefined, "installerFunction")).toEqual({
      missing: "function",
      where: "the connector module",
    });
  });

  it("skips a module the catalog does not know; refuses a duplicate or a clash with a built-in name", () => {
    const skipping = new ExtensionRegistry(testCatalog, [defineConnector({ key: "nope" }), shopifyNetsuite]);
    expect(skipping.skippedModules).toEqual(["nope"]);
    expect(typeof fn(skipping, SHOPIFY.id, "installer", "installOrderFlows")).toBe("function");
    expect(() => new ExtensionRegistry(testCatalog, [shopifyNetsuite, shopifyNetsuite])).toThrow(
      /registered twice/,
    );
    const clash = defineConnector({ key: TEST_APP.key, functions: { updateFunction: () => null } });
    expect(() => new ExtensionRegistry(testCatalog, [clash])).toThrow(RegistryError);
    expect(() => new ExtensionRegistry(testCatalog, [clash])).toThrow(/built-in/);
    const settingClash = defineConnector({ key: TEST_APP.key, settings: { changeEdition: () => null } });
    expect(() => new ExtensionRegistry(testCatalog, [settingClash])).toThrow(/built-in/);
    const mappingClash = defineConnector({
      key: TEST_APP.key,
      functions: { getMappingMetadata: () => null },
    });
    expect(() => new ExtensionRegistry(testCatalog, [mappingClash])).toThrow(/built-in/);
  });

  it("refuses a catalog that gives two lifecycle fields one function name, or a settings function's", () => {
    expect(() =>
      parseCatalog({
        ...testCatalog,
        connectors: [
          { ...testCatalog.connectors[0], stackFunctions: { updateFunction: "installerFunction" } },
        ],
      }),
    ).toThrow(/names the same function as installerFunction/);
    expect(() =>
      parseCatalog({
        ...testCatalog,
        connectors: [
          { ...testCatalog.connectors[0], stackFunctions: { installerFunction: "persistSettings" } },
        ],
      }),
    ).toThrow(/persistSettings is a settings function/);
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
