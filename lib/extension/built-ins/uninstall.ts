import type { InstallStep } from "#lib/integrator/schemas.ts";
import { infrastructure } from "../errors.ts";
import { requireIntegrationId } from "../options.ts";
import type { ExtensionFunction, InstallStepDefinition } from "../types.ts";
import { transition, writable } from "./lifecycle.ts";

/**
 * The steps in the order their uninstallers run: the module's steps last-made first (flows before
 * the connections they use), then any step the module does not define, in the order it has. The
 * order depends on the steps alone, so a repeated call orders them the same way.
 */
function uninstallOrder(steps: InstallStep[], definitions: InstallStepDefinition[]): InstallStep[] {
  const rank = new Map(definitions.map((definition, index) => [definition.installerFunction, index]));
  const rankOf = (step: InstallStep) => rank.get(step.installerFunction ?? "") ?? -1;
  return steps
    .map((step, index) => ({ step, index }))
    .sort((a, b) => rankOf(b.step) - rankOf(a.step) || a.index - b.index)
    .map(({ step }) => ({ ...step, completed: false }));
}

/**
 * `preUninstallFunction`: the install is marked `uninstalling`, and the steps are put pending in
 * the order their uninstallers run, so that integrator.io runs them last-made first.
 */
export const preUninstallFunction: ExtensionFunction = async (options, context) => {
  const integrationId = requireIntegrationId(options);
  const integration = await context.integrator.integrations.get(integrationId);
  const steps = uninstallOrder(integration.install ?? [], context.definition.installSteps ?? []);
  await context.integrator.integrations.update(integrationId, { ...writable(integration), install: steps });
  await infrastructure("Recording the uninstall", () =>
    context.installs.update(integrationId, { state: "uninstalling" }, "removed"),
  );
  return { success: true };
};

/** A step's uninstaller (`type: "uninstaller"`): the step's own cleanup, then the step is done. */
export function stepUninstaller(definition: InstallStepDefinition): ExtensionFunction {
  return async (options, context) => {
    const integrationId = requireIntegrationId(options);
    const integration = await context.integrator.integrations.get(integrationId);
    const step = (integration.install ?? []).find(
      (s) => s.installerFunction === definition.installerFunction,
    ) ?? {
      name: definition.name,
      installerFunction: definition.installerFunction,
    };
    await definition.uninstall?.(options, { ...context, step, integration });
    return { success: true, stepsToUpdate: [{ ...step, completed: true }] };
  };
}

/** `uninstallerFunction`: the last call before integrator.io deletes the integration; the install is marked removed. */
export const uninstallerFunction: ExtensionFunction = async (options, context) => {
  const integrationId = requireIntegrationId(options);
  await transition(context, integrationId, "removed", "install.removed", {
    removedAt: context.now().toISOString(),
  });
  return { success: true };
};
