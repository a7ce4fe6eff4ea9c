import { parseArgs } from "node:util";
import { OPERATOR_NAME, ROLES, type Role } from "#lib/access/roles.ts";
import { INBOX_STATUSES, LICENSE_STATES } from "#lib/admin/schemas.ts";
import { UsageError } from "./errors.ts";

/** Options every command takes. */
export interface GlobalOptions {
  /** Base URL of the API (`npm start`'s gateway, or a deployed stack's ApiUrl). */
  url: string | undefined;
  token: string | undefined;
  /** Machine-readable output: the API's JSON on stdout, nothing else. */
  json: boolean;
}

export type Command =
  | { name: "help"; topic?: string }
  | { name: "customers show"; customerId: string }
  | {
      name: "licenses list";
      email?: string;
      connector?: string;
      state?: string;
      limit?: string;
      cursor?: string;
      all: boolean;
    }
  | { name: "licenses transfer"; customerId: string; connector: string; email: string }
  | { name: "events list"; status?: string; type?: string; limit?: string; cursor?: string; all: boolean }
  | { name: "events replay"; eventId: string }
  | { name: "reconcile"; dryRun: boolean; wait: boolean }
  | { name: "reconcile show"; runId: string }
  | { name: "dlq list"; limit?: string }
  | { name: "dlq redrive" }
  | { name: "operators add"; operator: string; role: Role }
  | { name: "operators list" }
  | { name: "operators revoke"; operator: string };

export type CommandName = Exclude<Command["name"], "help">;

interface CommandSpec {
  args: string[];
  options: string[];
  /** Options the command cannot do without (shown without brackets in its usage). */
  required?: string[];
  summary: string;
}

/** Every command: its positional arguments, the options it takes, one line of help. */
export const COMMANDS: Record<CommandName, CommandSpec> = {
  "customers show": {
    args: ["customerId"],
    options: [],
    summary: "A Stripe customer as the store holds it: subscriptions, licenses, installs, audit trail",
  },
  "licenses list": {
    args: [],
    options: ["email", "connector", "state", "limit", "cursor", "all"],
    summary: `Stored licenses (--state ${LICENSE_STATES.join("|")}; --all follows every page)`,
  },
  "licenses transfer": {
    args: ["customerId", "connector", "email"],
    options: [],
    summary: "Move a customer's license of a connector to another integrator.io email",
  },
  "events list": {
    args: [],
    options: ["status", "type", "limit", "cursor", "all"],
    summary: `The webhook inbox (--status ${INBOX_STATUSES.join("|")}, --type customer.subscription.updated)`,
  },
  "events replay": {
    args: ["eventId"],
    options: [],
    summary: "Queue an inbox event for the worker again",
  },
  reconcile: {
    args: [],
    options: ["dry-run", "no-wait"],
    summary: "Run reconcile (--dry-run only reports), show progress, then the drift report",
  },
  "reconcile show": {
    args: ["runId"],
    options: [],
    summary: "A reconcile run's state and drift report",
  },
  "dlq list": {
    args: [],
    options: ["limit"],
    summary: "Dead-lettered events with their failure reasons (read without consuming them)",
  },
  "dlq redrive": {
    args: [],
    options: [],
    summary: "Move every dead letter back to the event queue",
  },
  "operators add": {
    args: ["name"],
    options: ["role"],
    required: ["role"],
    summary: `Create a named operator (--role ${ROLES.join("|")}); prints its token, shown only this once`,
  },
  "operators list": {
    args: [],
    options: [],
    summary: "The active operators: name, role, when and by whom they were created",
  },
  "operators revoke": {
    args: ["name"],
    options: [],
    summary: "Revoke an operator: its token and console sessions stop working within a minute",
  },
};

const GLOBAL_OPTIONS = ["url", "token", "json", "help"];

const OPTION_SPEC = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  email: { type: "string" },
  connector: { type: "string" },
  state: { type: "string" },
  status: { type: "string" },
  type: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  all: { type: "boolean" },
  "dry-run": { type: "boolean" },
  "no-wait": { type: "boolean" },
  role: { type: "string" },
} as const;

/** The command a list of positionals names: two words (`licenses list`) before one (`reconcile`). */
function findCommand(positionals: string[]): { name: CommandName; rest: string[] } | undefined {
  const two = `${positionals[0]} ${positionals[1]}`;
  if (two in COMMANDS) return { name: two as CommandName, rest: positionals.slice(2) };
  const one = positionals[0] ?? "";
  if (one in COMMANDS) return { name: one as CommandName, rest: positionals.slice(1) };
  return undefined;
}

/**
 * Parses the command line (without `node` and the script) into a command and the global options.
 * Anything wrong — an unknown command or option, a missing argument, a bad value — is a `UsageError`.
 *
 * @example parseCommandLine(["licenses", "list", "--state", "active", "--json"])
 * // { command: { name: "licenses list", state: "active", all: false }, global: { json: true, ... } }
 */
export function parseCommandLine(argv: string[]): { command: Command; global: GlobalOptions } {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTION_SPEC; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTION_SPEC, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const option = error instanceof Error ? /'(-[^' ]+)/.exec(error.message)?.[1] : undefined;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) throw new UsageError(`unknown option ${option}`);
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const global: GlobalOptions = { url: values.url, token: values.token, json: values.json ?? false };
  if (global.url !== undefined && !/^https?:\/\/[^\s/]+/.test(global.url)) {
    throw new UsageError(`--url must be an http(s) URL, e.g. http://127.0.0.1:3000 (got ${global.url})`);
  }
  if (positionals.length === 0 || positionals[0] === "help") {
    const topic = positionals.slice(positionals[0] === "help" ? 1 : 0).join(" ");
    return { command: { name: "help", ...(topic ? { topic } : {}) }, global };
  }
  const found = findCommand(positionals);
  if (!found) {
    const group = Object.keys(COMMANDS).filter((name) => name.split(" ")[0] === positionals[0]);
    throw new UsageError(
      group.length > 0
        ? `unknown command "${positionals.join(" ")}"; ${positionals[0]} has: ${group.join(", ")}`
        : `unknown command "${positionals.join(" ")}"`,
    );
  }
  const { name, rest } = found;
  if (values.help) return { command: { name: "help", topic: name }, global };
  const spec = COMMANDS[name];
  for (const option of Object.keys(values)) {
    if (!GLOBAL_OPTIONS.includes(option) && !spec.options.includes(option)) {
      throw new UsageError(`${name} does not take --${option}`);
    }
  }
  if (rest.length !== spec.args.length) {
    const expected = spec.args.map((arg) => `<${arg}>`).join(" ");
    throw new UsageError(
      rest.length < spec.args.length
        ? `${name} needs ${expected}`
        : `${name} takes ${expected || "no arguments"}; unexpected: ${rest.slice(spec.args.length).join(" ")}`,
    );
  }
  for (const arg of rest) if (!arg.trim()) throw new UsageError(`${name}: an argument is empty`);
  for (const option of spec.required ?? []) {
    if (values[option as keyof typeof values] === undefined) {
      throw new UsageError(`${name} needs ${optionUsage(option)}`);
    }
  }
  checkValues(values);
  const arg = (i: number) => rest[i] ?? "";
  const pick = (...keys: (keyof typeof values)[]) =>
    Object.fromEntries(keys.filter((key) => values[key] !== undefined).map((key) => [key, values[key]]));
  const command: Command = (() => {
    switch (name) {
      case "customers show":
        return { name, customerId: arg(0) };
      case "licenses list":
        return { name, ...pick("email", "connector", "state", "limit", "cursor"), all: values.all ?? false };
      case "licenses transfer":
        return { name, customerId: arg(0), connector: arg(1), email: arg(2) };
      case "events list":
        return { name, ...pick("status", "type", "limit", "cursor"), all: values.all ?? false };
      case "events replay":
        return { name, eventId: arg(0) };
      case "reconcile":
        return { name, dryRun: values["dry-run"] ?? false, wait: !values["no-wait"] };
      case "reconcile show":
        return { name, runId: arg(0) };
      case "dlq list":
        return { name, ...pick("limit") };
      case "dlq redrive":
      case "operators list":
        return { name };
      case "operators add":
        return { name, operator: operatorName(arg(0)), role: values.role as Role };
      case "operators revoke":
        return { name, operator: operatorName(arg(0)) };
    }
  })();
  if (command.name === "licenses list" || command.name === "events list") {
    if (command.all && command.cursor) throw new UsageError("--all and --cursor do not go together");
  }
  return { command, global };
}

/** An operator's name as the API accepts it, or a `UsageError` saying what a name may be. */
function operatorName(name: string): string {
  if (!OPERATOR_NAME.test(name)) {
    throw new UsageError(
      `operator name "${name}" is not valid: lower-case letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64 characters`,
    );
  }
  return name;
}

/** Values the API would refuse anyway, refused here with the choices spelled out. */
function checkValues(values: { state?: string; status?: string; limit?: string; role?: string }): void {
  if (values.role !== undefined && !(ROLES as readonly string[]).includes(values.role)) {
    throw new UsageError(`--role must be one of ${ROLES.join(", ")}`);
  }
  if (values.state !== undefined && !(LICENSE_STATES as readonly string[]).includes(values.state)) {
    throw new UsageError(`--state must be one of ${LICENSE_STATES.join(", ")}`);
  }
  if (values.status !== undefined && !(INBOX_STATUSES as readonly string[]).includes(values.status)) {
    throw new UsageError(`--status must be one of ${INBOX_STATUSES.join(", ")}`);
  }
  if (values.limit !== undefined && !/^(100|[1-9][0-9]?)$/.test(values.limit)) {
    throw new UsageError("--limit must be a whole number from 1 to 100");
  }
}

/** The help text: every command, or one command's usage. */
export function usage(topic?: string): string {
  const line = (name: CommandName) => {
    const spec = COMMANDS[name];
    const args = spec.args.map((arg) => ` <${arg}>`).join("");
    const options = spec.options.map((option) =>
      spec.required?.includes(option) ? ` ${optionUsage(option)}` : ` [${optionUsage(option)}]`,
    );
    return `  ${name}${args}${options.join("")}`;
  };
  if (topic && topic in COMMANDS) {
    const name = topic as CommandName;
    return `${COMMANDS[name].summary}.\n\nUsage:\n${line(name)}\n\n${GLOBAL_HELP}`;
  }
  const names = Object.keys(COMMANDS) as CommandName[];
  const width = Math.max(...names.map((name) => name.length));
  return [
    "integrator-licensing — operate the licensing backend through its admin API.",
    "",
    "Usage: integrator-licensing <command> [options]",
    "",
    "Commands:",
    ...names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name].summary}`),
    "",
    GLOBAL_HELP,
    "",
    "Run `integrator-licensing <command> --help` for a command's arguments.",
  ].join("\n");
}

const isFlag = (option: string) =>
  (OPTION_SPEC as Record<string, { type: string }>)[option]?.type === "boolean";

/** The values a required option takes, spelled out in its usage. */
const OPTION_CHOICES: Record<string, readonly string[]> = { role: ROLES };

/** `--all`, `--limit <limit>`, `--role viewer|operator|admin`. */
function optionUsage(option: string): string {
  if (isFlag(option)) return `--${option}`;
  const choices = OPTION_CHOICES[option];
  return `--${option} ${choices ? choices.join("|") : `<${option}>`}`;
}

const GLOBAL_HELP = [
  "Options of every command:",
  "  --url <url>      the API (default http://127.0.0.1:$PORT, i.e. `npm start`; a deployed stack: its ApiUrl)",
  "  --token <token>  the admin token or an operator's token (default: ADMIN_TOKEN from the environment, else the local default)",
  "  --json           the API's JSON on stdout, for scripts",
  "  -h, --help       this help",
  "",
  "Exit codes: 0 ok, 1 the API refused or failed, 2 usage, 3 authentication, 4 cannot reach the API.",
].join("\n");
