import { describe, expect, it } from "vitest";
import { CONSOLE_CSP } from "#lib/console/assets.ts";
import { secureCookie } from "#lib/console/routes.ts";
import { httpEvent } from "#test/helpers/http-events.ts";

describe("the console's session cookie", () => {
  const event = httpEvent("POST /console/session");
  it.each([
    ["localhost:3000", undefined, false],
    ["127.0.0.1:51234", undefined, false],
    ["[::1]:3000", undefined, false],
    ["localhost:3000", "https", true],
    ["abc123.execute-api.eu-west-1.amazonaws.com", undefined, true],
    ["licensing.vendor.example", "https", true],
    ["localhost.vendor.example", undefined, true],
    ["127.0.0.1.nip.io", undefined, true],
  ])("host %s (forwarded proto %s): Secure %s", (host, proto, secure) => {
    expect(secureCookie(event, { host, ...(proto ? { "x-forwarded-proto": proto } : {}) })).toBe(secure);
  });
});

describe("the console's Content-Security-Policy", () => {
  it("allows scripts and styles from its own origin only, no inline code, no eval, no wildcard", () => {
    const directives = Object.fromEntries(
      CONSOLE_CSP.split(";").map((d) => {
        const [name = "", ...values] = d.trim().split(/\s+/);
        return [name, values];
      }),
    );
    expect(directives["default-src"]).toEqual(["'none'"]);
    expect(directives["script-src"]).toEqual(["'self'"]);
    expect(directives["style-src"]).toEqual(["'self'"]);
    expect(directives["frame-ancestors"]).toEqual(["'none'"]);
    expect(CONSOLE_CSP).not.toMatch(/unsafe|\*|https?:/);
  });
});
