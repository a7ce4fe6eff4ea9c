import { isObject, type JsonObject } from "./json.ts";
import type { Integration } from "./store.ts";

/** The integration's `install[]` steps (objects only). */
export function stepsOf(integration: Integration): JsonObject[] {
  const steps = integration.doc.install;
  return Array.isArray(steps) ? steps.filter(isObject) : [];
}

const sameStep = (a: JsonObject, b: JsonObject) =>
  typeof b.installerFunction === "string" ? a.installerFunction === b.installerFunction : a.name === b.name;

/**
 * Applies an installer's `{success, stepsToUpdate}` to `install[]`: each step given replaces the
 * fields of the step with the same `installerFunction` (else `name`); a step not there is appended.
 * Answers whether the result carried `stepsToUpdate`.
 */
export function applyStepsToUpdate(integration: Integration, result: unknown): boolean {
  if (!isObject(result) || !Array.isArray(result.stepsToUpdate)) return false;
  const steps = stepsOf(integration);
  for (const update of result.stepsToUpdate.filter(isObject)) {
    const index = steps.findIndex((step) => sameStep(step, update));
    if (index >= 0) steps[index] = { ...steps[index], ...update };
    else steps.push({ ...update });
  }
  integration.doc.install = steps;
  return true;
}

/** An install whose steps are all completed (or that has none) moves on to `settings`. */
export function settleMode(integration: Integration): void {
  if (integration.doc.mode !== "install") return;
  if (stepsOf(integration).every((step) => step.completed === true)) integration.doc.mode = "settings";
}
