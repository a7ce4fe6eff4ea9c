import type { z } from "zod/mini";
import { ExtensionError, infrastructure } from "../errors.ts";
import { assertLive, findLicense } from "../license-check.ts";
import { licenseIdOf, optionalString, requireObject, requireString } from "../options.ts";
import type { ExtensionFunction } from "../types.ts";

/** One readable line per zod issue (zod/mini ships no messages), e.g. `pending.syncInventory: must be a boolean`. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const path = ["pending", ...issue.path.map(String)].join(".");
  switch (issue.code) {
    case "invalid_type":
      return `${path}: must be a ${issue.expected}`;
    case "invalid_value":
      return `${path}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "unrecognized_keys":
      return `${path}: unknown setting(s) ${issue.keys.join(", ")}`;
    case "too_small":
      return `${path}: must be at least ${String(issue.minimum)}`;
    case "too_big":
      return `${path}: must be at most ${String(issue.maximum)}`;
    default:
      return `${path}: ${issue.message}`;
  }
}

/** `persistSettings`: validates `pending` with the module's schema and answers `{success, pending}` (what integrator.io saves). */
export const persistSettings: ExtensionFunction = async (options, context) => {
  const pending = requireObject(options, "pending");
  const schema = context.definition.settingsSchema;
  if (!schema) return { success: true, pending };
  const parsed = schema.safeParse(pending);
  if (!parsed.success) {
    throw new ExtensionError("invalid_field", parsed.error.issues.map(describeIssue).join("; "));
  }
  return { success: true, pending: parsed.data };
};

/** `refreshMetadata`: the module's, else `{success: true}`. */
export const refreshMetadata: ExtensionFunction = (options, context) =>
  context.definition.refreshMetadata
    ? context.definition.refreshMetadata(options, context)
    : { success: true };

/**
 * `changeEdition`: only to the edition the customer's license grants (our store's license
 * `opts.connectorEdition`; integrator.io's for a license we did not issue), then the module's
 * `onEditionChange`, then the install record takes the edition.
 */
export const changeEdition: ExtensionFunction = async (options, context) => {
  const integrationId = requireString(options, "_integrationId");
  const toEdition = requireString(options, "toEdition");
  const fromEdition = optionalString(options, "fromEdition");
  if (!context.connector.editions.some((edition) => edition.key === toEdition)) {
    throw new ExtensionError(
      "invalid_field",
      `options.toEdition: ${toEdition} is not an edition of ${context.connector.key}.`,
    );
  }
  const license = await findLicense(licenseIdOf(options), context);
  assertLive(license, context.now());
  if (license.edition !== toEdition) {
    throw new ExtensionError(
      "edition_not_licensed",
      `License ${license.licenseId} grants the ${license.edition ?? "(none)"} edition, not ${toEdition}.`,
    );
  }
  await context.definition.onEditionChange?.(options, {
    ...context,
    ...(fromEdition ? { fromEdition } : {}),
    toEdition,
  });
  const record = await infrastructure("Recording the edition", () =>
    context.installs.update(integrationId, { edition: toEdition }),
  );
  if (!record)
    context.logger.warn("edition change of an integration with no install record", { integrationId });
  return { success: true, edition: toEdition };
};
