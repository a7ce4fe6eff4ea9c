import type { IncomingMessage, ServerResponse } from "node:http";
import { errorBody, invalidJson, payloadTooLarge, SimError } from "./errors.ts";
import type { Reply } from "./router.ts";

/** Bodies past this are refused (413); integrator.io's own limit is of this order. */
export const BODY_LIMIT_BYTES = 5 * 1024 * 1024;

/** The request's JSON body, `undefined` when empty; malformed JSON is `invalid_json` (400). */
export async function readJsonBody(req: IncomingMessage, limit = BODY_LIMIT_BYTES): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw payloadTooLarge(limit);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidJson("The body is not valid JSON.");
  }
}

/** The answer for an error: integrator.io's envelope for ours, a bare 500 for anything else. */
export function errorReply(error: unknown): Reply {
  if (error instanceof SimError)
    return { status: error.status, body: errorBody(error), headers: error.headers };
  return { status: 500, body: { errors: [{ code: "internal_server_error", message: "Internal error." }] } };
}

export function sendReply(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string | number> = { ...reply.headers };
  if (reply.body === undefined || reply.status === 204) {
    res.writeHead(reply.status, headers).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  headers["content-type"] = "application/json; charset=utf-8";
  headers["content-length"] = Buffer.byteLength(text);
  res.writeHead(reply.status, headers).end(text);
}
