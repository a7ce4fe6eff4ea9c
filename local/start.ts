/**
 * `npm start`: the whole backend on this machine. Prints every URL it serves, and a token only
 * while it is the built-in local default; Ctrl-C or SIGTERM stops every child process.
 */
import { LOCAL_DEFAULTS, SECRET_SETTINGS } from "#lib/config.ts";
import { buildConsole } from "../scripts/build-console.ts";
import { buildDocsUi } from "../scripts/build-docs-ui.ts";
import { loadDotEnv } from "./dotenv.ts";
import { startLocalStack } from "./stack.ts";

const started = Date.now();
let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
let stopping = false;

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local stack…`);
  await stack?.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
// A launcher that dies without passing the signal on must not leave the stack running.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown("parent process gone");
}, 1000).unref();

if (loadDotEnv()) console.log("settings from .env (the environment wins over it)");
try {
  // The console and the API reference page are served from what these builds write (dist/console,
  // dist/docs); a fresh clone has neither yet.
  await Promise.all([buildConsole(), buildDocsUi()]);
  stack = await startLocalStack(process.env, { log: (line) => console.log(line) });
} catch (error) {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

const { urls, env } = stack;
const row = (label: string, value: string) => `${label.padEnd(24)}${value}`;
const lines = [
  `integrator-licensing local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  row("  API", urls.api),
  row("    health", `${urls.api}/health`),
  row("    Stripe webhooks", `${urls.api}/webhooks/stripe`),
  row("    integrator.io stack", `${urls.api}/integrator`),
  row("    operator console", `${urls.api}/console`),
  row("    API reference", `${urls.api}/docs`),
  row("  integrator.io API", urls.integrator),
  row("  Stripe API", urls.stripe),
  row("  DynamoDB Local", urls.dynamodb),
  row("  SQS emulator", urls.sqs),
];
const shown = SECRET_SETTINGS.filter((name) => env[name] === LOCAL_DEFAULTS[name]);
if (shown.length > 0) {
  lines.push("  local default tokens (set the variables to replace them):");
  for (const name of shown) lines.push(`    ${name.padEnd(24)} ${LOCAL_DEFAULTS[name]}`);
}
const hidden = SECRET_SETTINGS.filter(
  (name) => env[name] !== undefined && env[name] !== LOCAL_DEFAULTS[name],
);
if (hidden.length > 0) lines.push(`  configured secrets (not shown): ${hidden.join(", ")}`);
lines.push(
  "  console sign-in takes an operator token: npx integrator-licensing operators add <name> --role operator",
);
lines.push("Ctrl-C stops everything.");
console.log(lines.join("\n"));
