import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminAccess, OPERATOR_CACHE_MS } from "#lib/access/access.ts";
import { Operators } from "#lib/access/operators.ts";
import { SESSION_MS, Sessions } from "#lib/access/sessions.ts";
import { createDocumentClient } from "#lib/aws.ts";
import { Table } from "#lib/store/dynamo.ts";
import { httpEvent } from "#test/helpers/http-events.ts";
import { sharedTable } from "#test/helpers/shared-dynamodb.ts";

/**
 * Operators and sessions on DynamoDB Local with a fake clock: how long a warm function may go on
 * trusting a revoked operator (another function's revocation), and when a session ends.
 */
let table: Awaited<ReturnType<typeof sharedTable>>;
let now = Date.parse("2026-12-04T10:00:00Z");
let store: Table;

beforeAll(async () => {
  table = await sharedTable("operator-access");
  if (!table) throw new Error("needs the run's shared DynamoDB Local");
  store = new Table(
    createDocumentClient({ dynamodbEndpoint: table.endpoint, awsRegion: "us-east-1" }),
    table.tableName,
    () => now,
  );
});
afterAll(() => table?.drop());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const get = httpEvent("GET /admin/events");

describe("operator access", () => {
  it("another function's revocation holds here within the cache's time, never later", async () => {
    const operators = new Operators(store);
    const { token } = await operators.add("cached", "operator", "root");
    const warm = new AdminAccess({ rootToken: "root-token", operators, now: () => now });
    expect((await warm.authenticate(get, bearer(token))).actor).toBe("operator:cached");
    // Revoked by another function: this one still trusts what it read, for less than a minute.
    expect(await new Operators(store).revoke("cached", "root")).toBe(true);
    now += OPERATOR_CACHE_MS - 1;
    expect((await warm.authenticate(get, bearer(token))).actor).toBe("operator:cached");
    now += 2;
    await expect(warm.authenticate(get, bearer(token))).rejects.toMatchObject({ status: 403 });
    expect(OPERATOR_CACHE_MS).toBeLessThanOrEqual(60_000);
  });

  it("compares tokens by hash: a token with the right name and a wrong secret is refused", async () => {
    const operators = new Operators(store);
    const { token } = await operators.add("hashcheck", "viewer", "root");
    const [prefix, name] = token.split(".");
    expect(await operators.authenticate(`${prefix}.${name}.${"A".repeat(43)}`)).toBeUndefined();
    expect(await operators.authenticate(`${token}x`)).toBeUndefined();
    expect((await operators.authenticate(token))?.name).toBe("hashcheck");
  });

  it("a session ends after 8 hours, and at sign-out", async () => {
    const operators = new Operators(store);
    const { operator } = await operators.add("sessioned", "viewer", "root");
    const sessions = new Sessions(store, "session-key");
    const access = new AdminAccess({ rootToken: undefined, operators, sessions, now: () => now });
    const first = await sessions.start(operator);
    const cookie = { cookie: `il_session=${first.cookie}` };
    expect((await access.authenticate(get, cookie)).actor).toBe("operator:sessioned");
    now += SESSION_MS - 1000;
    expect((await access.authenticate(get, cookie)).actor).toBe("operator:sessioned");
    now += 2000;
    await expect(access.authenticate(get, cookie)).rejects.toMatchObject({ status: 401 });

    const second = await sessions.start(operator);
    const found = await sessions.find(second.cookie);
    expect(found?.csrfToken).toBe(second.session.csrfToken);
    await sessions.end(found?.id ?? "");
    expect(await sessions.find(second.cookie)).toBeUndefined();
    // Another key's cookie is never read.
    expect(await new Sessions(store, "other-key").find(second.cookie)).toBeUndefined();
  });

  it("a revoked operator's sessions stay ended when the name is given again, even to a higher role", async () => {
    const operators = new Operators(store);
    const sessions = new Sessions(store, "session-key");
    const { operator } = await operators.add("reissued", "viewer", "root");
    const { cookie } = await sessions.start(operator);
    const header = { cookie: `il_session=${cookie}` };
    // A warm function that read the first operator, and one that never did.
    const warm = new AdminAccess({ rootToken: undefined, operators, sessions, now: () => now });
    expect((await warm.authenticate(get, header)).role).toBe("viewer");
    expect(await operators.revoke("reissued", "root")).toBe(true);
    now += 1;
    const again = await operators.add("reissued", "admin", "root");
    const cold = new AdminAccess({ rootToken: undefined, operators, sessions, now: () => now });
    await expect(cold.authenticate(get, header)).rejects.toMatchObject({ status: 401 });
    now += OPERATOR_CACHE_MS + 1;
    await expect(warm.authenticate(get, header)).rejects.toMatchObject({ status: 401 });
    // The new operator's own session works at once, even where the one before is remembered.
    const second = await sessions.start(again.operator);
    const secondHeader = { cookie: `il_session=${second.cookie}` };
    expect((await warm.authenticate(get, secondHeader)).role).toBe("admin");
    expect(await operators.revoke("reissued", "root")).toBe(true);
    now += 1;
    const third = await operators.add("reissued", "operator", "root");
    const newest = await sessions.start(third.operator);
    expect((await warm.authenticate(get, { cookie: `il_session=${newest.cookie}` })).role).toBe("operator");
    await expect(warm.authenticate(get, secondHeader)).rejects.toMatchObject({ status: 401 });
  });

  it("a cookie-authenticated request whose method is not known needs the CSRF token", async () => {
    const operators = new Operators(store);
    const { operator } = await operators.add("csrfcheck", "operator", "root");
    const sessions = new Sessions(store, "session-key");
    const access = new AdminAccess({ rootToken: undefined, operators, sessions, now: () => now });
    const { cookie, session } = await sessions.start(operator);
    const post = httpEvent("POST /admin/events/{eventId}/replay", { path: "/admin/events/evt_1/replay" });
    // A caller that builds the event without API Gateway's requestContext.http.
    const bare = {
      ...post,
      requestContext: { ...post.requestContext, http: undefined },
    } as unknown as typeof post;
    const headers = { cookie: `il_session=${cookie}` };
    await expect(access.authenticate(bare, headers)).rejects.toMatchObject({
      status: 403,
      code: "csrf_required",
    });
    expect((await access.authenticate(bare, { ...headers, "x-csrf-token": session.csrfToken })).actor).toBe(
      "operator:csrfcheck",
    );
  });

  it("a token not shaped like an operator's is refused without a read", async () => {
    let reads = 0;
    const counting = {
      authenticate: async () => {
        reads += 1;
        return undefined;
      },
      active: async () => undefined,
    } as unknown as Operators;
    const access = new AdminAccess({ rootToken: "root-token", operators: counting, now: () => now });
    for (const junk of [
      "x",
      "ilop..x",
      "ilop.LS0.x",
      `ilop.${Buffer.from("a\u0000b").toString("base64url")}.x`,
    ]) {
      await expect(access.authenticate(get, bearer(junk))).rejects.toMatchObject({ status: 403 });
    }
    expect(reads).toBe(0);
    expect((await access.authenticate(get, bearer("root-token"))).actor).toBe("root");
  });
});
