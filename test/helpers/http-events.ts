import type { Context } from "aws-lambda";
import type { HttpEvent } from "#lib/http/types.ts";
import { toApiGatewayEvent } from "#local/gateway.ts";

/** An API Gateway v2 event as the gateway builds it, for calling a handler directly. */
export function httpEvent(
  routeKey: string,
  init: {
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    pathParameters?: Record<string, string>;
  } = {},
): HttpEvent {
  const [method = "GET", template = "/"] =
    routeKey === "$default" ? ["GET", init.path ?? "/"] : routeKey.split(" ");
  const body = typeof init.body === "string" ? Buffer.from(init.body) : (init.body ?? Buffer.alloc(0));
  return toApiGatewayEvent(
    { method, url: init.path ?? template, headers: init.headers ?? {}, body },
    { routeKey, ...(init.pathParameters ? { pathParameters: init.pathParameters } : {}) },
  );
}

export const lambdaContext = {
  awsRequestId: "test-request",
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;
