import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig, SECRET_SETTINGS, type SecretSetting } from "../lib/config.ts";
import { parseRatePerIp } from "./edge-waf-stack.ts";
import { parseThrottle, type RouteThrottles, type Throttle } from "./throttles.ts";

/**
 * Deployment settings: one file per environment, `deploy/<env>.json`, chosen with `-c env=<name>`
 * (default `sample`, the environment `npm run synth` and CI build). `-c <setting>=<value>` overrides
 * the file's value. Every value is checked here, at synth, with the checks the functions run at
 * cold start (lib/config.ts's `loadConfig`) where a setting becomes a function setting: a bad value
 * fails `cdk synth` with one line naming the setting, before anything deploys.
 */

/** The environment `cdk synth` uses without `-c env=...`. */
export const DEFAULT_ENVIRONMENT = "sample";
/** Where the environments' files are, relative to the repository root. */
export const SETTINGS_DIR = "deploy";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A setting that is missing or invalid: its message is one line, naming the file and the setting. */
export class SettingsError extends Error {
  override name = "SettingsError";
}

export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

export interface DeploySettings {
  stackName: string;
  stripeLivemode: boolean;
  /** Absolute path of the environment's catalog file. */
  catalogPath: string;
  integratorApiUrl: string;
  stripeApiUrl?: string;
  alarmEmail?: string;
  integratorRateShare?: number;
  integratorBulkShare?: number;
  secretsMaxAgeSeconds?: number;
  logLevel?: LogLevel;
  lambdaStack?: boolean;
  retainData?: boolean;
  workerMaxConcurrency?: number;
  existingSecrets?: Partial<Record<SecretSetting, string>>;
  throttles: Partial<RouteThrottles>;
  edge?: boolean;
  edgeOriginDomain?: string;
  edgeOriginCertificateArn?: string;
  webAclArn?: string;
  edgeRatePerIp?: number;
}

/** A check of one value: its typed value, or the problem (without the setting's name). */
type Check<T> = (value: unknown) => { value: T } | { problem: string };

const ok = <T>(value: T) => ({ value });
const problem = (text: string) => ({ problem: text });
const text = (value: unknown): string | undefined =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;

/** The cold start's own check of `variable` (lib/config.ts): what the functions would reject, synth rejects. */
function coldStartCheck(variable: string, value: string): string | undefined {
  try {
    loadConfig({ [variable]: value });
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.replace(/^Invalid configuration: /, "").replace(`${variable}: `, "");
  }
}

const bool: Check<boolean> = (value) => {
  if (value === true || value === "true") return ok(true);
  if (value === false || value === "false") return ok(false);
  return problem("must be true or false");
};

const nonEmpty: Check<string> = (value) =>
  typeof value === "string" && value.trim() !== "" ? ok(value.trim()) : problem("must be a non-empty string");

/** A URL the functions accept (`variable`'s check), not on this machine: nothing in AWS answers there. */
const apiUrl =
  (variable: string): Check<string> =>
  (value) => {
    const url = text(value);
    if (url === undefined) return problem("must be an http(s) URL");
    const coldStart = coldStartCheck(variable, url);
    if (coldStart !== undefined) return problem(coldStart);
    const host = URL.canParse(url) ? new URL(url).hostname : "";
    if (host === "localhost" || host.startsWith("127.") || host === "[::1]")
      return problem(`${url} is this machine (the local simulators' address): name the real API`);
    return ok(url);
  };

/** A number the functions accept as `variable`. */
const coldStartNumber =
  (variable: string): Check<number> =>
  (value) => {
    const raw = text(value);
    if (raw === undefined || raw.trim() === "") return problem("must be a number");
    const coldStart = coldStartCheck(variable, raw);
    return coldStart === undefined ? ok(Number(raw)) : problem(coldStart);
  };

const logLevel: Check<LogLevel> = (value) => {
  const level = text(value) ?? "";
  const coldStart = coldStartCheck("LOG_LEVEL", level);
  if (coldStart !== undefined || level === "") return problem("must be DEBUG, INFO, WARN or ERROR");
  if (level === "SILENT")
    return problem("SILENT would leave a deployed stack without logs: DEBUG, INFO, WARN or ERROR");
  return ok(level as LogLevel);
};

const catalogPath: Check<string> = (value) => {
  if (typeof value !== "string" || value.trim() === "") return problem("must be a file path");
  const file = isAbsolute(value) ? value : resolve(PROJECT_ROOT, value);
  return existsSync(file) ? ok(file) : problem(`${file} does not exist`);
};

const email: Check<string> = (value) =>
  typeof value === "string" && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)
    ? ok(value)
    : problem("must be an e-mail address");

const stackName: Check<string> = (value) =>
  typeof value === "string" && /^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(value)
    ? ok(value)
    : problem("must be a CloudFormation stack name (a letter, then letters, digits and hyphens)");

// Lambda's maximum concurrency of an SQS event source: 2 to 1000.
const workerConcurrency: Check<number> = (value) => {
  const number = Number(text(value) ?? Number.NaN);
  return Number.isInteger(number) && number >= 2 && number <= 1000
    ? ok(number)
    : problem("must be a whole number from 2 to 1000");
};

const existingSecrets: Check<Partial<Record<SecretSetting, string>>> = (value) => {
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      return problem('must be JSON like {"STRIPE_SECRET_KEY": "<name or ARN>"}');
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return problem('must be an object like {"STRIPE_SECRET_KEY": "<name or ARN>"}');
  for (const [name, id] of Object.entries(parsed)) {
    if (!(SECRET_SETTINGS as readonly string[]).includes(name))
      return problem(`${name} is not a secret (${SECRET_SETTINGS.join(", ")})`);
    if (typeof id !== "string" || id.trim() === "") return problem(`${name} must be a secret's name or ARN`);
  }
  return ok(parsed as Partial<Record<SecretSetting, string>>);
};

/** A check from a parser of this repository that throws `Error("<name>: <problem>")`. */
const fromParser =
  <T>(name: string, parse: (name: string, value: string) => T): Check<T> =>
  (value) => {
    const raw = text(value);
    if (raw === undefined) return problem("must be a string");
    try {
      return ok(parse(name, raw));
    } catch (error) {
      return problem((error as Error).message.replace(`${name}: `, ""));
    }
  };

const ROUTE_CLASSES = ["webhook", "stack", "admin", "public", "default"] as const;
const throttleName = (routeClass: string) => `throttle${routeClass[0]?.toUpperCase()}${routeClass.slice(1)}`;

/** Every setting, its check, and what to say when a required one is missing. */
/** `edgeOnly`: read only with `edge` on (off the edge the setting is unused, so it cannot fail the synth). */
const SETTINGS: Record<string, { check: Check<unknown>; required?: string; edgeOnly?: boolean }> = {
  stackName: { check: stackName },
  stripeLivemode: { check: bool, required: "required (true or false)" },
  catalogPath: {
    check: catalogPath,
    required: "required (the environment's catalog file, e.g. vendor/catalog.json)",
  },
  integratorApiUrl: {
    check: apiUrl("INTEGRATOR_API_URL"),
    required:
      "required (https://api.integrator.io/v1 for US accounts, https://api.eu.integrator.io/v1 for EU)",
  },
  stripeApiUrl: { check: apiUrl("STRIPE_API_URL") },
  alarmEmail: { check: email },
  integratorRateShare: { check: coldStartNumber("INTEGRATOR_RATE_SHARE") },
  integratorBulkShare: { check: coldStartNumber("INTEGRATOR_BULK_SHARE") },
  secretsMaxAgeSeconds: { check: coldStartNumber("SECRETS_MAX_AGE_SECONDS") },
  logLevel: { check: logLevel },
  lambdaStack: { check: bool },
  retainData: { check: bool },
  workerMaxConcurrency: { check: workerConcurrency },
  existingSecrets: { check: existingSecrets },
  ...Object.fromEntries(
    ROUTE_CLASSES.map((routeClass) => {
      const name = throttleName(routeClass);
      return [name, { check: fromParser<Throttle>(name, parseThrottle) }];
    }),
  ),
  edge: { check: bool },
  edgeOriginDomain: { check: nonEmpty, edgeOnly: true },
  edgeOriginCertificateArn: { check: nonEmpty, edgeOnly: true },
  webAclArn: { check: nonEmpty, edgeOnly: true },
  edgeRatePerIp: { check: fromParser("edgeRatePerIp", parseRatePerIp), edgeOnly: true },
};

/** The names of the settings an environment's file may hold and `-c` may override. */
export const SETTING_NAMES = Object.keys(SETTINGS);

/**
 * Checks an environment's settings: `file` is its file's content, `override(name)` a `-c` value
 * (undefined when not given). `source` names the file in messages. Throws `SettingsError` naming
 * every bad setting on one line.
 */
export function parseSettings(
  source: string,
  file: unknown,
  override: (name: string) => unknown = () => undefined,
): DeploySettings {
  if (typeof file !== "object" || file === null || Array.isArray(file))
    throw new SettingsError(`${source}: must be a JSON object of settings`);
  const problems: string[] = [];
  for (const name of Object.keys(file)) {
    if (!(name in SETTINGS)) problems.push(`${name}: not a setting (${SETTING_NAMES.join(", ")})`);
  }
  const values: Record<string, unknown> = {};
  const settingValue = (name: string) => {
    const given = override(name);
    const fromContext = given !== undefined && given !== null && given !== "";
    return { fromContext, value: fromContext ? given : (file as Record<string, unknown>)[name] };
  };
  const edgeOn = bool(settingValue("edge").value);
  for (const [name, { check, required, edgeOnly }] of Object.entries(SETTINGS)) {
    if (edgeOnly && !("value" in edgeOn && edgeOn.value)) continue;
    const { fromContext, value } = settingValue(name);
    if (value === undefined || value === null) {
      if (required) problems.push(`${name}: ${required}`);
      continue;
    }
    const checked = check(value);
    if ("problem" in checked)
      problems.push(`${name}: ${checked.problem}${fromContext ? " (given with -c)" : ""}`);
    else values[name] = checked.value;
  }
  if (problems.length > 0) throw new SettingsError(`${source}: ${problems.join("; ")}`);

  const throttles: Partial<RouteThrottles> = {};
  for (const routeClass of ROUTE_CLASSES) {
    const throttle = values[throttleName(routeClass)] as Throttle | undefined;
    if (throttle !== undefined) throttles[routeClass] = throttle;
  }
  return {
    ...(values as Omit<DeploySettings, "stackName" | "throttles">),
    stackName: (values.stackName as string | undefined) ?? "IntegratorLicensing",
    throttles,
  };
}

/**
 * The settings of environment `env` (default `sample`) from `deploy/<env>.json` under `root`, with
 * `override(name)`'s `-c` values over them.
 */
export function loadSettings(
  env: string | undefined,
  override: (name: string) => unknown = () => undefined,
  root: string = PROJECT_ROOT,
): DeploySettings & { env: string } {
  const name = env ?? DEFAULT_ENVIRONMENT;
  const source = `${SETTINGS_DIR}/${name}.json`;
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name))
    throw new SettingsError(`env: "${name}" is not an environment name (letters, digits, - and _)`);
  const file = resolve(root, source);
  if (!existsSync(file)) {
    const known = existsSync(resolve(root, SETTINGS_DIR))
      ? readdirSync(resolve(root, SETTINGS_DIR))
          .filter((entry) => entry.endsWith(".json"))
          .map((entry) => entry.slice(0, -".json".length))
      : [];
    throw new SettingsError(
      `env: ${source} does not exist (environments: ${known.join(", ") || "none"}): add it, or pick one with -c env=<name>`,
    );
  }
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new SettingsError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  return { ...parseSettings(source, content, override), env: name };
}
