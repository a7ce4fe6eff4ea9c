import { IDENTIFIER_RULE, isIdentifier } from "#lib/identifiers.ts";
import { ExtensionError } from "./errors.ts";
import type { ExtensionOptions } from "./types.ts";

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `options[field]` as a non-empty string, or a 422 `missing_required_field` / `invalid_field`. */
export function requireString(options: ExtensionOptions, field: string): string {
  const value = options[field];
  if (value === undefined || value === null || value === "") {
    throw new ExtensionError("missing_required_field", `Missing required field options.${field}.`);
  }
  if (typeof value !== "string")
    throw new ExtensionError("invalid_field", `options.${field} must be a string.`);
  return value;
}

/** `options[field]` as a string when given. */
export function optionalString(options: ExtensionOptions, field: string): string | undefined {
  const value = options[field];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string")
    throw new ExtensionError("invalid_field", `options.${field} must be a string.`);
  return value;
}

/** `options[field]` as a JSON object, or a 422. */
export function requireObject(options: ExtensionOptions, field: string): Record<string, unknown> {
  const value = options[field];
  if (value === undefined || value === null) {
    throw new ExtensionError("missing_required_field", `Missing required field options.${field}.`);
  }
  if (!isObject(value)) throw new ExtensionError("invalid_field", `options.${field} must be an object.`);
  return value;
}

/**
 * `value` as an id from integrator.io (24 hex characters), or a 422 `invalid_field` naming
 * `field`: anything that is not an identifier (lib/identifiers.ts) never reaches a store key.
 */
export function checkId(value: string, field: string): string {
  if (!isIdentifier(value)) throw new ExtensionError("invalid_field", `${field} ${IDENTIFIER_RULE}.`);
  return value;
}

/** `options._integrationId`, the integration a call is about. */
export const requireIntegrationId = (options: ExtensionOptions): string =>
  checkId(requireString(options, "_integrationId"), "options._integrationId");

export { isObject };
