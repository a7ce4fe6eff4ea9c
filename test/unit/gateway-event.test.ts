import { describe, expect, it } from "vitest";
import { toApiGatewayEvent } from "#local/gateway.ts";

const now = new Date("2026-11-27T12:00:00Z");

describe("toApiGatewayEvent (HTTP API payload v2)", () => {
  it("carries route key, path parameters, query and lower-cased headers", () => {
    const event = toApiGatewayEvent(
      {
        method: "GET",
        url: "/admin/customers/cus_123?limit=10&tag=a&tag=b",
        headers: { "x-custom-header": "Value", host: "127.0.0.1:3000" },
        body: Buffer.alloc(0),
      },
      { routeKey: "GET /admin/customers/{customerId}", pathParameters: { customerId: "cus_123" } },
      now,
    );
    expect(event.version).toBe("2.0");
    expect(event.routeKey).toBe("GET /admin/customers/{customerId}");
    expect(event.rawPath).toBe("/admin/customers/cus_123");
    expect(event.rawQueryString).toBe("limit=10&tag=a&tag=b");
    expect(event.queryStringParameters).toEqual({ limit: "10", tag: "a,b" });
    expect(event.pathParameters).toEqual({ customerId: "cus_123" });
    expect(event.headers["x-custom-header"]).toBe("Value");
    expect(event.requestContext.http.method).toBe("GET");
    expect(event.requestContext.timeEpoch).toBe(now.getTime());
    expect(event.body).toBeUndefined();
    expect(event.isBase64Encoded).toBe(false);
  });

  it("moves cookies out of the headers into `cookies`", () => {
    const event = toApiGatewayEvent(
      { method: "GET", url: "/", headers: { cookie: "a=1; b=2" }, body: Buffer.alloc(0) },
      { routeKey: "$default" },
      now,
    );
    expect(event.cookies).toEqual(["a=1", "b=2"]);
    expect(event.headers.cookie).toBeUndefined();
  });

  it("keeps JSON bodies as text and base64-encodes binary ones", () => {
    const json = toApiGatewayEvent(
      {
        method: "POST",
        url: "/x",
        headers: { "content-type": "application/json" },
        body: Buffer.from('{"a":1}'),
      },
      { routeKey: "POST /x" },
      now,
    );
    expect(json).toMatchObject({ body: '{"a":1}', isBase64Encoded: false });
    const bytes = Buffer.from([0, 1, 2, 255]);
    const binary = toApiGatewayEvent(
      { method: "POST", url: "/x", headers: { "content-type": "application/octet-stream" }, body: bytes },
      { routeKey: "POST /x" },
      now,
    );
    expect(binary.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.body ?? "", "base64")).toEqual(bytes);
  });
});
