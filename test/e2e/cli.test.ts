import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminApi, CONNECTOR, purchase } from "#test/helpers/admin-api.ts";
import { integratorApi, startTestStack, type TestStack } from "#test/helpers/local-stack.ts";

/** The operations CLI as an operator runs it: the package's bin, in its own process. */
const BIN = fileURLToPath(new URL("../../bin/integrator-licensing.mjs", import.meta.url));

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

function cli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const against = () => ["--url", stack.urls.api, "--token", stack.adminToken];

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

    // ADMIN_TOKEN from the environment, JSON for scripts.
    const json = await cli(["licenses", "list", "--state", "active", "--json", "--url", stack.urls.api], {
      ADMIN_TOKEN: stack.adminToken,
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
    const { customer, license } = await purchase(stack, "cli-drift");
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
  });

  it("a wrong token exits 3 and says so", async () => {
    const result = await cli(["dlq", "list", "--url", stack.urls.api, "--token", "not-the-admin-token"]);
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
    const result = await cli(["licenses", "list", "--url", url, "--token", "t"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`cannot reach the API at ${url} (connection refused)`);
  });

  it("a usage mistake exits 2 before calling anything", async () => {
    const result = await cli(["licenses", "transfer", "cus_1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("licenses transfer needs <customerId> <connector> <email>");
  });
});
