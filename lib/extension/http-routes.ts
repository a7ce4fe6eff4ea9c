import type { RouteHandler } from "#lib/http/http-function.ts";
import { type DispatchDeps, type DispatchOptions, dispatchExtensionCall } from "./dispatch.ts";
import { parseHttpCall } from "./protocol.ts";

/**
 * The HTTP server stack's routes. Auth (system token, 401 `invalid system token`), the 6 MB body
 * limit and malformed JSON are answered before these run, in integrator.io's error format.
 */
export function extensionRoutes(
  deps: DispatchDeps,
  /** The current invocation's dispatch options (its deadline), read per request. */
  optionsOf: () => DispatchOptions = () => ({}),
): Record<string, RouteHandler> {
  return {
    "POST /integrator/function": async ({ body }) => {
      const parsed = parseHttpCall(body);
      const outcome =
        "errors" in parsed
          ? { ok: false as const, errors: parsed.errors }
          : await dispatchExtensionCall(parsed.call, deps, optionsOf());
      return outcome.ok
        ? { status: 200, body: outcome.result }
        : { status: 422, body: { errors: outcome.errors } };
    },
    "GET /integrator/healthCheck": async () => ({ status: 200, body: { success: true } }),
  };
}
