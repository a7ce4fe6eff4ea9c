import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { Principal } from "../access/roles.ts";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
export type ErrorFormat = "api" | "integrator";
/** `stripe`: the handler verifies the signature itself on the raw body. */
export type AuthKind = "public" | "admin" | "system" | "stripe";

/** What a route handler gets once the shared stack has authenticated, parsed and validated. */
export interface RouteInput<Body = unknown, Query = Record<string, string>, Params = Record<string, string>> {
  body: Body;
  query: Query;
  params: Params;
  headers: Record<string, string>;
  /** The request body as received (base64 already decoded). */
  rawBody: string;
  requestId: string;
  event: HttpEvent;
  /** Who an `admin` route's request acts as (root or a named operator). */
  principal?: Principal;
}

/** What a route handler answers; the shared stack serializes it. */
export interface RouteOutput {
  status?: number;
  /** JSON, unless `contentType` is set: then the text as it is (the console's page and assets). */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** `Set-Cookie` values (API Gateway payload 2.0 `cookies`). */
  cookies?: string[];
}
