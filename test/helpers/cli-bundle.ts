import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The CLI as it is handed over: the one-file bundle (vitest's globalSetup builds it, scripts/build-cli.ts). */
export const CLI_BUNDLE = fileURLToPath(new URL("../../dist/integrator-licensing.mjs", import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** The child's whole environment (default: this process's, as a shell would pass it). */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed (default: closed at once). */
  input?: string;
  cwd?: string;
  /** The bundle to run (default: dist/integrator-licensing.mjs). */
  file?: string;
}

/** Runs the bundled CLI with plain `node` in its own process: exit code, stdout, stderr. */
export function runCliBundle(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.file ?? CLI_BUNDLE, ...args], {
      env: options.env ?? process.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}
