import { infrastructure } from "../errors.ts";
import { requireString } from "../options.ts";
import type { ExtensionFunction, InstallStepDefinition } from "../types.ts";
import { transition, writable } from "./lifecycle.ts";

/**
 * `preUninstallFunction`: the install is marked `uninstalling`, and the steps are put in reverse
 * order and pending, so that integrator.io runs their uninstallers last-made first (flows before
 * the connections they use).
 */
export const preUninstallFunction: ExtensionFunction = async (options, context) => {
  const integrationId = requireString(options, "_integrationId");
  const integration = await context.integrator.integrations.get(integrationId);
  const steps = [...(integration.install ?? [])].reverse().map((step) => ({ ...step, completed: false }));
  await context.integrator.integrations.update(integrationId, { ...writable(integration), install: steps });
  await infrastructure("Recording the uninstall", () =>
    context.installs.update(integrationId, { state: "uninstalling" }, "removed"),
  );
  return { success: true };
};

/** A step's uninstaller (`type: "uninstaller"`): the step's own cleanup, then the step is done. */
export function stepUninstaller(definition: InstallStepDefinition): ExtensionFunction {
  return async (options, context) => {
    const integrationId = requireString(options, "_integrationId");
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
  const integrationId = requireString(options, "_integrationId");
  await transition(context, integrationId, "removed", "install.removed", {
    removedAt: context.now().toISOString(),
  });
  return { success: true };
};
