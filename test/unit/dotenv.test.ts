import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadDotEnv } from "#local/dotenv.ts";

const names = ["DOTENV_TEST_FROM_FILE", "DOTENV_TEST_SET_BEFORE"];
afterEach(() => {
  for (const name of names) delete process.env[name];
});

describe("loadDotEnv", () => {
  it("reads a .env file into the environment, the environment winning", () => {
    const path = join(mkdtempSync(join(tmpdir(), "dotenv-")), ".env");
    writeFileSync(path, "# a comment\nDOTENV_TEST_FROM_FILE=from-file\nDOTENV_TEST_SET_BEFORE=from-file\n");
    process.env.DOTENV_TEST_SET_BEFORE = "from-environment";
    expect(loadDotEnv(path)).toBe(true);
    expect(process.env.DOTENV_TEST_FROM_FILE).toBe("from-file");
    expect(process.env.DOTENV_TEST_SET_BEFORE).toBe("from-environment");
  });

  it("does nothing without a file", () => {
    expect(loadDotEnv(join(tmpdir(), "no-such-dir-for-dotenv", ".env"))).toBe(false);
    expect(process.env.DOTENV_TEST_FROM_FILE).toBeUndefined();
  });
});
