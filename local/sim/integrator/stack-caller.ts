import { SimError } from "./errors.ts";
import type { Faults } from "./faults.ts";
import { isObject, type JsonObject } from "./json.ts";
import type { OneTimeTokens } from "./one-time-tokens.ts";
import type { Integration, SimStore, Stack } from "./store.ts";
import { licenseView } from "./views.ts";

/** What integrator.io tells the stack it may answer at most (the framework's default). */
export const MAX_RESPONSE_SIZE = 5 * 1024 * 1024;
/** Celigo's own server waits up to 300 s for an extension function. */
const STACK_TIMEOUT_MS = 300_000;

/**
 * How integrator.io calls this connector's stack (`stackDialect` on `POST /_sim/connectors`):
 * - `typed` (the default, the documented "1.0" layout): every call has a `type` — the
 *   connector's installer, update and the install steps `installer`; its pre-uninstall, the
 *   steps' uninstallers and its uninstaller `uninstaller`; settings `setting` — and the options
 *   are only `bearerToken`, `_integrationId`, `opts` (the license's) and, for the connector's
 *   installer, `_connectorId`. No `license`: the stack finds it from the integration.
 * - `flat` (the newer framework): the connector's own functions and the install steps come
 *   without `type` (steps' uninstallers as `uninstaller`, settings as `setting`), and the options
 *   also carry `_connectorId` and `license` (as the license API answers it).
 */
export type StackDialect = "typed" | "flat";
export const STACK_DIALECTS = ["typed", "flat"] as const;

/** Which of integrator.io's calls this is. */
export type CallRole =
  | "installer"
  | "update"
  | "step"
  | "preUninstall"
  | "stepUninstaller"
  | "uninstaller"
  | "setting";

const TYPED: Record<CallRole, "installer" | "uninstaller" | "setting"> = {
  installer: "installer",
  update: "installer",
  step: "installer",
  preUninstall: "uninstaller",
  stepUninstaller: "uninstaller",
  uninstaller: "uninstaller",
  setting: "setting",
};
const FLAT: Partial<Record<CallRole, "uninstaller" | "setting">> = {
  stepUninstaller: "uninstaller",
  setting: "setting",
};

/** The dialect a connector's stack is called in. */
export const dialectOf = (connector: JsonObject): StackDialect =>
  connector.stackDialect === "flat" ? "flat" : "typed";

export interface StackCall {
  connector: JsonObject;
  role: CallRole;
  function: string;
  integration: Integration;
  /** Options besides the ones every call carries (`pending`, `fromEdition`, ...). */
  extraOptions?: JsonObject;
}

/**
 * integrator.io's side of the extension protocol: `POST {hostURI}/function` on the connector's
 * server stack with its system token, a fresh one-time token in `options.bearerToken` (revoked as
 * soon as the stack answers), in the connector's dialect. A non-2xx answer fails the action with
 * 422 and the stack's errors.
 */
export class StackCaller {
  constructor(
    private readonly deps: {
      store: SimStore;
      oneTimeTokens: OneTimeTokens;
      signal: AbortSignal;
      faults: () => Faults;
    },
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
    const dialect = dialectOf(call.connector);
    const options: JsonObject = {
      ...call.extraOptions,
      bearerToken,
      _integrationId: integrationId,
      opts: license ? structuredClone(license.opts) : {},
    };
    if (dialect === "flat" || call.role === "installer") options._connectorId = connectorId;
    if (dialect === "flat" && license) options.license = licenseView(license, store);
    const type = dialect === "typed" ? TYPED[call.role] : FLAT[call.role];
    const body: JsonObject = {
      _connectorId: connectorId,
      ...(type ? { type } : {}),
      function: call.function,
      options,
      maxResponseSize: MAX_RESPONSE_SIZE,
    };
    try {
      // integrator.io retrying after a lost answer (`repeatStackCalls`): the same call again, the
      // second answer counts.
      if (this.deps.faults().repeatStackCalls)
        await this.send(stack, body, call.function).catch(() => undefined);
      return { called: true, result: await this.send(stack, body, call.function) };
    } finally {
      oneTimeTokens.revoke(bearerToken);
    }
  }

  /** One `POST {hostURI}/function`: the stack's result, or a 422 `SimError` saying why there is none. */
  private async send(stack: Stack, body: JsonObject, fn: string): Promise<unknown> {
    try {
      const response = await fetch(`${stack.server.hostURI.replace(/\/+$/, "")}/function`, {
        method: "POST",
        headers: { authorization: `Bearer ${stack.server.systemToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.any([this.deps.signal, AbortSignal.timeout(STACK_TIMEOUT_MS)]),
      });
      const text = await response.text();
      if (!response.ok) throw new SimError(422, stackErrors(response.status, text, fn));
      if (Buffer.byteLength(text, "utf8") > MAX_RESPONSE_SIZE) {
        throw new SimError(422, [
          { code: "response_size_exceeded", message: `${fn} answered more than ${MAX_RESPONSE_SIZE} bytes.` },
        ]);
      }
      return parseResult(text, fn);
    } catch (error) {
      if (error instanceof SimError) throw error;
      const reason =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      throw new SimError(422, [
        { code: "stack_unreachable", message: `Calling ${fn} on the stack failed: ${reason}` },
      ]);
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
