import { maxHeaderSize, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { jsonResult } from "#lib/http/respond.ts";
import type { HttpResult } from "#lib/http/types.ts";

/**
 * Requests Node's HTTP parser refuses before any handler runs — an unknown method, headers or a URL
 * over the limit, anything that is not HTTP/1.1 — answered in the API's error format
 * (docs/architecture.md §6) and written straight to the socket, since no response object exists.
 */

/** Answers a request for `method` and `target` as the `$default` route would (405 with `Allow`, or 404). */
export type AnswerUnrouted = (method: string, target: string) => Promise<HttpResult>;

/** How long a refused connection may stay open for the client to read the answer and close. */
const LINGER_MS = 500;

/** A request line: method (an RFC 9110 token), target, version. */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/\d\.\d\r?\n/;

const apiError = (status: number, code: string, message: string) =>
  jsonResult(status, { error: { code, message } });

/** The answer to a request the parser refused with `error` (its `code`, and the bytes it had read). */
export async function clientErrorResult(
  error: NodeJS.ErrnoException & { rawPacket?: Buffer },
  answerUnrouted: AnswerUnrouted,
): Promise<HttpResult> {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return apiError(
        431,
        "headers_too_large",
        `The request line and headers are over ${maxHeaderSize / 1024} KB together.`,
      );
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return apiError(408, "request_timeout", "The request did not arrive in time.");
    case "HPE_INVALID_METHOD": {
      const line = REQUEST_LINE.exec(error.rawPacket?.toString("latin1") ?? "");
      if (line?.[1] && line[2]) return answerUnrouted(line[1], line[2]);
      break;
    }
  }
  return apiError(400, "bad_request", "The request is not well-formed HTTP/1.1.");
}

/** Writes `result` as a raw HTTP/1.1 response, then closes the connection (the parser cannot go on). */
export function writeRawResult(socket: Duplex, result: HttpResult): void {
  const status = result.statusCode ?? 200;
  const body = Buffer.from(result.body ?? "", result.isBase64Encoded ? "base64" : "utf8");
  const headers = { ...result.headers, "content-length": String(body.length), connection: "close" };
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ].join("\r\n");
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), body]), () => {
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}

/** Node's `clientError` hook: the answer in the API's format, or nothing when the socket is gone. */
export function answerClientError(answerUnrouted: AnswerUnrouted) {
  return (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex): void => {
    if (!socket.writable || error.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    clientErrorResult(error, answerUnrouted).then(
      (result) => writeRawResult(socket, result),
      () => socket.destroy(),
    );
  };
}
