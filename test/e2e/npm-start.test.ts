import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/** Every descendant of `pid` (children, grandchildren…), from `ps`. */
function descendants(pid: number): number[] {
  const table = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of table) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.pid && alive(child.pid)) child.kill("SIGKILL");
});

/** `npm start` with these settings, on free ports: the process, what it printed, and its /health URL. */
async function npmStart(env: Record<string, string>) {
  const child = spawn("npm", ["start"], {
    env: {
      ...process.env,
      PORT: "0",
      INTEGRATOR_API_URL: "http://127.0.0.1:0/v1",
      STRIPE_API_URL: "http://127.0.0.1:0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const printed = { text: "" };
  child.stdout?.on("data", (chunk: Buffer) => {
    printed.text += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    printed.text += chunk.toString();
  });
  const healthUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 30 s:\n${printed.text}`)), 30_000);
    const poll = setInterval(() => {
      const match = /health\s+(http:\/\/127\.0\.0\.1:\d+\/health)/.exec(printed.text);
      if (match?.[1]) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(match[1]);
      }
    }, 100);
  });
  return { child, printed, healthUrl };
}

describe("npm start", () => {
  it("serves /health with every check ok, prints its URLs and tokens, and leaves no process behind on SIGTERM", async () => {
    const { child, printed, healthUrl } = await npmStart({ ADMIN_TOKEN: "configured-admin-token-e2e" });
    const output = () => printed.text;
    const response = await fetch(healthUrl);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", checks: { dynamodb: "ok", queue: "ok" } });
    // A token is printed only while it is the built-in default; a configured one never.
    expect(output()).toContain("local-system-token");
    expect(output()).not.toContain("configured-admin-token-e2e");
    expect(output()).toMatch(/configured secrets \(not shown\): ADMIN_TOKEN/);

    const pid = child.pid ?? 0;
    const spawned = descendants(pid);
    expect(spawned.length).toBeGreaterThan(1); // node, java, worker processes
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    child.kill("SIGTERM");
    // npm passes the signal on and then ends by it; the stack itself exits 0.
    const { code, signal } = await exited;
    expect(code === 0 || signal === "SIGTERM").toBe(true);
    const deadline = Date.now() + 10_000;
    while (spawned.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(spawned.filter(alive)).toEqual([]);
    expect(output()).toContain("stopping the local stack");
  }, 60_000);

  it("starts healthy on a vendor's own catalog without the example connector, skipping its module with one warning", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vendor-catalog-"));
    const catalogPath = join(dir, "catalog.json");
    writeFileSync(
      catalogPath,
      JSON.stringify({
        connectors: [
          {
            key: "acme-erp",
            connectorId: "0123456789abcdef01234567",
            name: "Acme ERP",
            editions: [{ key: "basic", prices: ["price_acme_basic"] }],
          },
        ],
        policy: { renewalBufferDays: 3, pastDueGraceDays: 14, onEnd: "expire" },
      }),
    );
    try {
      const { child, printed, healthUrl } = await npmStart({ CATALOG_PATH: catalogPath });
      const response = await fetch(healthUrl);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: "ok", checks: { dynamodb: "ok", queue: "ok" } });
      const listings = await fetch(healthUrl.replace(/\/health$/, "/marketplace/connectors"));
      expect(listings.status).toBe(200);
      const body = (await listings.json()) as { data: { key: string }[] };
      expect(body.data.map((connector) => connector.key)).toEqual(["acme-erp"]);
      const warnings = printed.text.split("\n").filter((line) => line.includes("connector modules skipped"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("shopify-netsuite");
      expect(printed.text).not.toContain("npm start failed");
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
