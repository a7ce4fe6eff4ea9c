import type { InstallStep, Integration } from "#lib/integrator/schemas.ts";
import { infrastructure, protocolErrorOf } from "../errors.ts";
import { assertLive, licenseOfCall } from "../license-check.ts";
import { isObject, requireIntegrationId, requireString } from "../options.ts";
import type {
  ExtensionFunction,
  ExtensionOptions,
  FunctionContext,
  InstallStepDefinition,
} from "../types.ts";
import { transition, writable } from "./lifecycle.ts";

const allCompleted = (steps: InstallStep[]) => steps.every((step) => step.completed === true);

/** The integration's steps as the connector defines them (keeping what earlier runs stored on them). */
function stepsFor(integration: Integration, definitions: InstallStepDefinition[]): InstallStep[] {
  const current = integration.install ?? [];
  const defined = definitions.map((definition): InstallStep => {
    const existing = current.find((step) => step.installerFunction === definition.installerFunction);
    return {
      ...existing,
      name: definition.name,
      ...(definition.description ? { description: definition.description } : {}),
      installerFunction: definition.installerFunction,
      ...(definition.uninstallerFunction ? { uninstallerFunction: definition.uninstallerFunction } : {}),
      completed: existing?.completed === true,
    };
  });
  const own = new Set(definitions.map((definition) => definition.installerFunction));
  return [...defined, ...current.filter((step) => !own.has(step.installerFunction ?? ""))];
}

async function runStep(
  definition: InstallStepDefinition,
  step: InstallStep,
  options: ExtensionOptions,
  context: FunctionContext,
  integration: Integration,
) {
  const fields = await definition.install(options, { ...context, step, integration });
  return { ...step, ...(isObject(fields) ? fields : {}), completed: true };
}

/**
 * `installerFunction`: the license must be one of ours (or integrator.io's) for this connector and
 * live; then the install is recorded, the steps run through the one-time token in order, and the
 * integration's `install[]` is written. A step that fails stays pending (the customer retries it
 * from the wizard); everything before it is kept.
 */
export const installerFunction: ExtensionFunction = async (options, context) => {
  const integrationId = requireIntegrationId(options);
  requireString(options, "bearerToken");
  const license = await licenseOfCall(options, context, integrationId);
  assertLive(license, context.now());
  const integration = await context.integrator.integrations.get(integrationId);
  const fromOptions =
    isObject(options.license) && isObject(options.license.user) ? options.license.user.email : undefined;
  await infrastructure("Recording the install", () =>
    context.installs.begin({
      integrationId,
      connectorId: context.connector.connectorId,
      connectorKey: context.connector.key,
      licenseId: license.licenseId,
      email: license.email ?? (typeof fromOptions === "string" ? fromOptions : ""),
      ...(license.customerId ? { customerId: license.customerId } : {}),
      ...(license.edition ? { edition: license.edition } : {}),
      ...(integration.version ? { version: integration.version } : {}),
      ...(integration.sandbox !== undefined ? { sandbox: integration.sandbox } : {}),
    }),
  );
  const definitions = context.definition.installSteps ?? [];
  const steps = stepsFor(integration, definitions);
  for (const [index, definition] of definitions.entries()) {
    const step = steps[index];
    if (!step || step.completed) continue;
    try {
      steps[index] = await runStep(definition, step, options, context, { ...integration, install: steps });
    } catch (error) {
      const reason = protocolErrorOf(error, [options.bearerToken as string]);
      context.logger.warn("install step failed; left for the wizard", {
        integrationId,
        step: definition.installerFunction,
        ...reason,
      });
      break;
    }
  }
  const done = allCompleted(steps);
  await context.integrator.integrations.update(integrationId, {
    ...writable(integration),
    install: steps,
    mode: done ? "settings" : "install",
  });
  if (done)
    await transition(context, integrationId, "installed", "install.completed", {
      installedAt: context.now().toISOString(),
    });
  return { success: true, stepsToUpdate: steps };
};

/** An install step run from the wizard (`type: "installer"`): the step's code, then the install completes with the last step. */
export function stepInstaller(definition: InstallStepDefinition): ExtensionFunction {
  return async (options, context) => {
    const integrationId = requireIntegrationId(options);
    const integration = await context.integrator.integrations.get(integrationId);
    const step = stepsFor(integration, [definition])[0] as InstallStep;
    const updated = await runStep(definition, step, options, context, integration);
    const others = (integration.install ?? []).filter(
      (s) => s.installerFunction !== definition.installerFunction,
    );
    if (allCompleted(others))
      await transition(context, integrationId, "installed", "install.completed", {
        installedAt: context.now().toISOString(),
      });
    return { success: true, stepsToUpdate: [updated] };
  };
}
