import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_ADMIN_TOKEN } from "#lib/cli/target.ts";
import { CONNECTOR } from "#test/helpers/admin-api.ts";
import { CLI_BUNDLE, type CliRunOptions, runCliBundle } from "#test/helpers/cli-bundle.ts";
import { startTestStack, type TestStack } from "#test/helpers/local-stack.ts";

/**
 * The CLI as it is handed to an operator: dist/integrator-licensing.mjs copied alone into an empty
 * folder and run there with plain `node` — no repository, no node_modules, no tsx, no NODE_PATH —
 * against a stack whose admin token is not the local default.
 */
const ADMIN_TOKEN = "bundle-test-admin-token";

let stack: TestStack;
let folder: string;
let file: string;

beforeAll(async () => {
  [stack, folder] = await Promise.all([
    startTestStack({ ADMIN_TOKEN }),
    mkdtemp(join(tmpdir(), "integrator-licensing-cli-")),
  ]);
  file = join(folder, "integrator-licensing.mjs");
  await copyFile(CLI_BUNDLE, file);
});
afterAll(async () => {
  await stack?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** Only PATH and HOME from this process, and what the test gives (never NODE_PATH or NODE_OPTIONS). */
function cli(args: string[], env: Record<string, string> = {}, options: Omit<CliRunOptions, "env"> = {}) {
  return runCliBundle(args, {
    file,
    cwd: folder,
    env: { PATH: process.env.PATH, HOME: folder, ...env },
    ...options,
  });
}

describe("the bundled CLI, alone in a folder", () => {
  it("is one file that runs with plain node: --version is the package's", async () => {
    expect(await readdir(folder)).toEqual(["integrator-licensing.mjs"]);
    expect((await readFile(file, "utf8")).startsWith("#!/usr/bin/env node\n")).toBe(true);
    const { version } = JSON.parse(
      await readFile(new URL("../../package.json", import.meta.url), "utf8"),
    ) as {
      version: string;
    };
    expect(await cli(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    expect(JSON.parse((await cli(["-V", "--json"])).stdout)).toEqual({ version });
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes:");
  });

  it("drives the stack: the URL from INTEGRATOR_LICENSING_URL, the token from ADMIN_TOKEN", async () => {
    const env = { INTEGRATOR_LICENSING_URL: stack.urls.api, ADMIN_TOKEN };
    const overview = await cli(["overview", "--json"], env);
    expect(overview.stderr).toBe("");
    expect(overview.code).toBe(0);
    expect(JSON.parse(overview.stdout)).toMatchObject({ licenses: { active: expect.any(Number) } });
    const catalog = await cli(["catalog", "show"], env);
    expect(catalog.code).toBe(0);
    expect(catalog.stdout).toMatch(
      new RegExp(`^${CONNECTOR.key}\\s+${CONNECTOR.id}\\s+edition\\s+standard`, "m"),
    );
  });

  it("reads the token from a file, from stdin, or from --token-file -", async () => {
    const env = { INTEGRATOR_LICENSING_URL: stack.urls.api };
    const tokenFile = join(folder, "token");
    await writeFile(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    try {
      for (const [args, input] of [
        [["--token-file", tokenFile], undefined],
        [["--token-stdin"], `${ADMIN_TOKEN}\n`],
        [["--token-file", "-"], ADMIN_TOKEN],
      ] as const) {
        const result = await cli(["dlq", "list", "--json", ...args], env, input ? { input } : {});
        expect(result.stderr, args.join(" ")).toBe("");
        expect(result.code, args.join(" ")).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({ approximateTotal: expect.any(Number) });
      }
    } finally {
      await rm(tokenFile);
    }
    // Without one, a loopback URL gets the local default, which this stack refuses.
    const without = await cli(["dlq", "list"], env);
    expect(without.code).toBe(3);
    expect(without.stderr).toContain("the API refused the admin token (403");
    expect(LOCAL_ADMIN_TOKEN).not.toBe(ADMIN_TOKEN);
  });

  it("refuses --token, saying how to pass the token instead, without repeating it", async () => {
    for (const args of [
      ["dlq", "list", "--token", ADMIN_TOKEN],
      [`--token=${ADMIN_TOKEN}`, "dlq", "list"],
    ]) {
      const result = await cli(args, { INTEGRATOR_LICENSING_URL: stack.urls.api });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(
        "--token is not accepted: a token on the command line is visible to other users (ps)",
      );
      expect(result.stderr).toContain(
        "Set ADMIN_TOKEN, or pass --token-file PATH, or pipe it with --token-stdin",
      );
      expect(result.stderr).not.toContain(ADMIN_TOKEN);
    }
  });

  it("refuses plain http to another host before any request (exit 2)", async () => {
    for (const [args, env] of [
      [["dlq", "list"], { INTEGRATOR_LICENSING_URL: "http://api.example.com", ADMIN_TOKEN }],
      [["dlq", "list", "--url", "http://192.0.2.10:3000"], { ADMIN_TOKEN }],
    ] as const) {
      const result = await cli([...args], env);
      expect(result.code, JSON.stringify(env)).toBe(2);
      expect(result.stderr).toMatch(/plain http to \S+ would send the token unencrypted; use https:\/\//);
    }
  });

  it("has no default token for a host other than this machine (exit 3, nothing sent)", async () => {
    const result = await cli(["dlq", "list"], { INTEGRATOR_LICENSING_URL: "https://api.example.invalid" });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      "no admin token for api.example.invalid: set ADMIN_TOKEN, or pass --token-file PATH or --token-stdin",
    );
  });
});
