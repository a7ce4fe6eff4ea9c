import { getEventListeners } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createIntegratorClient, type IntegratorClientOptions } from "#lib/integrator/client.ts";
import {
  IntegratorNetworkError,
  IntegratorTimeoutError,
  OutcomeUnknownError,
} from "#lib/integrator/errors.ts";
import { networkCode } from "#lib/integrator/http.ts";
import { createTokenBucket } from "#lib/integrator/token-bucket.ts";
import { nodeTransport } from "#lib/integrator/transport.ts";
import { freePort } from "#local/net.ts";

/** What the test server saw of each request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** The client went away before the answer was sent. */
  closedEarly: boolean;
}

type Route = (request: IncomingMessage, response: ServerResponse, seen: Seen) => void;

let server: Server;
let origin: string;
let routes: Record<string, Route> = {};
let seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const entry: Seen = {
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        closedEarly: false,
      };
      seen.push(entry);
      response.on("close", () => {
        if (!response.writableFinished) entry.closedEarly = true;
      });
      const route = routes[`${entry.method} ${new URL(entry.url, "http://x").pathname}`];
      if (route) route(request, response, entry);
      else response.writeHead(404, { "content-type": "application/json" }).end('{"errors":[]}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  routes = {};
  seen = [];
});

const silent: Route = () => {
  // Never answers: the caller's timeout or abort has to end the exchange.
};
/** Sends the headers and the first bytes of a 100-byte body, then drops the connection. */
const resetMidBody: Route = (_request, response) => {
  response.writeHead(200, { "content-type": "application/json", "content-length": "100" });
  response.write('{"_id":"par', () => setTimeout(() => response.socket?.destroy(), 20));
};

function client(overrides: Partial<IntegratorClientOptions> = {}) {
  return createIntegratorClient({
    baseUrl: `${origin}/v1`,
    token: "transport-test-token",
    limiter: createTokenBucket({ capacity: 1000, refillPerSecond: 300 }),
    lane: "background",
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    ...overrides,
  });
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met within 2 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("nodeTransport", () => {
  it("sends method, headers and a UTF-8 body; reads a non-ASCII body split mid-character", async () => {
    routes["POST /echo"] = (_request, response, entry) => {
      const bytes = Buffer.from(`{"echo":${JSON.stringify(entry.body)},"name":"Shop ↔ ERP — ünïcödé 😀"}`);
      // Cut inside the 3-byte "↔" so that the decoder has to join chunks.
      const cut = bytes.indexOf(Buffer.from("↔")) + 1;
      response.writeHead(201, { "content-type": "application/json" });
      response.write(bytes.subarray(0, cut), () => setTimeout(() => response.end(bytes.subarray(cut)), 10));
    };
    const body = JSON.stringify({ name: "Café ✓" });
    const response = await nodeTransport(`${origin}/echo?x=1`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Custom": "yes" },
      body,
    });
    expect(response.status).toBe(201);
    expect(JSON.parse(await response.text())).toEqual({ echo: body, name: "Shop ↔ ERP — ünïcödé 😀" });
    expect(seen[0]).toMatchObject({ method: "POST", url: "/echo?x=1", body });
    expect(seen[0]?.headers["x-custom"]).toBe("yes");
    expect(seen[0]?.headers["content-length"]).toBe(String(Buffer.byteLength(body)));
  });

  it("headers.get is case-insensitive, null when absent, and joins repeated headers like Headers", async () => {
    routes["GET /headers"] = (_request, response) => {
      response.setHeader("Link", '<http://x/2>; rel="next"');
      response.setHeader("Retry-After", "3");
      response.setHeader("X-Many", ["a", "b"]);
      // node keeps repeated set-cookie as an array, joins the others itself.
      response.setHeader("Set-Cookie", ["a=1", "b=2"]);
      response.writeHead(200).end("");
    };
    const response = await nodeTransport(`${origin}/headers`, { method: "GET", headers: {} });
    expect(response.headers.get("link")).toBe('<http://x/2>; rel="next"');
    expect(response.headers.get("LINK")).toBe('<http://x/2>; rel="next"');
    expect(response.headers.get("Retry-After")).toBe("3");
    expect(response.headers.get("x-many")).toBe("a, b");
    expect(response.headers.get("Set-Cookie")).toBe("a=1, b=2");
    expect(response.headers.get("x-missing")).toBeNull();
    expect(await response.text()).toBe("");
  });

  it("decodes a gzip body and drops a leading byte-order mark, as fetch's text() does", async () => {
    routes["GET /gzip"] = (_request, response) => {
      response.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync('\uFEFF{"ok":"ü"}'));
    };
    const response = await nodeTransport(`${origin}/gzip`, { method: "GET", headers: {} });
    expect(await response.text()).toBe('{"ok":"ü"}');
  });

  it("abort: an aborted signal rejects with its reason and the request is destroyed", async () => {
    routes["GET /silent"] = silent;
    const controller = new AbortController();
    const pending = nodeTransport(`${origin}/silent`, {
      method: "GET",
      headers: {},
      signal: controller.signal,
    });
    await until(() => seen.length === 1);
    const reason = new Error("caller gave up");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await until(() => seen[0]?.closedEarly === true);

    // Without a reason: an AbortError, as fetch rejects.
    const defaultReason = new AbortController();
    const second = nodeTransport(`${origin}/silent`, {
      method: "GET",
      headers: {},
      signal: defaultReason.signal,
    });
    await until(() => seen.length === 2);
    defaultReason.abort();
    await expect(second).rejects.toMatchObject({ name: "AbortError" });

    // Already aborted: nothing is sent.
    await expect(
      nodeTransport(`${origin}/silent`, { method: "GET", headers: {}, signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toHaveLength(2);
  });

  it("abort while the body is arriving rejects too", async () => {
    routes["GET /slow-body"] = (_request, response) => {
      response.writeHead(200, { "content-length": "100" });
      response.write("{");
    };
    const controller = new AbortController();
    const pending = nodeTransport(`${origin}/slow-body`, {
      method: "GET",
      headers: {},
      signal: controller.signal,
    });
    await until(() => seen.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
  });

  it("a refused connection rejects with ECONNREFUSED, classified as undici's fetch error is", async () => {
    const port = await freePort();
    const ours = await nodeTransport(`http://127.0.0.1:${port}/x`, { method: "GET", headers: {} }).catch(
      (e: unknown) => e,
    );
    const undici = await fetch(`http://127.0.0.1:${port}/x`).catch((e: unknown) => e);
    expect(networkCode(ours)).toBe("ECONNREFUSED");
    expect(networkCode(undici)).toBe("ECONNREFUSED");
  });

  it("a connection reset mid-body rejects with ECONNRESET (not refused)", async () => {
    routes["GET /reset"] = resetMidBody;
    const error = await nodeTransport(`${origin}/reset`, { method: "GET", headers: {} }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(networkCode(error)).toBe("ECONNRESET");
  });
});

describe("the client on its default transport", () => {
  it("a refused POST is retried, then IntegratorNetworkError ECONNREFUSED", async () => {
    const port = await freePort();
    const retries: string[] = [];
    const error = await client({
      baseUrl: `http://127.0.0.1:${port}/v1`,
      hooks: { onRetry: (event) => void retries.push(event.reason) },
    })
      .connectors.create({ name: "x" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegratorNetworkError);
    expect(error).toMatchObject({ networkCode: "ECONNREFUSED", method: "POST", path: "/v1/connectors" });
    expect(retries).toEqual(["network", "network"]);
  });

  it("a reset mid-body: GET retried then IntegratorNetworkError, POST OutcomeUnknownError sent once", async () => {
    routes["GET /v1/connectors/c1"] = resetMidBody;
    routes["POST /v1/connectors"] = resetMidBody;
    const get = await client()
      .connectors.get("c1")
      .catch((e: unknown) => e);
    expect(get).toBeInstanceOf(IntegratorNetworkError);
    expect(get).toMatchObject({ networkCode: "ECONNRESET" });
    expect(seen.filter((s) => s.method === "GET")).toHaveLength(3);

    const post = await client()
      .connectors.create({ name: "x" })
      .catch((e: unknown) => e);
    expect(post).toBeInstanceOf(OutcomeUnknownError);
    expect((post as OutcomeUnknownError).cause).toBeInstanceOf(IntegratorNetworkError);
    expect(seen.filter((s) => s.method === "POST")).toHaveLength(1);
  });

  it("per-attempt timeout: GET retried then IntegratorTimeoutError, POST OutcomeUnknownError", async () => {
    routes["GET /v1/connectors/c1"] = silent;
    routes["POST /v1/connectors"] = silent;
    const retry = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 };
    const get = await client({ timeoutMs: 100, retry })
      .connectors.get("c1")
      .catch((e: unknown) => e);
    expect(get).toBeInstanceOf(IntegratorTimeoutError);
    expect(get).toMatchObject({ timeoutMs: 100 });
    expect(seen.filter((s) => s.method === "GET")).toHaveLength(2);
    await until(() => seen.every((s) => s.closedEarly));

    const post = await client({ timeoutMs: 100, retry })
      .connectors.create({ name: "x" })
      .catch((e: unknown) => e);
    expect(post).toBeInstanceOf(OutcomeUnknownError);
    expect((post as OutcomeUnknownError).cause).toBeInstanceOf(IntegratorTimeoutError);
    expect(seen.filter((s) => s.method === "POST")).toHaveLength(1);
  });

  it("a caller abort rejects with the signal's reason and leaves no listener on the caller's signal", async () => {
    routes["GET /v1/connectors/c1"] = silent;
    routes["GET /v1/connectors/c2"] = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" }).end('{"_id":"c2","name":"ok"}');
    };
    const controller = new AbortController();
    const listeners = () => getEventListeners(controller.signal, "abort").length;
    const c = client();
    expect((await c.connectors.get("c2", { signal: controller.signal }))._id).toBe("c2");
    expect(listeners()).toBe(0);

    const pending = c.connectors.get("c1", { signal: controller.signal });
    await until(() => seen.some((s) => s.url.endsWith("/c1")));
    const reason = new Error("shutting down");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await until(() => seen.find((s) => s.url.endsWith("/c1"))?.closedEarly === true);
  });
});
