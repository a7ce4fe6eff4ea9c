import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Context } from "aws-lambda";
import { jsonResult } from "#lib/http/respond.ts";
import type { HttpEvent, HttpResult } from "#lib/http/types.ts";
import { matchRoute, methodsOf, routes } from "#lib/routes.ts";
import { type AnswerUnrouted, answerClientError, writeRawResult } from "./protocol-errors.ts";

export type HttpLambda = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** Largest body the gateway reads at all (API Gateway's own limit is 10 MB; Lambda's 6 MB). */
const GATEWAY_BODY_LIMIT = 10 * 1024 * 1024;

const TEXT_TYPES = /^(text\/|application\/(json|[\w.+-]+\+json|x-www-form-urlencoded|xml|javascript))/i;

/**
 * A request target as a URL: a path (`/a//b?q`) taken whole, as API Gateway takes it, or an
 * absolute URL; undefined for anything else (`*`, `http://[bad`).
 */
export function targetUrl(target: string): URL | undefined {
  try {
    return target.startsWith("/") ? new URL(`http://localhost${target}`) : new URL(target);
  } catch {
    return undefined;
  }
}

const badTarget = () =>
  jsonResult(400, {
    error: { code: "bad_request", message: "The request target is neither a path nor an absolute URL." },
  });

/**
 * Turns a Node request into the API Gateway HTTP API (payload v2) event the handler would get in
 * AWS, given the matched route template and its path parameters (`routeKey` "$default" when no
 * route matched).
 */
export function toApiGatewayEvent(
  request: {
    method: string;
    url: string;
    headers: IncomingMessage["headers"];
    body: Buffer;
    sourceIp?: string;
  },
  matched: { routeKey: string; pathParameters?: Record<string, string> },
  now = new Date(),
): HttpEvent {
  const url = targetUrl(request.url);
  if (!url) throw new Error(`not a request target: ${request.url}`);
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === "cookie") {
      for (const part of (Array.isArray(value) ? value.join("; ") : value).split(";")) {
        if (part.trim()) cookies.push(part.trim());
      }
      continue;
    }
    headers[lower] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const contentType = headers["content-type"] ?? "";
  const isText = request.body.length === 0 || TEXT_TYPES.test(contentType);
  const requestId = randomUUID();
  const event: HttpEvent = {
    version: "2.0",
    routeKey: matched.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    headers,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: (headers.host ?? "localhost").split(".")[0] ?? "localhost",
      http: {
        method: request.method,
        path: url.pathname,
        protocol: "HTTP/1.1",
        sourceIp: request.sourceIp ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: matched.routeKey,
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: !isText,
  };
  if (cookies.length > 0) event.cookies = cookies;
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  if (matched.pathParameters && Object.keys(matched.pathParameters).length > 0)
    event.pathParameters = matched.pathParameters;
  if (request.body.length > 0)
    event.body = isText ? request.body.toString("utf8") : request.body.toString("base64");
  return event;
}

/**
 * Writes a handler's v2 result as the HTTP response, as API Gateway does. A HEAD answer keeps the
 * `Content-Length` its handler gave (the GET's); Node sends no body for a HEAD.
 */
export function writeResult(response: ServerResponse, result: HttpResult): void {
  const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
  if (result.cookies?.length) headers["set-cookie"] = result.cookies;
  const body = result.body
    ? Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8")
    : Buffer.alloc(0);
  const given = response.req?.method === "HEAD" ? result.headers?.["content-length"] : undefined;
  response.writeHead(result.statusCode ?? 200, {
    ...headers,
    "content-length": String(given ?? body.length),
  });
  response.end(body);
}

function lambdaContext(functionName: string, requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "256",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface GatewayOptions {
  port: number;
  host?: string;
  /** The handler for each function name of lib/functions.ts that serves HTTP. */
  handlers: Record<string, HttpLambda>;
}

/** Every method some route answers: the `Allow` of a CONNECT, which no path of ours takes. */
const API_METHODS = [...new Set(routes.flatMap(methodsOf)), "OPTIONS"].join(", ");

/**
 * The local API Gateway: every route of lib/routes.ts, `$default` to the fallback function.
 * Requests Node refuses before any handler (an unknown method, oversized headers, broken HTTP),
 * an `Expect` it cannot meet and CONNECT are answered in the API's error format too.
 */
export async function startGateway(options: GatewayOptions): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    void serve(req, res, options.handlers);
  });
  const answerUnrouted: AnswerUnrouted = async (method, target) => {
    const fallback = options.handlers.fallback;
    if (!fallback) throw new Error("no handler loaded for function fallback");
    if (!targetUrl(target)) return badTarget();
    const event = toApiGatewayEvent(
      { method, url: target, headers: {}, body: Buffer.alloc(0) },
      { routeKey: "$default" },
    );
    return fallback(event, lambdaContext("fallback", event.requestContext.requestId, 5_000));
  };
  server.on("clientError", answerClientError(answerUnrouted));
  server.on("connect", (req: IncomingMessage, socket: Duplex) => {
    const message = `${req.method} is not allowed: this API is not a proxy.`;
    writeRawResult(
      socket,
      jsonResult(405, { error: { code: "method_not_allowed", message } }, { allow: API_METHODS }),
    );
  });
  server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
    const message = `Expect: ${req.headers.expect} cannot be met; only 100-continue can.`;
    writeResult(res, jsonResult(417, { error: { code: "expectation_failed", message } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`port ${options.port} is taken (PORT)`) : error),
    );
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : options.port };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handlers: Record<string, HttpLambda>,
): Promise<void> {
  try {
    const body = await readBody(req);
    if (body === undefined) {
      writeResult(
        res,
        jsonResult(413, { error: { code: "payload_too_large", message: "Request body is too large." } }),
      );
      return;
    }
    const url = targetUrl(req.url ?? "/");
    if (!url) {
      writeResult(res, badTarget());
      return;
    }
    const path = url.pathname;
    const match = matchRoute(req.method ?? "GET", path);
    const functionName = match.kind === "found" ? match.route.function : "fallback";
    const key = match.kind === "found" ? match.routeKey : "$default";
    const event = toApiGatewayEvent(
      {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headers,
        body,
        sourceIp: req.socket.remoteAddress,
      },
      { routeKey: key, ...(match.kind === "found" ? { pathParameters: match.params } : {}) },
    );
    const handler = handlers[functionName];
    if (!handler) throw new Error(`no handler loaded for function ${functionName}`);
    const result = await handler(event, lambdaContext(functionName, event.requestContext.requestId, 30_000));
    writeResult(res, result);
  } catch (error) {
    // What API Gateway answers when the integration itself fails.
    console.error("gateway: handler crashed:", error instanceof Error ? error.message : error);
    if (!res.headersSent) writeResult(res, jsonResult(500, { message: "Internal Server Error" }));
  }
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > GATEWAY_BODY_LIMIT) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
