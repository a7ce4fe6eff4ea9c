import type { Context } from "aws-lambda";
import type { HttpEvent } from "#lib/http/types.ts";
import { type DispatchDeps, type DispatchOptions, dispatchExtensionCall } from "./dispatch.ts";
import type { ProtocolError } from "./errors.ts";
import { parseLambdaCall } from "./protocol.ts";

/**
 * A Lambda stack's failure: integrator.io reads the handled function error's message as the JSON
 * `{"statusCode":422,"errors":[...]}`.
 */
export class LambdaStackError extends Error {
  override name = "LambdaStackError";
  readonly errors: ProtocolError[];
  constructor(errors: ProtocolError[]) {
    super(JSON.stringify({ statusCode: 422, errors }));
    this.errors = errors;
  }
}

/** An API Gateway HTTP API event (the HTTP stack), as opposed to integrator.io invoking the function directly. */
export function isHttpApiEvent(event: unknown): event is HttpEvent {
  if (typeof event !== "object" || event === null) return false;
  const { requestContext, routeKey } = event as { requestContext?: { http?: unknown }; routeKey?: unknown };
  return (
    typeof routeKey === "string" && typeof requestContext?.http === "object" && requestContext.http !== null
  );
}

/**
 * integrator.io's `lambda:InvokeFunction` (the Lambda stack): the payload is the options, the
 * envelope is in `context.clientContext`. Answers the function's result, or throws `LambdaStackError`.
 */
export async function invokeFromLambda(
  payload: unknown,
  context: Pick<Context, "clientContext">,
  deps: DispatchDeps,
  options: DispatchOptions = {},
): Promise<unknown> {
  const parsed = parseLambdaCall(payload, context.clientContext);
  const outcome =
    "errors" in parsed
      ? { ok: false as const, errors: parsed.errors }
      : await dispatchExtensionCall(parsed.call, deps, options);
  if (!outcome.ok) throw new LambdaStackError(outcome.errors);
  return outcome.result;
}
