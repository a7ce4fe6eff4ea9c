import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminApi, CONNECTOR, purchase } from "#test/helpers/admin-api.ts";
import { runCliBundle } from "#test/helpers/cli-bundle.ts";
import { integratorApi, startTestStack, type TestStack } from "#test/helpers/local-stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** The operations CLI as an operator runs it (the package's bin, bundled), with the stack's ADMIN_TOKEN unless `env` says otherwise. */
function cli(args: string[], env: Record<string, string> = {}) {
  return runCliBundle(args, { env: { ...process.env, ADMIN_TOKEN: stack.adminToken, ...env } });
}

const against = () => ["--url", stack.urls.api];

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("npx integrator-licensing", () => {
  it("licenses list: a table of the stored licenses, or the API's JSON", { timeout: 90_000 }, async () => {
    const { email, customer, license } = await purchase(stack, "cli-list");
    // Without a state the list is a scan, one bounded page at a time: --all follows the cursor.
    const human = await cli(["licenses", "list", "--email", email, "--all", ...against()]);
    expect(human.stderr).toBe("");
    expect(human.code).toBe(0);
    const [header, row, ...rest] = human.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^CUSTOMER\s+CONNECTOR\s+EMAIL\s+STATE\s+EDITION\s+EXPIRES\s+LICENSE/);
    expect(row).toMatch(
      new RegExp(
        `^${customer.id}\\s+${CONNECTOR.key}\\s+${email}\\s+active\\s+standard\\s+\\S+ \\S+\\s+${license?._id}`,
      ),
    );
    expect(rest).toEqual([]);

    // The URL from the environment, JSON for scripts.
    const json = await cli(["licenses", "list", "--state", "active", "--json"], {
      INTEGRATOR_LICENSING_URL: stack.urls.api,
    });
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { data: { customerId: string; licenseId: string }[] };
    expect(body.data).toContainEqual(
      expect.objectContaining({ customerId: customer.id, licenseId: license?._id }),
    );
  });

  it("reconcile --dry-run --json: progress on stderr, the finished report on stdout", {
    timeout: 90_000,
  }, async () => {
    const { email, customer, license } = await purchase(stack, "cli-drift");
    // Drift: the license disappears from integrator.io.
    const deleted = await integratorApi(
      stack,
      "DELETE",
      `/connectors/${CONNECTOR.id}/licenses/${license?._id}`,
    );
    expect(deleted.status).toBe(204);

    const run = await cli(["reconcile", "--dry-run", "--json", ...against()]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      runId: string;
      state: string;
      dryRun: boolean;
      counts: Record<string, number>;
      items: { kind: string; customerId: string }[];
    };
    expect(report).toMatchObject({ state: "done", dryRun: true });
    expect(report.counts.missing).toBeGreaterThanOrEqual(1);
    expect(report.items).toContainEqual(
      expect.objectContaining({ kind: "missing", customerId: customer.id }),
    );
    expect(run.stderr).toMatch(new RegExp(`reconcile ${report.runId}: done, \\d+ license\\(s\\) checked`));
    // A dry run changed nothing: the license is still missing.
    const after = await adminApi<{ counts: Record<string, number> }>(
      stack,
      "GET",
      `/admin/reconcile/${report.runId}`,
    );
    expect(after.body.counts).toEqual(report.counts);
    const shown = await cli(["reconcile", "show", report.runId, ...against()]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Reconcile ${report.runId} (dry run: nothing was changed, admin): done`);
    expect(shown.stdout).toMatch(new RegExp(`missing\\s+${customer.id}\\s+${CONNECTOR.key}`));

    // The run is listed; the customer is found by email and reconciled alone (a dry run again).
    const runs = await cli(["reconcile", "list", "--json", ...against()]);
    expect(runs.code).toBe(0);
    expect((JSON.parse(runs.stdout) as { data: { runId: string }[] }).data.map((r) => r.runId)).toContain(
      report.runId,
    );
    const found = await cli(["customers", "search", email.toUpperCase(), ...against()]);
    expect(found.code).toBe(0);
    expect(found.stdout).toMatch(new RegExp(`^${customer.id}\\s+${email}\\s+email\\s+sub_`, "m"));
    const one = await cli(["customers", "reconcile", customer.id, "--dry-run", ...against()]);
    expect(one.stderr).toBe("");
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(
      new RegExp(`^Reconciled ${customer.id} \\(dry run: nothing was changed\\): 1 finding`),
    );
    expect(one.stdout).toMatch(new RegExp(`^missing\\s+${CONNECTOR.key}\\s`, "m"));
  });

  it("installs list, listings sync, billing portal", async () => {
    const installs = await cli(["installs", "list", "--json", ...against()]);
    expect(installs.code).toBe(0);
    expect(JSON.parse(installs.stdout)).toMatchObject({ data: expect.any(Array) });

    const synced = await cli(["listings", "sync", ...against()]);
    expect(synced.stderr).toBe("");
    expect(synced.code).toBe(0);
    expect(synced.stdout).toMatch(/^Listings synced \S+ \S+: 1 connector\(s\), \d+ template\(s\) served/);

    // The portal's URL alone on stdout, for `open "$(...)"`.
    const customer = await stack.stripe.customers.create({ email: "cli-portal@example.com" });
    const portal = await cli([
      "billing",
      "portal",
      customer.id,
      "--return-url",
      "http://localhost:3000/account",
      ...against(),
    ]);
    expect(portal.stderr).toBe("");
    expect(portal.code).toBe(0);
    expect(portal.stdout).toMatch(/^https?:\/\/\S+\n$/);
  });

  it("a wrong token exits 3 and says so", async () => {
    const result = await cli(["dlq", "list", ...against()], { ADMIN_TOKEN: "not-the-admin-token" });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("the API refused the admin token (403");
    expect(result.stderr).not.toContain("not-the-admin-token");
  });

  it("an API error exits 1 with the API's code and message", async () => {
    const result = await cli(["events", "replay", "evt_does_not_exist", ...against()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("answered 404 not_found: No event evt_does_not_exist in the inbox.");
  });

  it("nothing listening exits 4 with the URL it tried", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await cli(["licenses", "list", "--url", url]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`cannot reach the API at ${url} (connection refused)`);
  });

  it("a usage mistake exits 2 before calling anything", async () => {
    const result = await cli(["licenses", "transfer", "cus_1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("licenses transfer needs <customerId> <connector> <email>");
  });
});
