import type { Catalog, CatalogConnector } from "#lib/licensing/catalog.ts";
import { installerFunction, stepInstaller } from "./built-ins/install.ts";
import { changeEdition, persistSettings, refreshMetadata } from "./built-ins/settings.ts";
import { preUninstallFunction, stepUninstaller, uninstallerFunction } from "./built-ins/uninstall.ts";
import { updateFunction } from "./built-ins/update.ts";
import type { ConnectorDefinition, ExtensionFunction, FunctionType } from "./types.ts";

type Functions = Record<string, ExtensionFunction>;

/** The functions of one connector, by `type` (`module`: calls without `type`). */
export interface RegisteredConnector {
  connector: CatalogConnector;
  definition: ConnectorDefinition;
  objects: Partial<Record<FunctionType | "module", Functions>>;
}

/** A connector module that cannot be registered (a typo, a clash with a built-in name): fails the cold start. */
export class RegistryError extends Error {
  override name = "RegistryError";
}

/** The built-in names of docs/architecture.md §3, called without `type`. */
export const BUILT_IN_FUNCTIONS: Functions = {
  installerFunction,
  preUninstallFunction,
  uninstallerFunction,
  updateFunction,
};
/** The built-in `setting` functions. */
export const BUILT_IN_SETTINGS: Functions = { persistSettings, refreshMetadata, changeEdition };

function merge(where: string, builtIns: Functions, own: Functions | undefined): Functions {
  for (const name of Object.keys(own ?? {})) {
    if (Object.hasOwn(builtIns, name))
      throw new RegistryError(
        `${where}: ${name} is a built-in function name; use the module's hooks (onUpdate, onEditionChange, refreshMetadata, installSteps) instead`,
      );
  }
  return { ...builtIns, ...own };
}

function register(connector: CatalogConnector, definition: ConnectorDefinition): RegisteredConnector {
  const where = `connector module ${definition.key}`;
  const installer: Functions = {};
  const uninstaller: Functions = {};
  for (const step of definition.installSteps ?? []) {
    if (Object.hasOwn(installer, step.installerFunction))
      throw new RegistryError(`${where}: two steps run ${step.installerFunction}`);
    installer[step.installerFunction] = stepInstaller(step);
    if (step.uninstallerFunction) {
      if (Object.hasOwn(uninstaller, step.uninstallerFunction))
        throw new RegistryError(`${where}: two steps run ${step.uninstallerFunction}`);
      uninstaller[step.uninstallerFunction] = stepUninstaller(step);
    }
  }
  return {
    connector,
    definition,
    objects: {
      module: merge(where, BUILT_IN_FUNCTIONS, definition.functions),
      installer,
      uninstaller,
      setting: merge(where, BUILT_IN_SETTINGS, definition.settings),
      ...(definition.hooks ? { hook: definition.hooks } : {}),
      ...(definition.wrappers ? { wrapper: definition.wrappers } : {}),
      ...(definition.utilities ? { utility: definition.utilities } : {}),
    },
  };
}

/** Every catalog connector by `_connectorId`, with its module's functions (built-ins only when it has none). */
export class ExtensionRegistry {
  private readonly byId: Map<string, RegisteredConnector>;

  constructor(catalog: Catalog, definitions: ConnectorDefinition[]) {
    const byKey = new Map<string, ConnectorDefinition>();
    for (const definition of definitions) {
      if (!catalog.connectors.some((connector) => connector.key === definition.key)) {
        throw new RegistryError(`connector module ${definition.key}: no catalog connector has that key`);
      }
      if (byKey.has(definition.key))
        throw new RegistryError(`connector module ${definition.key}: registered twice`);
      byKey.set(definition.key, definition);
    }
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

  /** The object of functions for a call's `type` (`undefined`: the module's own), if the connector has one. */
  functionsFor(registered: RegisteredConnector, type: string | undefined): Functions | undefined {
    if (type === undefined) return registered.objects.module;
    return Object.hasOwn(registered.objects, type) ? registered.objects[type as FunctionType] : undefined;
  }
}
