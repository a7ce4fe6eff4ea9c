import { IntegratorError } from "#lib/integrator/errors.ts";

/** One entry of the protocol's error body `{"errors":[{code, message}]}` (docs/architecture.md §3). */
export interface ProtocolError {
  code: string;
  message: string;
}

/**
 * A refusal an extension function answers with: integrator.io gets a 422 with this `code` and
 * `message`. Vendor functions may throw it too (or any error with a `code`).
 *
 * @example throw new ExtensionError("license_expired", "The license expired on 2026-01-31.");
 */
export class ExtensionError extends Error {
  override name = "ExtensionError";
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** The framework's own codes (Celigo's integrator-extension uses the same). */
export const frameworkErrors = {
  missingField: (field: string): ProtocolError => ({
    code: "missing_required_field",
    message: `Missing required field ${field}.`,
  }),
  invalidField: (field: string, why: string): ProtocolError => ({
    code: "invalid_field",
    message: `Invalid field ${field}: ${why}`,
  }),
  invalidFunction: (name: string, where: string): ProtocolError => ({
    code: "invalid_function",
    message: `The function ${name} doesn't map to a function of ${where}.`,
  }),
  objectNotFound: (type: string): ProtocolError => ({
    code: "object_not_found",
    message: `The object for type ${type} doesn't exist in the connector's module.`,
  }),
  notSerializable: (): ProtocolError => ({
    code: "invalid_extension_response",
    message: "Extension response is not serializable.",
  }),
  timedOut: (name: string, seconds: number): ProtocolError => ({
    code: "timeout",
    message: `The function ${name} did not finish within ${seconds} s, before the stack's time limit; it was stopped without an answer. Try again.`,
  }),
  tooLarge: (limit: number): ProtocolError => ({
    code: "response_size_exceeded",
    message: `response stream exceeded limit of ${limit} bytes.`,
  }),
};

const MASK = "******";

/**
 * What integrator.io is told about a failed function: `err.code || err.name` and the message, as
 * the protocol says, with every given secret (the one-time token) masked out of the message.
 * An integrator.io error gives its own first code (`unauthorized` for a rejected token).
 */
export function protocolErrorOf(error: unknown, secrets: (string | undefined)[] = []): ProtocolError {
  let code = "Error";
  let message = String(error);
  if (error instanceof IntegratorError) {
    code = error.codes[0] ?? error.name;
    message = error.message;
  } else if (error instanceof Error) {
    const own = (error as Error & { code?: unknown }).code;
    code = typeof own === "string" && own !== "" ? own : error.name;
    message = error.message;
  }
  // Masking a token of a few characters would garble the message and hide nothing.
  for (const secret of secrets) if (secret && secret.length >= 8) message = message.split(secret).join(MASK);
  return { code, message };
}

/**
 * Runs a call to our own infrastructure (the store, the event bus) so that its failure reaches
 * integrator.io as a 422 with a stable code and no internals; the cause stays on the error.
 */
export async function infrastructure<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new ExtensionError("store_unavailable", `${what} failed; try again.`, { cause: error });
  }
}
