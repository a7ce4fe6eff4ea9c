import { describe, expect, it } from "vitest";
import { fullJitterDelay, parseRetryAfter } from "#lib/integrator/backoff.ts";
import { nextLink } from "#lib/integrator/link.ts";

describe("fullJitterDelay", () => {
  const policy = { baseDelayMs: 200, maxDelayMs: 5000 };
  it("draws uniformly below a doubling, capped ceiling", () => {
    expect(fullJitterDelay(1, policy, () => 0.999)).toBe(199);
    expect(fullJitterDelay(3, policy, () => 0.5)).toBe(400);
    expect(fullJitterDelay(10, policy, () => 0.999)).toBe(4995);
    expect(fullJitterDelay(4, policy, () => 0)).toBe(0);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-11-01T00:00:00Z");
  it("reads integer seconds and HTTP dates, and falls back when missing or garbled", () => {
    expect(parseRetryAfter("2", now)).toBe(2000);
    expect(parseRetryAfter("Sun, 01 Nov 2026 00:00:03 GMT", now)).toBe(3000);
    expect(parseRetryAfter("Sat, 31 Oct 2026 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBe(1000);
    expect(parseRetryAfter("soon", now, 1500)).toBe(1500);
  });
});

describe("nextLink", () => {
  const request = "https://api.integrator.io/v1/connectors/c1/licenses";
  it("finds rel=next among several links and resolves it", () => {
    const header =
      '<https://api.integrator.io/v1/connectors/c1/licenses?skip=0&limit=100>; rel="first", ' +
      '<https://api.integrator.io/v1/connectors/c1/licenses?skip=100&limit=100>; rel="next"';
    expect(nextLink(header, request)).toBe(
      "https://api.integrator.io/v1/connectors/c1/licenses?skip=100&limit=100",
    );
    expect(nextLink("</v1/jobs?skip=5>; rel=next", request)).toBe("https://api.integrator.io/v1/jobs?skip=5");
    expect(nextLink('<https://x/a,b?skip=1>; title="a, b"; rel="prev next"', request)).toBe(
      "https://x/a,b?skip=1",
    );
  });
  it("answers undefined without a next link", () => {
    expect(nextLink(null, request)).toBeUndefined();
    expect(nextLink('<https://api.integrator.io/v1/x?skip=0>; rel="prev"', request)).toBeUndefined();
  });
});
