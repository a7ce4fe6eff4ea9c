import type { Logger } from "@aws-lambda-powertools/logger";
import type { z } from "zod/mini";
import type { DomainEvents } from "#lib/events/domain-events.ts";
import type { IntegratorClient } from "#lib/integrator/client.ts";
import type { InstallStep, Integration } from "#lib/integrator/schemas.ts";
import type { Catalog, CatalogConnector } from "#lib/licensing/catalog.ts";
import type { Licenses } from "#lib/store/licenses.ts";
import type { Installs } from "./installs.ts";

/** The `options` integrator.io sends a function (`bearerToken`, `_integrationId`, `opts`, `license`, ...). */
export type ExtensionOptions = Record<string, unknown>;

/** `type` of a call: which object of the connector's module holds the function (none: the module itself). */
export type FunctionType = "installer" | "uninstaller" | "setting" | "hook" | "wrapper" | "utility";

/** What every function of the stack may use, built once per cold start. */
export interface ExtensionServices {
  catalog: Catalog;
  installs: Installs;
  licenses: Licenses;
  /** integrator.io as the vendor (partner) account. Prefer `integrator` (the call's one-time token). */
  vendor: IntegratorClient;
  events: DomainEvents;
  logger: Logger;
  now: () => Date;
}

/** What a function gets besides its options. */
export interface FunctionContext extends ExtensionServices {
  /** The catalog entry of the call's `_connectorId`. */
  connector: CatalogConnector;
  definition: ConnectorDefinition;
  call: { type: FunctionType | undefined; function: string };
  /**
   * integrator.io as the call's one-time token (`options.bearerToken`): only this connector's and
   * this integration's resources, only during this call. Never log the token.
   */
  integrator: IntegratorClient;
  /**
   * Aborted when the call runs out of time (the invocation's deadline): the caller has already
   * been answered with a `timeout` error, so a long function may stop here instead of going on.
   */
  signal?: AbortSignal;
}

/** A function of the stack: returns the result integrator.io gets (JSON), or throws to refuse (422). */
export type ExtensionFunction = (options: ExtensionOptions, context: FunctionContext) => unknown;

/** What an install step's code gets: the step as the integration holds it, and the integration. */
export interface StepContext extends FunctionContext {
  step: InstallStep;
  integration: Integration;
}

/**
 * One step of the install wizard. `install` makes what the step stands for (through
 * `context.integrator`) and returns fields to keep on the step (ids of what it made); it must be
 * safe to run again. `uninstall` removes it.
 */
export interface InstallStepDefinition {
  name: string;
  description?: string;
  /** The step's `installerFunction` name in integrator.io (called with `type: "installer"`). */
  installerFunction: string;
  /** The step's `uninstallerFunction` name (called with `type: "uninstaller"`). */
  uninstallerFunction?: string;
  /** Resolves to an object of fields to keep on the step (ids of what it made), or to nothing. */
  install(options: ExtensionOptions, context: StepContext): Promise<unknown>;
  uninstall?(options: ExtensionOptions, context: StepContext): Promise<void>;
}

/**
 * A vendor's connector module: what the stack does for one catalog connector beyond the built-in
 * lifecycle (license check, install record, events). See lib/extension/connectors/shopify-netsuite.ts.
 */
export interface ConnectorDefinition {
  /** The catalog key of the connector (local/catalog.json `connectors[].key`). */
  key: string;
  /** The version this code implements; an update moves integrations to it unless the connector document in integrator.io names one. */
  version?: string;
  installSteps?: InstallStepDefinition[];
  /** Validates `persistSettings`' `pending` (zod/mini); without it any object passes. */
  settingsSchema?: z.ZodMiniType;
  /** Runs inside `updateFunction` before the new version is recorded (migrations). */
  onUpdate?(
    options: ExtensionOptions,
    context: FunctionContext & { fromVersion?: string; toVersion: string },
  ): Promise<void>;
  /** Runs inside `changeEdition` once the edition is known to be licensed. */
  onEditionChange?(
    options: ExtensionOptions,
    context: FunctionContext & { fromEdition?: string; toEdition: string },
  ): Promise<void>;
  /** Answers `refreshMetadata`; without it the answer is `{success: true}`. */
  refreshMetadata?: ExtensionFunction;
  /** Answers `getMappingMetadata`; without it the answer is `{}`. */
  getMappingMetadata?: ExtensionFunction;
  /** The vendor's own functions, by name, for calls without `type` (and typed calls that fall back to the top level). */
  functions?: Record<string, ExtensionFunction>;
  /** More `setting` functions besides persistSettings, refreshMetadata and changeEdition. */
  settings?: Record<string, ExtensionFunction>;
  hooks?: Record<string, ExtensionFunction>;
  wrappers?: Record<string, ExtensionFunction>;
  utilities?: Record<string, ExtensionFunction>;
}

/** Type-checks a connector module where it is written. */
export const defineConnector = (definition: ConnectorDefinition): ConnectorDefinition => definition;
