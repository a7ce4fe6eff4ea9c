import type { z } from "zod/mini";
import { ExtensionError, infrastructure } from "../errors.ts";
import { assertLive, licenseOfCall } from "../license-check.ts";
import { checkId, isObject, optionalString, requireObject } from "../options.ts";
import type { ExtensionFunction, ExtensionOptions } from "../types.ts";

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

/** `getMappingMetadata`: the module's, else `{}`. */
export const getMappingMetadata: ExtensionFunction = (options, context) =>
  context.definition.getMappingMetadata ? context.definition.getMappingMetadata(options, context) : {};

/** `options[field]` when given, else `options[object][field]` (the newer framework nests them). */
function stringOf(
  options: ExtensionOptions,
  field: string,
  object: string,
  nested: string,
): string | undefined {
  const direct = optionalString(options, field);
  if (direct !== undefined) return direct;
  const holder = options[object];
  const value = isObject(holder) ? holder[nested] : undefined;
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string")
    throw new ExtensionError("invalid_field", `options.${object}.${nested} must be a string.`);
  return value;
}

/**
 * `changeEdition`: only to the edition the customer's license grants (our store's license
 * `opts.connectorEdition`; integrator.io's for a license we did not issue), then the module's
 * `onEditionChange`, then the install record takes the edition. integrator.io's two dialects send
 * it differently: `{_integrationId, opts}` (the edition is the license's `opts.connectorEdition`)
 * or `{fromEdition, toEdition, integration, license}`; either is read.
 */
export const changeEdition: ExtensionFunction = async (options, context) => {
  const integrationId = stringOf(options, "_integrationId", "integration", "_id");
  if (!integrationId)
    throw new ExtensionError("missing_required_field", "Missing required field options._integrationId.");
  checkId(integrationId, "options._integrationId");
  const toEdition = stringOf(options, "toEdition", "opts", "connectorEdition");
  if (!toEdition)
    throw new ExtensionError("missing_required_field", "Missing required field options.toEdition.");
  const fromEdition = optionalString(options, "fromEdition");
  if (!context.connector.editions.some((edition) => edition.key === toEdition)) {
    throw new ExtensionError(
      "invalid_field",
      `options.toEdition: ${toEdition} is not an edition of ${context.connector.key}.`,
    );
  }
  const license = await licenseOfCall(options, context, integrationId);
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
