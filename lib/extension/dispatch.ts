import { isIdentifier } from "#lib/identifiers.ts";
import { ExtensionError, frameworkErrors, type ProtocolError, protocolErrorOf } from "./errors.ts";
import type { ExtensionCall } from "./protocol.ts";
import type { ExtensionRegistry } from "./registry.ts";
import type { ExtensionServices, FunctionContext, FunctionType } from "./types.ts";

export type ExtensionOutcome = { ok: true; result: unknown } | { ok: false; errors: ProtocolError[] };

export interface DispatchDeps {
  registry: ExtensionRegistry;
  services: ExtensionServices;
}

export interface DispatchOptions {
  /**
   * When the call must have answered (epoch ms): the invocation's end less a margin to send the
   * answer. A function still running then answers a 422 `timeout`, not API Gateway's 503 or a
   * Lambda timeout, and its `context.signal` is aborted.
   */
  deadline?: number;
}

/** Time kept from the invocation's remaining time to answer a call that ran out of it. */
export const ANSWER_MARGIN_MS = 1000;

/** The deadline of a call in an invocation with `remainingMs` left. */
export function deadlineFrom(remainingMs: number, now = Date.now()): number {
  return now + Math.max(0, remainingMs - ANSWER_MARGIN_MS);
}

const failure = (...errors: ProtocolError[]): ExtensionOutcome => ({ ok: false, errors });

/** The result as integrator.io will get it, or why it cannot be sent (not JSON, over `maxResponseSize`). */
function checkResult(result: unknown, maxResponseSize: number): ExtensionOutcome {
  let serialized: string | undefined;
  try {
    serialized = JSON.stringify(result ?? null);
  } catch {
    return failure(frameworkErrors.notSerializable());
  }
  if (serialized === undefined) return failure(frameworkErrors.notSerializable());
  if (Buffer.byteLength(serialized, "utf8") > maxResponseSize)
    return failure(frameworkErrors.tooLarge(maxResponseSize));
  return { ok: true, result: result ?? null };
}

/**
 * Runs one extension call: the connector by `_connectorId` (`invalid_field`), the object by
 * `type` (`object_not_found`), the function by name in either dialect (`invalid_function`; see
 * `ExtensionRegistry.resolve`), then the function with its context. Whatever the function
 * throws becomes a 422 `{code: err.code || err.name, message}` with the one-time token masked;
 * nothing here ever answers 5xx. Options are never logged.
 */
export async function dispatchExtensionCall(
  call: ExtensionCall,
  deps: DispatchDeps,
  options: DispatchOptions = {},
): Promise<ExtensionOutcome> {
  const registered = deps.registry.connector(call.connectorId);
  if (!registered) {
    return failure(
      frameworkErrors.invalidField("_connectorId", `${call.connectorId} is not a connector of this stack.`),
    );
  }
  const resolved = deps.registry.resolve(registered, call.type, call.function);
  if ("missing" in resolved) {
    return failure(
      resolved.missing === "object"
        ? frameworkErrors.objectNotFound(call.type ?? "(none)")
        : frameworkErrors.invalidFunction(call.function, resolved.where),
    );
  }
  const { fn } = resolved;

  const token = typeof call.options.bearerToken === "string" ? call.options.bearerToken : undefined;
  // Only an id goes into every line of the call (an unchecked one is refused by the function).
  const integrationId = isIdentifier(call.options._integrationId) ? call.options._integrationId : undefined;
  // Every line of this call, the function's own included, names the integration it is about.
  const logger = deps.services.logger.createChild({
    persistentKeys: {
      connectorId: call.connectorId,
      function: call.function,
      ...(call.type ? { type: call.type } : {}),
      ...(integrationId ? { integrationId } : {}),
    },
  });
  const abort = new AbortController();
  const context: FunctionContext = {
    ...deps.services,
    signal: abort.signal,
    logger,
    connector: registered.connector,
    definition: registered.definition,
    call: { type: call.type as FunctionType | undefined, function: call.function },
    integrator: deps.services.vendor.forToken(token ?? ""),
  };
  logger.info("extension function called");
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const running = Promise.resolve().then(() => fn(call.options, context));
    const result =
      options.deadline === undefined
        ? await running
        : await Promise.race([
            running,
            new Promise<typeof TIMED_OUT>((resolve) => {
              timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, (options.deadline ?? 0) - started));
            }),
          ]);
    if (result === TIMED_OUT) {
      abort.abort(new Error("the extension call ran out of time"));
      // Its eventual failure has no one to answer: logged, never unhandled.
      running.catch((error: unknown) =>
        logger.warn("extension function failed after its timeout", {
          reason: protocolErrorOf(error, [token]).message,
        }),
      );
      const error = frameworkErrors.timedOut(call.function, Math.round((Date.now() - started) / 1000));
      logger.warn("extension function ran out of time", {
        code: error.code,
        elapsedMs: Date.now() - started,
      });
      return failure(error);
    }
    const outcome = checkResult(result, call.maxResponseSize);
    if (!outcome.ok) logger.warn("extension function answered badly", { errors: outcome.errors });
    return outcome;
  } catch (error) {
    const refusal = protocolErrorOf(error, [token]);
    const cause =
      error instanceof Error && error.cause !== undefined ? protocolErrorOf(error.cause, [token]) : undefined;
    // `message` is a reserved key of the logger: the refusal's goes as `reason`.
    const logged = { code: refusal.code, reason: refusal.message };
    if (error instanceof ExtensionError && !cause) logger.info("extension function refused", logged);
    else logger.warn("extension function failed", { ...logged, ...(cause ? { cause } : {}) });
    return failure(refusal);
  } finally {
    clearTimeout(timer);
  }
}

const TIMED_OUT = Symbol("timed out");
