import type { Server } from "node:http";
import { connect } from "node:net";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeHandler as fallback } from "#functions/fallback.ts";
import { makeHandler as openapi } from "#functions/openapi.ts";
import { startGateway } from "#local/gateway.ts";
import { RawClient } from "#test/helpers/hostile.ts";

/**
 * HTTP semantics of the local gateway in front of the real openapi and fallback functions: HEAD
 * wherever GET, 405 with `Allow`, and every request Node's parser refuses before any handler
 * answered in the API's error format instead of an empty body or a dropped connection.
 */

const logger = new Logger({ logLevel: "SILENT" });
let server: Server;
let port: number;
let client: RawClient;

beforeAll(async () => {
  ({ server, port } = await startGateway({
    port: 0,
    handlers: { openapi: openapi({ logger }), fallback: fallback({ logger, corsAllowedOrigins: [] }) },
  }));
  client = new RawClient(`http://127.0.0.1:${port}`);
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes as they are and reads the answer until the gateway closes the connection. */
function sendRaw(bytes: string): Promise<WireAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [head = "", body = ""] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = Object.fromEntries(
        lines.map((line) => [
          line.slice(0, line.indexOf(":")).toLowerCase(),
          line.slice(line.indexOf(":") + 1).trim(),
        ]),
      );
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
    });
  });
}

const apiError = (code: string) => ({ error: { code, message: expect.any(String) } });

describe("HEAD", () => {
  it("answers a GET route's status and headers without the body", async () => {
    const get = await client.send({ method: "GET", path: "/openapi.json" });
    const head = await client.send({ method: "HEAD", path: "/openapi.json" });
    expect(get.status).toBe(200);
    expect(head.status).toBe(200);
    expect(head.text).toBe("");
    const { date: _getDate, ...getHeaders } = get.headers;
    const { date: _headDate, ...headHeaders } = head.headers;
    expect(headHeaders).toEqual(getHeaders);
    expect(Number(head.headers["content-length"])).toBe(Buffer.byteLength(get.text));
  });

  it("answers 304 to a HEAD naming the current ETag, and 404 without a body for an unknown path", async () => {
    const { headers } = await client.send({ method: "GET", path: "/openapi.json" });
    const again = await client.send({
      method: "HEAD",
      path: "/openapi.json",
      headers: { "if-none-match": String(headers.etag) },
    });
    expect(again.status).toBe(304);
    const unknown = await client.send({ method: "HEAD", path: "/nothing/here" });
    expect(unknown).toMatchObject({ status: 404, text: "" });
    expect(unknown.headers["content-type"]).toMatch(/^application\/json/);
  });
});

describe("methods a path does not take", () => {
  it("405 with Allow for methods Node knows, and OPTIONS only where CORS preflights are taken", async () => {
    for (const method of ["PUT", "DELETE", "PATCH", "POST", "OPTIONS", "TRACE", "PROPFIND"]) {
      const answer = await client.send({ method, path: "/openapi.json" });
      expect(answer.status, method).toBe(405);
      expect(answer.headers.allow, method).toBe("GET, HEAD");
      expect(answer.json, method).toEqual(apiError("method_not_allowed"));
    }
    const preflight = await client.send({ method: "OPTIONS", path: "/marketplace/connectors" });
    expect(preflight).toMatchObject({ status: 204, text: "" });
    expect(preflight.headers.allow).toBe("GET, HEAD, OPTIONS");
  });

  it("405 with Allow for a method Node's parser does not know, 404 on an unknown path", async () => {
    for (const method of ["FOO", "get", "BREW"]) {
      const answer = await sendRaw(`${method} /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(answer.status, method).toBe(405);
      expect(answer.headers.allow, method).toBe("GET, HEAD");
      expect(answer.headers["content-type"], method).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body), method).toEqual(apiError("method_not_allowed"));
    }
    const unknown = await sendRaw("FOO /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toEqual(apiError("not_found"));
  });

  it("405 for CONNECT: the API is not a proxy", async () => {
    const answer = await sendRaw("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    expect(answer.status).toBe(405);
    expect(answer.headers.allow?.split(", ").sort()).toEqual(["DELETE", "GET", "HEAD", "OPTIONS", "POST"]);
    expect(JSON.parse(answer.body)).toEqual(apiError("method_not_allowed"));
  });
});

describe("requests Node refuses before any handler", () => {
  it("431 in the API's format for a URL or headers over the limit", async () => {
    const longUrl = await client.send({ method: "GET", path: `/openapi.json?q=${"a".repeat(20_000)}` });
    expect(longUrl.status).toBe(431);
    expect(longUrl.json).toEqual(apiError("headers_too_large"));
    const bigHeader = await client.send({
      method: "GET",
      path: "/openapi.json",
      headers: { "x-padding": "b".repeat(20_000) },
    });
    expect(bigHeader.status).toBe(431);
    expect(bigHeader.json).toEqual(apiError("headers_too_large"));
  });

  it("400 in the API's format for bytes that are not HTTP/1.1", async () => {
    for (const bytes of [
      "GARBAGE\r\n\r\n",
      "GET /openapi.json HTTP/1.1\r\nBad Header\r\n\r\n",
      "GET /openapi.json HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET /openapi.json HTTP/9.9\r\n\r\n",
    ]) {
      const answer = await sendRaw(bytes);
      expect(answer.status, bytes).toBe(400);
      expect(answer.headers.connection, bytes).toBe("close");
      expect(JSON.parse(answer.body), bytes).toEqual(apiError("bad_request"));
    }
  });

  it("400 in the API's format for a target that is neither a path nor a URL; a path is taken whole", async () => {
    for (const method of ["GET", "FOO"]) {
      const answer = await sendRaw(`${method} http://[bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer.status, method).toBe(400);
      expect(JSON.parse(answer.body), method).toEqual(apiError("bad_request"));
    }
    const doubled = await client.send({ method: "GET", path: "//openapi.json" });
    expect(doubled.status).toBe(404);
    const absolute = await client.send({ method: "GET", path: "http://localhost/openapi.json" });
    expect(absolute.status).toBe(200);
  });

  it("417 in the API's format for an Expect it cannot meet", async () => {
    const answer = await client.send({ method: "GET", path: "/openapi.json", headers: { expect: "teapot" } });
    expect(answer.status).toBe(417);
    expect(answer.json).toEqual(apiError("expectation_failed"));
  });
});
