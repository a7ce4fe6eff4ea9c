import { parseArgs } from "node:util";
import { OPERATOR_NAME, ROLES, type Role } from "#lib/access/roles.ts";
import { INBOX_STATUSES, LICENSE_STATES } from "#lib/admin/schemas.ts";
import type { CatalogStripeCommand } from "./catalog-stripe.ts";
import { EXIT_MEANINGS, UsageError } from "./errors.ts";

/** Options every command takes. */
export interface GlobalOptions {
  /** Base URL of the API (a deployed stack's ApiUrl, or `npm start`'s gateway); else INTEGRATOR_LICENSING_URL. */
  url: string | undefined;
  /** A file holding the token (`-`: stdin). Never the token itself: argv is visible to every user (`ps`). */
  tokenFile: string | undefined;
  /** Read the token from stdin. */
  tokenStdin: boolean;
  /** Machine-readable output: the API's JSON on stdout, nothing else. */
  json: boolean;
}

interface Paging {
  limit?: string;
  cursor?: string;
  all: boolean;
}

export type Command =
  | { name: "help"; topic?: string }
  | { name: "version" }
  | { name: "overview" }
  | ({ name: "customers search"; query: string } & Paging)
  | { name: "customers show"; customerId: string }
  | { name: "customers reconcile"; customerId: string; dryRun: boolean }
  | ({ name: "licenses list"; email?: string; connector?: string; state?: string } & Paging)
  | { name: "licenses transfer"; customerId: string; connector: string; email: string }
  | ({ name: "installs list"; connector?: string; email?: string } & Paging)
  | ({ name: "events list"; status?: string; type?: string } & Paging)
  | { name: "events replay"; eventId: string }
  | { name: "reconcile"; dryRun: boolean; wait: boolean }
  | ({ name: "reconcile list" } & Paging)
  | { name: "reconcile show"; runId: string }
  | { name: "dlq list"; limit?: string }
  | { name: "dlq redrive"; wait: boolean }
  | { name: "dlq show"; jobId: string }
  | { name: "catalog show" }
  | CatalogStripeCommand
  | { name: "listings sync" }
  | { name: "billing portal"; customerId: string; returnUrl: string }
  | { name: "operators add"; operator: string; role: Role }
  | { name: "operators list" }
  | { name: "operators revoke"; operator: string };

export type CommandName = Exclude<Command["name"], "help" | "version">;

interface CommandSpec {
  args: string[];
  options: string[];
  /** Options the command cannot do without (shown without brackets in its usage). */
  required?: string[];
  summary: string;
  /**
   * The admin route the command is there for, `METHOD /path` as lib/routes.ts names it (a test
   * checks that every admin route has a command and that each command sends its route). Absent
   * only for a command that does not call this API.
   */
  route?: string;
  /** A command line that works (after `integrator-licensing`), shown in its help. */
  example: string;
}

/** Every command: its positional arguments, the options it takes, one line of help, its route. */
export const COMMANDS: Record<CommandName, CommandSpec> = {
  overview: {
    args: [],
    options: [],
    summary:
      "Licenses by state, events failed in 24 h, the DLQ's depth, the last reconcile run, the integrator.io rate limit",
    route: "GET /admin/overview",
    example: "overview",
  },
  "customers search": {
    args: ["query"],
    options: ["limit", "cursor", "all"],
    summary: "Find customers by email (any case), Stripe customer or subscription id, or license id",
    route: "GET /admin/customers",
    example: "customers search buyer@example.com",
  },
  "customers show": {
    args: ["customerId"],
    options: [],
    summary: "A Stripe customer as the store holds it: subscriptions, licenses, installs, audit trail",
    route: "GET /admin/customers/{customerId}",
    example: "customers show cus_123",
  },
  "customers reconcile": {
    args: ["customerId"],
    options: ["dry-run"],
    summary: "Reconcile one customer now (--dry-run only reports) and print the findings",
    route: "POST /admin/customers/{customerId}/reconcile",
    example: "customers reconcile cus_123 --dry-run",
  },
  "licenses list": {
    args: [],
    options: ["email", "connector", "state", "limit", "cursor", "all"],
    summary: `Stored licenses (--state ${LICENSE_STATES.join("|")}; --all follows every page)`,
    route: "GET /admin/licenses",
    example: "licenses list --state pending_user",
  },
  "licenses transfer": {
    args: ["customerId", "connector", "email"],
    options: [],
    summary: "Move a customer's license of a connector to another integrator.io email",
    route: "POST /admin/customers/{customerId}/licenses/{connector}/transfer",
    example: "licenses transfer cus_123 shopify-netsuite ops@buyer.example",
  },
  "installs list": {
    args: [],
    options: ["connector", "email", "limit", "cursor", "all"],
    summary: "Installs of the connectors, newest first (--connector: catalog key or _connectorId)",
    route: "GET /admin/installs",
    example: "installs list --connector shopify-netsuite",
  },
  "events list": {
    args: [],
    options: ["status", "type", "limit", "cursor", "all"],
    summary: `The webhook inbox (--status ${INBOX_STATUSES.join("|")}, --type customer.subscription.updated)`,
    route: "GET /admin/events",
    example: "events list --status failed",
  },
  "events replay": {
    args: ["eventId"],
    options: [],
    summary: "Queue an inbox event for the worker again",
    route: "POST /admin/events/{eventId}/replay",
    example: "events replay evt_123",
  },
  reconcile: {
    args: [],
    options: ["dry-run", "no-wait"],
    summary: "Run reconcile (--dry-run only reports), show progress, then the drift report",
    route: "POST /admin/reconcile",
    example: "reconcile --dry-run",
  },
  "reconcile list": {
    args: [],
    options: ["limit", "cursor", "all"],
    summary: "Reconcile runs, newest first, with their counts",
    route: "GET /admin/reconcile",
    example: "reconcile list --limit 10",
  },
  "reconcile show": {
    args: ["runId"],
    options: [],
    summary: "A reconcile run's state and drift report",
    route: "GET /admin/reconcile/{runId}",
    example: "reconcile show 20261127T211951Z-a3af1d",
  },
  "dlq list": {
    args: [],
    options: ["limit"],
    summary: "Dead-lettered events with their failure reasons (read without consuming them)",
    route: "GET /admin/dlq",
    example: "dlq list",
  },
  "dlq redrive": {
    args: [],
    options: ["wait"],
    summary:
      "Move every dead letter back to the event queue (a job: prints its id; --wait follows it to the end)",
    route: "POST /admin/dlq/redrive",
    example: "dlq redrive --wait",
  },
  "dlq show": {
    args: ["jobId"],
    options: [],
    summary: "A dead-letter redrive job: its state and the messages moved so far",
    route: "GET /admin/dlq/redrive/{jobId}",
    example: "dlq show 20261127T211951Z-a3af1d",
  },
  "catalog show": {
    args: [],
    options: [],
    summary: "The catalog in force: connectors, editions, add-ons, their prices, the policy",
    route: "GET /admin/catalog",
    example: "catalog show",
  },
  "catalog push-stripe": {
    args: [],
    options: ["catalog", "dry-run"],
    summary:
      "Create the catalog's products and prices in the Stripe account of STRIPE_SECRET_KEY (Stripe directly, not the API); prints the plan first, --dry-run only that",
    example: "catalog push-stripe --catalog local/catalog.json --dry-run",
  },
  "catalog check": {
    args: [],
    options: ["catalog"],
    summary:
      "Name every catalog price the Stripe account of STRIPE_SECRET_KEY lacks or charges differently (exit 1 when any)",
    example: "catalog check --catalog local/catalog.json",
  },
  "listings sync": {
    args: [],
    options: [],
    summary: "Refresh the marketplace listings from integrator.io and Stripe now; report what was left out",
    route: "POST /admin/listings/sync",
    example: "listings sync",
  },
  "billing portal": {
    args: ["customerId"],
    options: ["return-url"],
    required: ["return-url"],
    summary: "A Stripe customer portal session for a customer; prints its URL alone on stdout",
    route: "POST /admin/billing/portal-sessions",
    example: "billing portal cus_123 --return-url https://shop.example.com/account",
  },
  "operators add": {
    args: ["name"],
    options: ["role"],
    required: ["role"],
    summary: `Create a named operator (--role ${ROLES.join("|")}); prints its token, shown only this once`,
    route: "POST /admin/operators",
    example: "operators add ana --role operator",
  },
  "operators list": {
    args: [],
    options: [],
    summary: "The active operators: name, role, when and by whom they were created",
    route: "GET /admin/operators",
    example: "operators list",
  },
  "operators revoke": {
    args: ["name"],
    options: [],
    summary: "Revoke an operator: its token and console sessions stop working within a minute",
    route: "DELETE /admin/operators/{name}",
    example: "operators revoke ana",
  },
};

const GLOBAL_OPTIONS = ["url", "token-file", "token-stdin", "json", "help", "version"];

const OPTION_SPEC = {
  url: { type: "string" },
  "token-file": { type: "string" },
  "token-stdin": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
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
  wait: { type: "boolean" },
  role: { type: "string" },
  "return-url": { type: "string" },
  catalog: { type: "string" },
} as const;

/**
 * `--token` is refused, whatever follows it: a token in argv is visible to every user of the
 * machine (`ps`, /proc) and stays in the shell's history. Checked before parsing, so the message
 * says how to pass it instead, and never repeats the value.
 */
function refuseTokenInArgv(argv: string[]): void {
  const end = argv.indexOf("--");
  for (const arg of end === -1 ? argv : argv.slice(0, end)) {
    if (arg === "--token" || arg.startsWith("--token=")) {
      throw new UsageError(
        "--token is not accepted: a token on the command line is visible to other users (ps) and kept in the shell history. " +
          "Set ADMIN_TOKEN, or pass --token-file PATH, or pipe it with --token-stdin",
      );
    }
  }
}

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
  refuseTokenInArgv(argv);
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
  const global: GlobalOptions = {
    url: values.url,
    tokenFile: values["token-file"],
    tokenStdin: values["token-stdin"] ?? false,
    json: values.json ?? false,
  };
  if (global.tokenFile !== undefined && global.tokenStdin) {
    throw new UsageError("--token-file and --token-stdin do not go together");
  }
  if (global.tokenFile === "") throw new UsageError("--token-file needs a path (or - for stdin)");
  if (values.version && positionals.length === 0) return { command: { name: "version" }, global };
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
  if (values.version) throw new UsageError("--version goes alone: integrator-licensing --version");
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
  const paging = () => ({ ...pick("limit", "cursor"), all: values.all ?? false });
  const dryRun = values["dry-run"] ?? false;
  const command: Command = (() => {
    switch (name) {
      case "dlq redrive":
        return { name, wait: values.wait ?? false };
      case "dlq show":
        return { name, jobId: arg(0) };
      case "overview":
      case "catalog show":
      case "listings sync":
      case "operators list":
        return { name };
      case "customers search":
        return { name, query: arg(0), ...paging() };
      case "customers show":
        return { name, customerId: arg(0) };
      case "customers reconcile":
        return { name, customerId: arg(0), dryRun };
      case "licenses list":
        return { name, ...pick("email", "connector", "state"), ...paging() };
      case "licenses transfer":
        return { name, customerId: arg(0), connector: arg(1), email: arg(2) };
      case "installs list":
        return { name, ...pick("connector", "email"), ...paging() };
      case "events list":
        return { name, ...pick("status", "type"), ...paging() };
      case "events replay":
        return { name, eventId: arg(0) };
      case "reconcile":
        return { name, dryRun, wait: !values["no-wait"] };
      case "reconcile list":
        return { name, ...paging() };
      case "reconcile show":
        return { name, runId: arg(0) };
      case "dlq list":
        return { name, ...pick("limit") };
      case "billing portal":
        return { name, customerId: arg(0), returnUrl: values["return-url"] ?? "" };
      case "catalog push-stripe":
      case "catalog check":
        if (values.catalog === "") throw new UsageError(`${name}: --catalog needs a file`);
        return name === "catalog check" ? { name, ...pick("catalog") } : { name, ...pick("catalog"), dryRun };
      case "operators add":
        return { name, operator: operatorName(arg(0)), role: values.role as Role };
      case "operators revoke":
        return { name, operator: operatorName(arg(0)) };
    }
  })();
  if ("all" in command && command.all && command.cursor) {
    throw new UsageError("--all and --cursor do not go together");
  }
  return { command, global };
}

/** An operator's name as the API accepts it, or a `UsageError` saying what a name may be. */
function operatorName(name: string): string {
  if (!OPERATOR_NAME.test(name)) {
    throw new UsageError(
      `operator name "${name}" is not valid: lower-case letters, digits, "_" and "-", starting with a letter or digit, at most 64 characters`,
    );
  }
  return name;
}

/** Values the API would refuse anyway, refused here with the choices spelled out. */
function checkValues(values: {
  state?: string;
  status?: string;
  limit?: string;
  role?: string;
  "return-url"?: string;
}): void {
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
  const returnUrl = values["return-url"];
  if (returnUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(returnUrl)) {
    throw new UsageError(`--return-url must be an http(s) URL (got ${returnUrl})`);
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
    const spec = COMMANDS[name];
    return [
      `${spec.summary}.`,
      "",
      "Usage:",
      line(name),
      "",
      ...(spec.route ? [`Calls: ${spec.route}`] : []),
      `Example: integrator-licensing ${spec.example}`,
      "",
      GLOBAL_HELP,
    ].join("\n");
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
  "  --url <url>          the API: a deployed stack's ApiUrl (https), or `npm start` on this machine",
  "                       (default: INTEGRATOR_LICENSING_URL, else http://127.0.0.1:$PORT, PORT 3000)",
  "  --token-file <path>  read the token (the admin token or an operator's) from a file; - reads stdin",
  "  --token-stdin        read the token from stdin",
  "  --json               JSON on stdout and nothing else, for scripts",
  "  -h, --help           this help",
  "  -V, --version        the CLI's version",
  "",
  "The token: --token-file or --token-stdin, else ADMIN_TOKEN; never on the command line (argv shows in ps).",
  "For a loopback URL only (localhost, 127.0.0.0/8, [::1]) it falls back to ADMIN_TOKEN in ./.env, then to",
  "the local stack's default. Plain http:// is refused except to loopback.",
  "",
  "Environment: INTEGRATOR_LICENSING_URL (the API), ADMIN_TOKEN (the token), PORT (the local stack's port).",
  "catalog push-stripe and catalog check talk to Stripe instead: STRIPE_SECRET_KEY (the account), STRIPE_API_URL",
  "(default Stripe's API), CATALOG_PATH (the catalog when --catalog is not given; default local/catalog.json).",
  "",
  "Exit codes:",
  ...Object.entries(EXIT_MEANINGS).map(([code, meaning]) => `  ${code}  ${meaning}`),
].join("\n");
