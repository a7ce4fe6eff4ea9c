import { SimError } from "./errors.ts";
import { isObject, type JsonObject } from "./json.ts";
import type { OneTimeTokens } from "./one-time-tokens.ts";
import type { Integration, SimStore } from "./store.ts";
import { licenseView } from "./views.ts";

/** What integrator.io tells the stack it may answer at most (the framework's default). */
export const MAX_RESPONSE_SIZE = 5 * 1024 * 1024;
/** Celigo's own server waits up to 300 s for an extension function. */
const STACK_TIMEOUT_MS = 300_000;

export type FunctionType = "installer" | "uninstaller" | "setting";

export interface StackCall {
  connector: JsonObject;
  /** Absent for the connector-level functions (installer, uninstaller, pre-uninstall, update). */
  type?: FunctionType;
  function: string;
  integration: Integration;
  /** Options besides the ones every call carries (`pending`, `fromEdition`, ...). */
  extraOptions?: JsonObject;
}

/**
 * integrator.io's side of the extension protocol: `POST {hostURI}/function` on the connector's
 * server stack with its system token, a fresh one-time token in `options.bearerToken` (revoked as
 * soon as the stack answers), and the license. A non-2xx answer fails the action with 422 and the
 * stack's errors.
 */
export class StackCaller {
  constructor(
    private readonly deps: { store: SimStore; oneTimeTokens: OneTimeTokens; signal: AbortSignal },
  ) {}

  /** The connector's stack, if it has one; `invalid_ref` (422) when `_stackId` names none. */
  hasStack(connector: JsonObject): boolean {
    const stackId = connector._stackId;
    if (stackId === undefined || stackId === null || stackId === "") return false;
    if (typeof stackId !== "string" || !this.deps.store.stacks.has(stackId)) {
      throw new SimError(422, [
        {
          code: "invalid_ref",
          message: `The connector's stack ${String(stackId)} does not exist.`,
          field: "_stackId",
        },
      ]);
    }
    return true;
  }

  /** Calls the function; `{ called: false }` when the connector has no stack. */
  async call(call: StackCall): Promise<{ called: false } | { called: true; result: unknown }> {
    if (!this.hasStack(call.connector)) return { called: false };
    const { store, oneTimeTokens } = this.deps;
    const stack = store.stacks.get(String(call.connector._stackId));
    if (!stack) return { called: false };
    const connectorId = String(call.connector._id);
    const integrationId = String(call.integration.doc._id);
    const license = store.findLicense(call.integration.licenseId);
    const bearerToken = oneTimeTokens.issue({
      connectorId,
      integrationId,
      accountId: call.integration.owner,
    });
    const options: JsonObject = {
      ...call.extraOptions,
      bearerToken,
      _integrationId: integrationId,
      _connectorId: connectorId,
      opts: license ? structuredClone(license.opts) : {},
    };
    if (license) options.license = licenseView(license, store);
    const body: JsonObject = {
      _connectorId: connectorId,
      function: call.function,
      options,
      maxResponseSize: MAX_RESPONSE_SIZE,
    };
    if (call.type !== undefined) body.type = call.type;
    try {
      const response = await fetch(`${stack.server.hostURI.replace(/\/+$/, "")}/function`, {
        method: "POST",
        headers: { authorization: `Bearer ${stack.server.systemToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.any([this.deps.signal, AbortSignal.timeout(STACK_TIMEOUT_MS)]),
      });
      const text = await response.text();
      if (!response.ok) throw new SimError(422, stackErrors(response.status, text, call.function));
      if (Buffer.byteLength(text, "utf8") > MAX_RESPONSE_SIZE) {
        throw new SimError(422, [
          {
            code: "response_size_exceeded",
            message: `${call.function} answered more than ${MAX_RESPONSE_SIZE} bytes.`,
          },
        ]);
      }
      return { called: true, result: parseResult(text, call.function) };
    } catch (error) {
      if (error instanceof SimError) throw error;
      const reason =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      throw new SimError(422, [
        { code: "stack_unreachable", message: `Calling ${call.function} on the stack failed: ${reason}` },
      ]);
    } finally {
      oneTimeTokens.revoke(bearerToken);
    }
  }
}

function parseResult(text: string, fn: string): unknown {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new SimError(422, [{ code: "invalid_extension_response", message: `${fn} did not answer JSON.` }]);
  }
}

/** The stack's own `{"errors":[...]}` when it sent one, else one error naming the status. */
function stackErrors(status: number, text: string, fn: string) {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed) && Array.isArray(parsed.errors)) {
      const errors = parsed.errors.filter(isObject).map((error) => ({
        code: typeof error.code === "string" ? error.code : "stack_error",
        message: typeof error.message === "string" ? error.message : `${fn} failed.`,
      }));
      if (errors.length > 0) return errors;
    }
  } catch {
    // not JSON: fall through to the generic error
  }
  return [{ code: "stack_error", message: `${fn} failed: the stack answered HTTP ${status}.` }];
}
