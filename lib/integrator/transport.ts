/**
 * The integrator.io client's default HTTP transport: `node:http` / `node:https` with one keep-alive
 * agent per protocol per process, implementing only what `send` (./http.ts) needs from `fetch` —
 * method, headers, a string body, an `AbortSignal`, and a response with `status`, `headers.get()`
 * and `text()`. It costs far less CPU per call than the global `fetch` (undici's web streams,
 * `Headers` and signal plumbing). The global `fetch` satisfies the same `Transport` type, so tests
 * can still inject one.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";

export interface TransportInit {
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** What `send` reads of a response (a fetch `Response` is one). */
export interface TransportResponse {
  status: number;
  /** Case-insensitive; repeated headers joined with ", " like `Headers.get`. */
  headers: { get(name: string): string | null };
  /** The body decoded as UTF-8. */
  text(): Promise<string>;
}

/** One HTTP exchange. `typeof fetch` is assignable to it. */
export type Transport = (url: string, init: TransportInit) => Promise<TransportResponse>;

// undici's default: idle keep-alive sockets close after 4 s (or the server's `Keep-Alive: timeout`
// hint minus 1 s, which node's agent honours), before a server closes them under us.
const IDLE_SOCKET_MS = 4000;
const httpAgent = new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
const httpsAgent = new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });

class ResponseHeaders {
  readonly #raw: IncomingHttpHeaders;
  constructor(raw: IncomingHttpHeaders) {
    this.#raw = raw;
  }
  get(name: string): string | null {
    const value = this.#raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : value;
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/** The response body stream, decompressed when the server sent it encoded anyway. */
function decoded(response: IncomingMessage): NodeJS.ReadableStream & NodeJS.EventEmitter {
  const encoding = response.headers["content-encoding"]?.trim().toLowerCase();
  const decoder =
    encoding === "gzip" || encoding === "x-gzip"
      ? createGunzip()
      : encoding === "deflate"
        ? createInflate()
        : encoding === "br"
          ? createBrotliDecompress()
          : undefined;
  if (!decoder) return response;
  response.on("error", (error) => decoder.destroy(error));
  return response.pipe(decoder);
}

/**
 * Sends one request and reads the whole body before resolving (as `send` always does). Aborting
 * the signal destroys the request and rejects with the signal's reason. Network errors reject
 * with node's error (`code` `ECONNREFUSED`, `ECONNRESET`...), which `networkCode` reads.
 */
export const nodeTransport: Transport = (url, init) =>
  new Promise<TransportResponse>((resolve, reject) => {
    const { signal } = init;
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const https = url.startsWith("https:");
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers["content-length"] = Buffer.byteLength(init.body);
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      request.destroy();
      reject(error);
    };
    const onAbort = () => fail(abortReason(signal as AbortSignal));
    const request = (https ? httpsRequest : httpRequest)(url, {
      method: init.method,
      headers,
      agent: https ? httpsAgent : httpAgent,
    });
    request.on("error", fail);
    request.on("response", (response) => {
      const status = response.statusCode ?? 0;
      const responseHeaders = new ResponseHeaders(response.headers);
      const chunks: Buffer[] = [];
      const body = decoded(response);
      body.on("data", (chunk: Buffer) => chunks.push(chunk));
      body.on("error", fail);
      body.on("end", () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        let text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString("utf8");
        // Like fetch's text() (TextDecoder): a leading byte-order mark is not part of the text.
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        resolve({ status, headers: responseHeaders, text: () => Promise.resolve(text) });
      });
      // A connection lost mid-body: node emits an ECONNRESET "aborted" error on the response, but
      // make sure a close without an end never leaves the promise pending.
      response.on("close", () => {
        if (!response.complete) {
          fail(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
        }
      });
    });
    signal?.addEventListener("abort", onAbort, { once: true });
    request.end(init.body);
  });
