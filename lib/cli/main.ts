import { ConfigError, loadConfig } from "#lib/config.ts";
import { parseCommandLine, usage } from "./args.ts";
import { AdminClient } from "./client.ts";
import { type CliOutput, runCommand } from "./commands.ts";
import { CliError, EXIT } from "./errors.ts";

/** `npm start` serves here unless PORT says otherwise (PORT=0 picks a free port: pass --url then). */
const DEFAULT_PORT = 3000;

export interface CliDeps {
  output: CliOutput;
  /** The environment the admin token (ADMIN_TOKEN) and PORT come from, through loadConfig (the process environment by default). */
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
  pollMs?: number;
}

/**
 * The operations CLI (`npx integrator-licensing <command>`): parses the command line, calls the
 * admin API and prints tables (or the API's JSON with `--json`). Returns the exit code
 * (0 ok, 1 API error, 2 usage, 3 authentication, 4 connection); never throws.
 */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const { output } = deps;
  try {
    const { command, global } = parseCommandLine(argv);
    if (command.name === "help") {
      output.out(usage(command.topic));
      return EXIT.ok;
    }
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(deps.env);
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message, EXIT.usage);
      throw error;
    }
    const token = global.token ?? config.secrets.ADMIN_TOKEN;
    if (!token) throw new CliError("no admin token: pass --token or set ADMIN_TOKEN", EXIT.auth);
    const client = new AdminClient({
      baseUrl: global.url ?? `http://127.0.0.1:${config.port || DEFAULT_PORT}`,
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

/** stdout/stderr of this process. */
export function processOutput(): CliOutput {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(text),
    interactive: process.stderr.isTTY === true,
  };
}
