import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as adminFunction from "#functions/admin.ts";
import { OPERATOR_CACHE_MS } from "#lib/access/access.ts";
import { loadEnvironment } from "#lib/runtime.ts";
import { startGateway } from "#local/gateway.ts";
import { adminApi, purchase } from "#test/helpers/admin-api.ts";
import { runCliBundle } from "#test/helpers/cli-bundle.ts";
import { startTestStack, type TestStack } from "#test/helpers/local-stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

interface Target {
  token: string;
  url: string;
}

/** The stack's API with `token` (by default the root ADMIN_TOKEN). */
const as = (token = stack.adminToken, url = stack.urls.api): Target => ({ token, url });

/**
 * `integrator-licensing operators ...` as an admin runs it: the package's bin (bundled), in its own
 * process, the API's URL and the token from the environment.
 */
function cli(args: string[], target: Target = as()) {
  return runCliBundle(args, {
    env: { ...process.env, INTEGRATOR_LICENSING_URL: target.url, ADMIN_TOKEN: target.token },
  });
}

/** Creates an operator through the CLI; returns the token it printed. */
async function addOperator(name: string, role: string): Promise<string> {
  const added = await cli(["operators", "add", name, "--role", role]);
  expect(added.stderr).toBe(
    `token for ${name} (${role}): shown once, store it now (the API keeps only its hash)\n`,
  );
  expect(added.code).toBe(0);
  // The token alone on one line: `TOKEN=$(integrator-licensing operators add ...)` captures exactly it.
  expect(added.stdout).toMatch(/^\S+\n$/);
  return added.stdout.trimEnd();
}

async function operatorNames(): Promise<string[]> {
  const list = await adminApi<{ data: { name: string }[] }>(stack, "GET", "/admin/operators");
  expect(list.status).toBe(200);
  return list.body.data.map((operator) => operator.name);
}

/**
 * A cold start of the admin function on the stack's table, behind a gateway of its own: what a
 * new Lambda instance sees. The stack's warm admin function trusts what it read of an operator for
 * up to OPERATOR_CACHE_MS (a revoked token stops working within a minute); a cold one reads the table.
 */
async function coldAdminApi(): Promise<{ url: string; stop: () => Promise<void> }> {
  const handler = adminFunction.makeHandler(await adminFunction.createDeps(await loadEnvironment(stack.env)));
  const { server, port }: { server: Server; port: number } = await startGateway({
    port: 0,
    handlers: { admin: handler },
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("npx integrator-licensing operators", () => {
  it("add prints the token alone (--json: name, role, token); list shows operators, never tokens", {
    timeout: 60_000,
  }, async () => {
    const viewerToken = await addOperator("cli-list-viewer", "viewer");

    const json = await cli(["operators", "add", "cli-list-admin", "--role", "admin", "--json"]);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe("");
    const created = JSON.parse(json.stdout) as Record<string, string>;
    expect(Object.keys(created).sort()).toEqual(["name", "role", "token"]);
    expect(created).toMatchObject({ name: "cli-list-admin", role: "admin" });
    expect(created.token).toMatch(/^\S{32,}$/);
    expect(created.token).not.toBe(viewerToken);

    // The new admin operator manages operators too; the list names who created each one.
    const table = await cli(["operators", "list"], as(created.token));
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME\s+ROLE\s+CREATED\s+CREATED BY$/);
    expect(rows).toContainEqual(
      expect.stringMatching(/^cli-list-admin\s+admin\s+\d{4}-\d\d-\d\d \S+Z\s+root$/),
    );
    expect(rows).toContainEqual(expect.stringMatching(/^cli-list-viewer\s+viewer\s+\S+ \S+Z\s+root$/));

    const listed = await cli(["operators", "list", "--json"]);
    expect(listed.code).toBe(0);
    const body = JSON.parse(listed.stdout) as { data: Record<string, string>[] };
    expect(body.data).toContainEqual({
      name: "cli-list-viewer",
      role: "viewer",
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      createdBy: "root",
    });
    for (const output of [table.stdout, listed.stdout]) {
      expect(output).not.toContain(viewerToken);
      expect(output).not.toContain(created.token);
    }
  });

  it("an operator's token is the CLI's token: a viewer reads, an action needs the operator role", {
    timeout: 90_000,
  }, async () => {
    const { customer } = await purchase(stack, "cli-operators");
    const viewer = await addOperator("cli-viewer", "viewer");
    const operator = await addOperator("cli-operator", "operator");

    const shown = await cli(["customers", "show", customer.id, "--json"], as(viewer));
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ customerId: customer.id });
    const events = await cli(["events", "list", "--json"], as(viewer));
    expect(events.code).toBe(0);
    const eventId = (
      JSON.parse(events.stdout) as { data: { eventId: string; customerId?: string }[] }
    ).data.find((event) => event.customerId === customer.id)?.eventId;
    expect(eventId).toBeDefined();

    for (const action of [
      ["events", "replay", eventId ?? ""],
      ["dlq", "redrive"],
    ]) {
      const refused = await cli(action, as(viewer));
      expect(refused.code, action.join(" ")).toBe(3);
      expect(refused.stdout).toBe("");
      expect(refused.stderr).toContain(
        "the API refused this action (403: This action needs the operator role; operator:cli-viewer has viewer.)",
      );
      expect(refused.stderr).not.toContain(viewer);
    }
    // Managing operators needs admin, which an operator is not.
    const notAdmin = await cli(["operators", "add", "cli-sneaky", "--role", "admin"], as(operator));
    expect(notAdmin.code).toBe(3);
    expect(notAdmin.stderr).toContain(
      "This action needs the admin role; operator:cli-operator has operator.",
    );
    expect(await operatorNames()).not.toContain("cli-sneaky");

    const replayed = await cli(["events", "replay", eventId ?? ""], as(operator));
    expect(replayed.stderr).toBe("");
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain(`Queued ${eventId} again`);
  });

  it("revoke: the operator leaves the list and its token stops working", { timeout: 60_000 }, async () => {
    const token = await addOperator("cli-leaving", "viewer");
    expect((await cli(["dlq", "list"], as(token))).code).toBe(0);

    const revoked = await cli(["operators", "revoke", "cli-leaving"]);
    expect(revoked.stderr).toBe("");
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe(
      "Revoked operator cli-leaving: its token and console sessions stop working within a minute.\n",
    );
    expect(await operatorNames()).not.toContain("cli-leaving");

    // The stack's warm admin function may trust the token it just saw for OPERATOR_CACHE_MS; a
    // cold one (as any instance is within that time) refuses it.
    expect(OPERATOR_CACHE_MS).toBeLessThanOrEqual(60_000);
    const cold = await coldAdminApi();
    try {
      const refused = await cli(["dlq", "list"], as(token, cold.url));
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain("the API refused the admin token (403: Invalid admin token.)");
      expect(refused.stderr).not.toContain(token);
      // The root token still works there: only the revoked operator is refused.
      expect((await cli(["dlq", "list"], as(stack.adminToken, cold.url))).code).toBe(0);
    } finally {
      await cold.stop();
    }

    // A token the warm function never saw is refused there at once; --json says what was revoked.
    const unseen = await addOperator("cli-unseen", "operator");
    const json = await cli(["operators", "revoke", "cli-unseen", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ name: "cli-unseen", revoked: true });
    expect((await cli(["events", "list"], as(unseen))).code).toBe(3);

    // Revoking again (or an unknown name) is the API's 404.
    const again = await cli(["operators", "revoke", "cli-unseen"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("answered 404 not_found: No active operator named cli-unseen.");
  });

  it("argument mistakes exit 2 before any request, and create nothing", async () => {
    const before = await operatorNames();
    for (const [args, message] of [
      [
        ["operators", "add", "cli-bad", "--role", "superuser"],
        "--role must be one of viewer, operator, admin",
      ],
      [["operators", "add", "cli-bad"], "operators add needs --role viewer|operator|admin"],
      [["operators", "add", "--role", "viewer"], "operators add needs <name>"],
      [["operators", "add", "Cli Bad", "--role", "viewer"], 'operator name "Cli Bad" is not valid'],
      [["operators", "revoke"], "operators revoke needs <name>"],
      [["operators", "list", "extra"], "operators list takes no arguments; unexpected: extra"],
    ] as const) {
      // An unreachable URL: a request would exit 4, not 2.
      const result = await cli([...args], as("t", "http://127.0.0.1:9"));
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(`integrator-licensing: ${message}`);
    }
    expect(await operatorNames()).toEqual(before);
  });
});
