import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminApi, CONNECTOR, purchase, storeOf, uniqueEmail } from "#test/helpers/admin-api.ts";
import { eventually, startTestStack, type TestStack } from "#test/helpers/local-stack.ts";

/**
 * Named operators and the console's session, through the local gateway as a browser and the CLI
 * reach them: roles checked before anything is read, tokens stored only as hashes, the session
 * cookie's flags, CSRF, sign-out, and every action audited under the operator's name.
 */
let stack: TestStack;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  stack = await startTestStack();
  for (const [name, role] of [
    ["vera", "viewer"],
    ["otto", "operator"],
    ["ada", "admin"],
  ] as const) {
    const created = await adminApi<{ name: string; role: string; token: string }>(
      stack,
      "POST",
      "/admin/operators",
      {
        name,
        role,
      },
    );
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ name, role, token: expect.stringMatching(/^ilop\./) });
    tokens[name] = created.body.token;
  }
});
afterAll(async () => stack?.stop());

const api = (method: string, path: string, init: { headers?: Record<string, string>; body?: unknown } = {}) =>
  fetch(`${stack.urls.api}${path}`, {
    method,
    redirect: "manual",
    headers: {
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...init.headers,
    },
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }),
  });

async function signIn(token: string) {
  const response = await api("POST", "/console/session", { body: { token } });
  const setCookie = response.headers.getSetCookie();
  const body = (await response.json()) as { csrfToken: string; operator: { name: string; role: string } };
  const cookie = setCookie[0]?.split(";")[0] ?? "";
  return { response, setCookie, body, cookie };
}

describe("operators", () => {
  it("keeps only a hash of the token, and lists operators without one", async () => {
    const items = await storeOf(stack).table.queryAll({
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :pk",
      ExpressionAttributeValues: { ":pk": "OPERATORS" },
    });
    const stored = JSON.stringify(items);
    for (const token of Object.values(tokens)) {
      expect(stored).not.toContain(token);
      expect(stored).not.toContain(token.split(".")[2]);
    }
    const listed = await adminApi<{ data: { name: string; role: string; createdBy: string }[] }>(
      stack,
      "GET",
      "/admin/operators",
    );
    expect(listed.status).toBe(200);
    expect(listed.body.data.map(({ name, role, createdBy }) => ({ name, role, createdBy }))).toEqual(
      expect.arrayContaining([
        { name: "ada", role: "admin", createdBy: "root" },
        { name: "otto", role: "operator", createdBy: "root" },
        { name: "vera", role: "viewer", createdBy: "root" },
      ]),
    );
    expect(JSON.stringify(listed.body)).not.toMatch(/token|ilop\./i);
  });

  it("checks the role before the body or anything else: a viewer reads but cannot act", async () => {
    expect((await adminApi(stack, "GET", "/admin/events", undefined, tokens.vera)).status).toBe(200);
    for (const body of [undefined, "{not json", { surprise: true }]) {
      const refused = await api("POST", "/admin/events/evt_nope/replay", {
        headers: { authorization: `Bearer ${tokens.vera}` },
        ...(body === undefined ? {} : { body }),
      });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
        /operator role/,
      );
    }
    // An operator gets past the role check to the lookup.
    expect(
      (await adminApi(stack, "POST", "/admin/events/evt_nope/replay", undefined, tokens.otto)).status,
    ).toBe(404);
    // Managing operators needs admin.
    const asOperator = await adminApi(
      stack,
      "POST",
      "/admin/operators",
      { name: "x", role: "viewer" },
      tokens.otto,
    );
    expect(asOperator.status).toBe(403);
    expect(JSON.stringify(asOperator.body)).toMatch(/admin role/);
    const byAdmin = await adminApi(
      stack,
      "POST",
      "/admin/operators",
      { name: "pat", role: "viewer" },
      tokens.ada,
    );
    expect(byAdmin.status).toBe(201);
    const listed = await adminApi<{ data: { name: string; createdBy: string }[] }>(
      stack,
      "GET",
      "/admin/operators",
    );
    expect(listed.body.data.find((o) => o.name === "pat")?.createdBy).toBe("operator:ada");
  });

  it("refuses a duplicate, a bad name or role, and changes nothing", async () => {
    expect((await adminApi(stack, "POST", "/admin/operators", { name: "vera", role: "admin" })).status).toBe(
      409,
    );
    for (const body of [
      { name: "Vera Upper", role: "viewer" },
      { name: "", role: "viewer" },
      { name: "x".repeat(65), role: "viewer" },
      { name: "ok", role: "root" },
      { name: "ok", role: "viewer", extra: 1 },
    ]) {
      const refused = await adminApi(stack, "POST", "/admin/operators", body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
    const listed = await adminApi<{ data: { name: string; role: string }[] }>(
      stack,
      "GET",
      "/admin/operators",
    );
    expect(listed.body.data.find((o) => o.name === "vera")?.role).toBe("viewer");
    expect(listed.body.data.some((o) => o.name === "ok")).toBe(false);
    expect((await adminApi(stack, "DELETE", "/admin/operators/nobody")).status).toBe(404);
  });

  it("a revoked token stops working, and the name can be given again with a new token", async () => {
    const made = await adminApi<{ token: string }>(stack, "POST", "/admin/operators", {
      name: "temp",
      role: "operator",
    });
    expect((await adminApi(stack, "GET", "/admin/events", undefined, made.body.token)).status).toBe(200);
    expect((await adminApi(stack, "DELETE", "/admin/operators/temp")).status).toBe(204);
    expect((await adminApi(stack, "GET", "/admin/events", undefined, made.body.token)).status).toBe(403);
    expect((await adminApi(stack, "DELETE", "/admin/operators/temp")).status).toBe(404);
    const again = await adminApi<{ token: string }>(stack, "POST", "/admin/operators", {
      name: "temp",
      role: "viewer",
    });
    expect(again.status).toBe(201);
    expect(again.body.token).not.toBe(made.body.token);
    expect((await adminApi(stack, "GET", "/admin/events", undefined, made.body.token)).status).toBe(403);
    expect((await adminApi(stack, "GET", "/admin/events", undefined, again.body.token)).status).toBe(200);
  });
});

describe("console session", () => {
  it("signs in with an operator token only; a wrong one or ADMIN_TOKEN is a 401 and sets nothing", async () => {
    for (const token of ["ilop.bm9ib2R5.forged", "not-a-token", stack.adminToken]) {
      const { response, setCookie } = await signIn(token);
      expect(response.status).toBe(401);
      expect(setCookie).toEqual([]);
    }
    const { response, setCookie, body } = await signIn(tokens.vera ?? "");
    expect(response.status).toBe(201);
    expect(body.operator).toEqual({ name: "vera", role: "viewer" });
    expect(setCookie).toHaveLength(1);
    const flags = (setCookie[0] ?? "").split(";").map((part) => part.trim());
    expect(flags).toEqual(expect.arrayContaining(["Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=28800"]));
    // Plain http on loopback (npm start): a browser would drop a Secure cookie.
    expect(flags).not.toContain("Secure");
    expect(setCookie[0]).not.toContain(tokens.vera);
  });

  it("a session reads as its operator; writes need the CSRF header; sign-out ends it everywhere", async () => {
    const { cookie, body } = await signIn(tokens.otto ?? "");
    const session = await api("GET", "/console/session", { headers: { cookie } });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({
      operator: { name: "otto", role: "operator" },
      csrfToken: body.csrfToken,
    });
    expect((await api("GET", "/admin/events", { headers: { cookie } })).status).toBe(200);

    const noCsrf = await api("POST", "/admin/events/evt_nope/replay", { headers: { cookie } });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { error: { code: string } }).error.code).toBe("csrf_required");
    const wrongCsrf = await api("POST", "/admin/events/evt_nope/replay", {
      headers: { cookie, "x-csrf-token": `${body.csrfToken}x` },
    });
    expect(wrongCsrf.status).toBe(403);
    const withCsrf = await api("POST", "/admin/events/evt_nope/replay", {
      headers: { cookie, "x-csrf-token": body.csrfToken },
    });
    expect(withCsrf.status).toBe(404);

    expect((await api("DELETE", "/console/session", { headers: { cookie } })).status).toBe(403);
    const out = await api("DELETE", "/console/session", {
      headers: { cookie, "x-csrf-token": body.csrfToken },
    });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()[0]).toMatch(/^il_session=;.*Max-Age=0/);
    // The same cookie, replayed after sign-out, opens nothing.
    expect((await api("GET", "/console/session", { headers: { cookie } })).status).toBe(401);
    const after = await api("GET", "/admin/events", { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe("session_ended");
  });

  it("refuses a tampered or made-up cookie, and ends a revoked operator's sessions", async () => {
    const { cookie } = await signIn(tokens.vera ?? "");
    const [name, value] = cookie.split("=");
    const [id, expires, mac] = (value ?? "").split(".");
    for (const forged of [
      `${name}=${id}.${Number(expires) + 86_400}.${mac}`,
      `${name}=${id}x.${expires}.${mac}`,
      `${name}=garbage`,
    ]) {
      expect((await api("GET", "/admin/events", { headers: { cookie: forged } })).status).toBe(401);
    }
    const made = await adminApi<{ token: string }>(stack, "POST", "/admin/operators", {
      name: "leaver",
      role: "viewer",
    });
    const leaver = await signIn(made.body.token);
    expect((await api("GET", "/admin/events", { headers: { cookie: leaver.cookie } })).status).toBe(200);
    expect((await adminApi(stack, "DELETE", "/admin/operators/leaver")).status).toBe(204);
    expect((await api("GET", "/admin/events", { headers: { cookie: leaver.cookie } })).status).toBe(401);
  });

  it("a revoked operator's session stays ended when the name is given again, and the new one signs in at once", async () => {
    const first = await adminApi<{ token: string }>(stack, "POST", "/admin/operators", {
      name: "rehired",
      role: "viewer",
    });
    const old = await signIn(first.body.token);
    expect((await api("GET", "/admin/events", { headers: { cookie: old.cookie } })).status).toBe(200);
    expect((await adminApi(stack, "DELETE", "/admin/operators/rehired")).status).toBe(204);
    expect((await api("GET", "/admin/events", { headers: { cookie: old.cookie } })).status).toBe(401);
    // The name again, now as an admin: the viewer's old cookie must not become an admin's.
    const again = await adminApi<{ token: string }>(stack, "POST", "/admin/operators", {
      name: "rehired",
      role: "admin",
    });
    expect(again.status).toBe(201);
    // At once, though this function last read the name as revoked.
    const current = await signIn(again.body.token);
    expect(current.response.status).toBe(201);
    expect((await api("GET", "/admin/operators", { headers: { cookie: current.cookie } })).status).toBe(200);
    for (const path of ["/console/session", "/admin/operators", "/admin/events"]) {
      expect((await api("GET", path, { headers: { cookie: old.cookie } })).status).toBe(401);
    }
    expect((await api("GET", "/admin/events", { headers: { cookie: current.cookie } })).status).toBe(200);
  });

  it("tells a person who pastes ADMIN_TOKEN that the console takes an operator's token", async () => {
    const { response, setCookie, body } = await signIn(stack.adminToken);
    expect(response.status).toBe(401);
    expect(setCookie).toEqual([]);
    const { error } = body as unknown as { error: { message: string } };
    expect(error.message).toMatch(/operator's own token/);
    expect(error.message).toContain("operators add");
    expect(error.message).not.toContain(stack.adminToken);
  });

  it("serves the page with a strict CSP, its assets, and nothing else under /console", async () => {
    const page = await api("GET", "/console");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    const html = await page.text();
    expect(html).toContain("/console/app.js");
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const script = await api("GET", "/console/app.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    const etag = script.headers.get("etag") ?? "";
    expect((await api("GET", "/console/app.js", { headers: { "if-none-match": etag } })).status).toBe(304);
    expect((await api("GET", "/console/app.css")).headers.get("content-type")).toMatch(/^text\/css/);
    expect((await api("GET", "/console/other.js")).status).toBe(404);
    expect((await api("GET", "/console/customers/cus_1")).status).toBe(404);
    const head = await api("HEAD", "/console");
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });
});

describe("audit under the operator's name", () => {
  it("a reconcile run an operator starts names them", async () => {
    const started = await adminApi<{ runId: string }>(
      stack,
      "POST",
      "/admin/reconcile",
      { dryRun: true },
      tokens.otto,
    );
    expect(started.status).toBe(202);
    const run = await adminApi<{ requestedBy?: string; trigger: string }>(
      stack,
      "GET",
      `/admin/reconcile/${started.body.runId}`,
      undefined,
      tokens.vera,
    );
    expect(run.body).toMatchObject({ trigger: "admin", requestedBy: "operator:otto" });
  });

  it("a transfer by an operator is audited and announced as operator:<name>", {
    timeout: 90_000,
  }, async () => {
    const { customer } = await purchase(stack, "console-audit");
    const to = uniqueEmail("console-audit-to");
    const moved = await adminApi(
      stack,
      "POST",
      `/admin/customers/${customer.id}/licenses/${CONNECTOR.key}/transfer`,
      { email: to },
      tokens.otto,
    );
    expect(moved.status).toBe(200);
    const view = await eventually(
      async () => {
        const answer = await adminApi<{ audit: { action: string; actor?: string }[] }>(
          stack,
          "GET",
          `/admin/customers/${customer.id}`,
          undefined,
          tokens.vera,
        );
        return answer.body.audit.some((entry) => entry.actor === "operator:otto") && answer.body;
      },
      { what: "an audit entry by operator:otto" },
    );
    const byOtto = view.audit.filter((entry) => entry.actor === "operator:otto").map((entry) => entry.action);
    expect(byOtto.length).toBeGreaterThan(0);
    // The worker's own entries (the purchase) name no person.
    expect(view.audit.some((entry) => entry.actor === undefined)).toBe(true);
  });
});
