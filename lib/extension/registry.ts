import { type Catalog, type CatalogConnector, connectorFunctionNames } from "#lib/licensing/catalog.ts";
import { installerFunction, stepInstaller } from "./built-ins/install.ts";
import { changeEdition, getMappingMetadata, persistSettings, refreshMetadata } from "./built-ins/settings.ts";
import { preUninstallFunction, stepUninstaller, uninstallerFunction } from "./built-ins/uninstall.ts";
import { updateFunction } from "./built-ins/update.ts";
import type { ConnectorDefinition, ExtensionFunction, FunctionType } from "./types.ts";

type Functions = Record<string, ExtensionFunction>;

/**
 * The functions of one connector in both of integrator.io's layouts (docs/architecture.md §3):
 * `typed` holds the documented "1.0" objects a call's `type` names (`installer`, `uninstaller`,
 * `setting`, `hook`, `wrapper`, `utility`); `flat` holds, at the module's top level, every
 * function a call without `type` may name — the connector's lifecycle, its install steps, its
 * settings and the module's own functions; `own` holds only the module's own functions, the
 * top level a typed call falls back to.
 */
export interface RegisteredConnector {
  connector: CatalogConnector;
  definition: ConnectorDefinition;
  typed: Partial<Record<FunctionType, Functions>>;
  flat: Functions;
  own: Functions;
}

/** What a call names, resolved: the function, or why there is none. */
export type Resolution =
  | { fn: ExtensionFunction }
  | { missing: "object" }
  | { missing: "function"; where: string };

/** A connector module that cannot be registered (a clash between two of its names): fails the cold start. */
export class RegistryError extends Error {
  override name = "RegistryError";
}

/** The built-in `setting` functions. */
export const BUILT_IN_SETTINGS: Functions = {
  persistSettings,
  refreshMetadata,
  changeEdition,
  getMappingMetadata,
};

/** Typed calls whose object lacks the function fall back to the module's own functions; hooks, wrappers and utilities never do. */
const FALLS_BACK_TO_MODULE: ReadonlySet<string> = new Set<FunctionType>([
  "installer",
  "uninstaller",
  "setting",
]);

/** Adds `name → fn` to `into`, refusing a name already taken by another function. */
function add(where: string, into: Functions, name: string, fn: ExtensionFunction, what: string): void {
  const taken = Object.hasOwn(into, name) ? into[name] : undefined;
  if (taken !== undefined && taken !== fn) throw new RegistryError(`${where}: ${name} ${what}`);
  // An own property whatever the name (`__proto__` included).
  Object.defineProperty(into, name, { value: fn, enumerable: true, writable: true, configurable: true });
}

function register(connector: CatalogConnector, definition: ConnectorDefinition): RegisteredConnector {
  const where = `connector module ${definition.key}`;
  const names = connectorFunctionNames(connector);
  const lifecycle = {
    installer: { [names.installerFunction]: installerFunction, [names.updateFunction]: updateFunction },
    uninstaller: {
      [names.preUninstallFunction]: preUninstallFunction,
      [names.uninstallerFunction]: uninstallerFunction,
    },
  };
  const installer: Functions = { ...lifecycle.installer };
  const uninstaller: Functions = { ...lifecycle.uninstaller };
  for (const step of definition.installSteps ?? []) {
    add(
      where,
      installer,
      step.installerFunction,
      stepInstaller(step),
      "is run by two steps or by the lifecycle",
    );
    if (step.uninstallerFunction)
      add(
        where,
        uninstaller,
        step.uninstallerFunction,
        stepUninstaller(step),
        "is run by two steps or by the lifecycle",
      );
  }
  const setting: Functions = { ...BUILT_IN_SETTINGS };
  const builtIn =
    "is a built-in function name; use the module's hooks (onUpdate, onEditionChange, refreshMetadata, getMappingMetadata, installSteps) instead";
  for (const [name, fn] of Object.entries(definition.settings ?? {})) add(where, setting, name, fn, builtIn);

  // The flat layout: every one of those at the top level, and the module's own functions.
  const flat: Functions = {};
  for (const object of [installer, uninstaller, setting])
    for (const [name, fn] of Object.entries(object))
      add(where, flat, name, fn, "is named twice (install step, uninstall step or setting)");
  const own: Functions = {};
  for (const [name, fn] of Object.entries(definition.functions ?? {})) {
    add(where, own, name, fn, "is named twice");
    const reserved = Object.hasOwn(lifecycle.installer, name) || Object.hasOwn(lifecycle.uninstaller, name);
    add(
      where,
      flat,
      name,
      fn,
      reserved || Object.hasOwn(BUILT_IN_SETTINGS, name) ? builtIn : "is also an install step or a setting",
    );
  }
  return {
    connector,
    definition,
    typed: {
      installer,
      uninstaller,
      setting,
      ...(definition.hooks ? { hook: definition.hooks } : {}),
      ...(definition.wrappers ? { wrapper: definition.wrappers } : {}),
      ...(definition.utilities ? { utility: definition.utilities } : {}),
    },
    flat,
    own,
  };
}

const lookup = (functions: Functions | undefined, name: string) =>
  functions && Object.hasOwn(functions, name) && typeof functions[name] === "function"
    ? functions[name]
    : undefined;

/** Every catalog connector by `_connectorId`, with its module's functions (built-ins only when it has none). */
export class ExtensionRegistry {
  private readonly byId: Map<string, RegisteredConnector>;
  /** Keys of the modules left out because no catalog connector has them (a vendor's own catalog without the example). */
  readonly skippedModules: readonly string[];

  constructor(catalog: Catalog, definitions: ConnectorDefinition[]) {
    const byKey = new Map<string, ConnectorDefinition>();
    const skipped: string[] = [];
    for (const definition of definitions) {
      if (!catalog.connectors.some((connector) => connector.key === definition.key)) {
        skipped.push(definition.key);
        continue;
      }
      if (byKey.has(definition.key))
        throw new RegistryError(`connector module ${definition.key}: registered twice`);
      byKey.set(definition.key, definition);
    }
    this.skippedModules = skipped;
    this.byId = new Map(
      catalog.connectors.map((connector) => [
        connector.connectorId,
        register(connector, byKey.get(connector.key) ?? { key: connector.key }),
      ]),
    );
  }

  /** The connector with this integrator.io `_connectorId`. */
  connector(connectorId: string): RegisteredConnector | undefined {
    return this.byId.get(connectorId);
  }

  /**
   * The function a call names. Without `type` (the flat dialect) it is looked up at the module's
   * top level, where everything is; with `type` in the object that type names (the connector's
   * lifecycle sits under `installer` and `uninstaller` there), and for `installer`, `uninstaller`
   * and `setting` then among the module's own functions — never the lifecycle of another object:
   * a `setting` call can never reach `uninstallerFunction`.
   */
  resolve(registered: RegisteredConnector, type: string | undefined, name: string): Resolution {
    if (type === undefined) {
      const fn = lookup(registered.flat, name);
      return fn ? { fn } : { missing: "function", where: "the connector module" };
    }
    if (!Object.hasOwn(registered.typed, type)) return { missing: "object" };
    const fn =
      lookup(registered.typed[type as FunctionType], name) ??
      (FALLS_BACK_TO_MODULE.has(type) ? lookup(registered.own, name) : undefined);
    return fn ? { fn } : { missing: "function", where: type };
  }
}
