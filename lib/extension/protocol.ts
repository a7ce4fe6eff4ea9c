import { frameworkErrors, type ProtocolError } from "./errors.ts";
import { isObject } from "./options.ts";
import type { ExtensionOptions } from "./types.ts";

/** What integrator.io allows a function to answer unless the call says otherwise (5 MiB). */
export const DEFAULT_MAX_RESPONSE_SIZE = 5 * 1024 * 1024;

/** One call of the extension protocol, however it arrived (HTTP body, or Lambda payload + ClientContext). */
export interface ExtensionCall {
  connectorId: string;
  /** Absent: the connector module's own function. Unknown types resolve to `object_not_found`. */
  type: string | undefined;
  function: string;
  options: ExtensionOptions;
  maxResponseSize: number;
}

export type ParsedCall = { call: ExtensionCall } | { errors: ProtocolError[] };

/**
 * Validates the call's envelope, reporting every problem at once with the framework's codes
 * (`missing_required_field`, `invalid_field`), as Celigo's integrator-extension does.
 */
function parseEnvelope(envelope: Record<string, unknown>, options: unknown): ParsedCall {
  const errors: ProtocolError[] = [];
  const { _connectorId: connectorId, type, function: fn, maxResponseSize } = envelope;
  if (connectorId === undefined || connectorId === null || connectorId === "")
    errors.push(frameworkErrors.missingField("_connectorId"));
  else if (typeof connectorId !== "string")
    errors.push(frameworkErrors.invalidField("_connectorId", "must be a string."));
  if (fn === undefined || fn === null || fn === "") errors.push(frameworkErrors.missingField("function"));
  else if (typeof fn !== "string") errors.push(frameworkErrors.invalidField("function", "must be a string."));
  if (type !== undefined && type !== null && typeof type !== "string")
    errors.push(frameworkErrors.invalidField("type", "must be a string."));
  if (options === undefined || options === null) errors.push(frameworkErrors.missingField("options"));
  else if (!isObject(options)) errors.push(frameworkErrors.invalidField("options", "must be an object."));
  const sizeGiven = maxResponseSize !== undefined && maxResponseSize !== null;
  if (
    sizeGiven &&
    !(typeof maxResponseSize === "number" && Number.isInteger(maxResponseSize) && maxResponseSize > 0)
  ) {
    errors.push(frameworkErrors.invalidField("maxResponseSize", "must be a positive whole number of bytes."));
  }
  if (errors.length > 0) return { errors };
  return {
    call: {
      connectorId: connectorId as string,
      type: typeof type === "string" && type !== "" ? type : undefined,
      function: fn as string,
      options: options as ExtensionOptions,
      maxResponseSize: sizeGiven ? (maxResponseSize as number) : DEFAULT_MAX_RESPONSE_SIZE,
    },
  };
}

/** An HTTP stack call: the body is `{_connectorId, type?, function, options, maxResponseSize?}`. */
export function parseHttpCall(body: unknown): ParsedCall {
  if (!isObject(body)) return parseEnvelope({}, undefined);
  return parseEnvelope(body, body.options);
}

/**
 * The fields integrator.io put in a Lambda invoke's `ClientContext` (`{_connectorId, type,
 * function}`). Lambda's Node runtime hands `context.clientContext` over already decoded; the fields
 * may sit at its top level or under `Custom` / `custom` (the AWS SDK's mobile shape), and a raw
 * base64 or JSON string is decoded here too.
 */
export function clientContextFields(raw: unknown): Record<string, unknown> {
  let value = raw;
  if (typeof value === "string") value = decodeString(value);
  if (!isObject(value)) return {};
  const hasFields = (candidate: Record<string, unknown>) =>
    "function" in candidate || "_connectorId" in candidate;
  if (hasFields(value)) return value;
  for (const nested of [value.Custom, value.custom]) if (isObject(nested) && hasFields(nested)) return nested;
  return value;
}

function decodeString(text: string): unknown {
  for (const candidate of [text, Buffer.from(text, "base64").toString("utf8")]) {
    try {
      return JSON.parse(candidate);
    } catch {
      // try the next reading
    }
  }
  return undefined;
}

/** A Lambda-stack call: the payload is the options, the envelope comes in the ClientContext. */
export function parseLambdaCall(payload: unknown, clientContext: unknown): ParsedCall {
  return parseEnvelope(clientContextFields(clientContext), payload);
}
