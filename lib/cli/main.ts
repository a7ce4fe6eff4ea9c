import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parseEnv } from "node:util";
import { parseCommandLine, usage } from "./args.ts";
import { runCatalogStripe } from "./catalog-stripe.ts";
import { AdminClient } from "./client.ts";
import { type CliOutput, runCommand } from "./commands.ts";
import { CliError, EXIT } from "./errors.ts";
import { resolveToken, resolveUrl, type TargetSources } from "./target.ts";

/** Where the URL and token come from besides argv (each replaceable, for tests). */
export interface CliDeps extends Partial<Omit<TargetSources, "env">> {
  output: CliOutput;
  /** The process environment (lib/cli/bin.ts passes `process.env`). */
  env: TargetSources["env"];
  /** What `--version` prints (the package's version, baked in by scripts/build-cli.ts). */
  version: string;
  fetch?: typeof fetch;
  pollMs?: number;
}

/**
 * The operations CLI (`integrator-licensing <command>`): parses the command line, finds the API
 * (`--url`, INTEGRATOR_LICENSING_URL, else `npm start` here) and the token (`--token-file`,
 * `--token-stdin`, ADMIN_TOKEN; a local default for loopback only), calls the admin API and prints
 * tables (or the API's JSON with `--json`). Returns the exit code (0 ok, 1 API error, 2 usage or
 * configuration, 3 authentication, 4 connection); never throws.
 */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const { output } = deps;
  try {
    const { command, global } = parseCommandLine(argv);
    if (command.name === "help") {
      output.out(usage(command.topic));
      return EXIT.ok;
    }
    if (command.name === "version") {
      output.out(global.json ? JSON.stringify({ version: deps.version }) : deps.version);
      return EXIT.ok;
    }
    // These talk to Stripe with STRIPE_SECRET_KEY, not to this API: no URL, no token.
    if (command.name === "catalog push-stripe" || command.name === "catalog check") {
      return await runCatalogStripe(command, { output, json: global.json, env: deps.env });
    }
    const sources: TargetSources = {
      env: deps.env,
      localEnv: deps.localEnv ?? dotEnv,
      readFile: deps.readFile ?? ((path) => readFile(path, "utf8")),
      readStdin: deps.readStdin ?? readStdin,
    };
    const url = resolveUrl(global, sources);
    const token = await resolveToken(global, url, sources);
    const client = new AdminClient({
      baseUrl: url.href,
      token,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    return await runCommand(command, {
      client,
      output,
      json: global.json,
      ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
    });
  } catch (error) {
    if (error instanceof CliError) {
      output.err(`integrator-licensing: ${error.message}\n`);
      if (error.exitCode === EXIT.usage) output.err("Run `integrator-licensing --help` for the commands.\n");
      return error.exitCode;
    }
    output.err(
      `integrator-licensing: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return EXIT.api;
  }
}

/** `./.env`, the local stack's settings as `npm start` reads them (nothing when there is none). */
function dotEnv(): Record<string, string | undefined> {
  return existsSync(".env") ? parseEnv(readFileSync(".env", "utf8")) : {};
}

/** All of stdin (a terminal gets a prompt on stderr: paste the token, then Ctrl-D). */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write("token (then Enter and Ctrl-D): ");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** stdout/stderr of this process. */
export function processOutput(): CliOutput {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(text),
    interactive: process.stderr.isTTY === true,
  };
}
