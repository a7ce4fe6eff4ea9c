import { resolve } from "node:path";
import Stripe from "stripe";
import { type Catalog, CatalogError } from "#lib/licensing/catalog.ts";
import { loadCatalogFile } from "#lib/licensing/catalog-file.ts";
import {
  applyCatalogPush,
  checkFindings,
  countPlan,
  describeStep,
  type PushPlan,
  planCatalogPush,
  type StripeCatalogApi,
} from "#lib/stripe/catalog-push.ts";
import { stripeEndpoint } from "#lib/stripe/endpoint.ts";
import { CliError, EXIT } from "./errors.ts";

/**
 * `integrator-licensing catalog push-stripe [--dry-run] [--catalog FILE]` and
 * `integrator-licensing catalog check [--catalog FILE]`: the catalog's prices in the Stripe
 * account of `STRIPE_SECRET_KEY`, talked to directly (`STRIPE_API_URL`, default Stripe's API) —
 * not through this project's API. The work is lib/stripe/catalog-push.ts.
 *
 * Exit codes: 0 done (check: Stripe has every price as the catalog says); 1 Stripe refused a call,
 * or a catalog price is missing that push-stripe cannot create (check: any price missing or
 * different); 2 usage or configuration (no key, an unreadable or invalid catalog, plain http to
 * another host); 3 Stripe refused the key; 4 Stripe could not be reached.
 */

export type CatalogStripeCommand =
  | { name: "catalog push-stripe"; catalog?: string; dryRun: boolean }
  | { name: "catalog check"; catalog?: string };

export interface CatalogStripeDeps {
  output: { out(text: string): void; err(text: string): void };
  /** `--json`: one JSON object on stdout (the plan goes to stderr). */
  json: boolean;
  /** Where STRIPE_SECRET_KEY, STRIPE_API_URL and CATALOG_PATH come from (main.ts: the process environment). */
  env: Record<string, string | undefined>;
  /** The Stripe client to use instead of one built from the environment (tests). */
  stripe?: StripeCatalogApi;
}

/** The catalog file when neither `--catalog` nor CATALOG_PATH names one. */
export const DEFAULT_CATALOG_FILE = "local/catalog.json";
/** The key and API of the local Stripe simulator (`npm start`). */
const LOCAL_KEY = "sk_test_local";
const LOCAL_STRIPE_API_URL = "http://127.0.0.1:3200";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** Where to send the key: STRIPE_API_URL, else the simulator for the local key, else Stripe. Plain http only to this machine. */
export function stripeApiUrl(env: Record<string, string | undefined>, key: string): URL {
  const raw = env.STRIPE_API_URL || (key === LOCAL_KEY ? LOCAL_STRIPE_API_URL : "https://api.stripe.com");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`STRIPE_API_URL is not a URL: ${raw}`, EXIT.usage);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    throw new CliError(
      `STRIPE_API_URL ${url.origin}: the secret key goes only over https (plain http to this machine only)`,
      EXIT.usage,
    );
  }
  return url;
}

function stripeFromEnv(env: Record<string, string | undefined>): { stripe: StripeCatalogApi; where: string } {
  const key = env.STRIPE_SECRET_KEY;
  if (!key) throw new CliError("set STRIPE_SECRET_KEY to the key of the Stripe account", EXIT.usage);
  const mode = /^(?:sk|rk)_(test|live)_\S+$/.exec(key)?.[1];
  if (mode === undefined) {
    throw new CliError(
      "STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_… or rk_…)",
      EXIT.usage,
    );
  }
  const url = stripeApiUrl(env, key);
  const stripe = new Stripe(key, {
    ...stripeEndpoint(url),
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
    appInfo: { name: "integrator-licensing" },
  });
  return { stripe, where: `${url.origin} (${mode} mode)` };
}

/** The catalog file, validated; its problems (path first) are a usage error. */
async function loadCatalog(path: string): Promise<Catalog> {
  try {
    return await loadCatalogFile(path);
  } catch (error) {
    if (error instanceof CatalogError) {
      throw new CliError(error.message, EXIT.usage);
    }
    throw error;
  }
}

/** A Stripe failure as the CLI's exit codes say it. */
function stripeFailure(error: unknown, where: string): CliError | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { type, message } = error as { type?: unknown; message?: unknown };
  if (typeof type !== "string" || !type.startsWith("Stripe")) return undefined;
  const text = `Stripe at ${where}: ${typeof message === "string" ? message : type}`;
  if (type === "StripeAuthenticationError" || type === "StripePermissionError")
    return new CliError(text, EXIT.auth);
  if (type === "StripeConnectionError") return new CliError(text, EXIT.connection);
  return new CliError(text, EXIT.api);
}

function printPlan(plan: PushPlan, print: (text: string) => void): void {
  if (plan.steps.length === 0) print("The catalog lists no prices.");
  for (const step of plan.steps) print(`  ${describeStep(step)}`);
}

/** Runs `catalog push-stripe` or `catalog check`; answers the exit code (throws `CliError` for the others). */
export async function runCatalogStripe(
  command: CatalogStripeCommand,
  deps: CatalogStripeDeps,
): Promise<number> {
  const { env } = deps;
  const path = resolve(command.catalog ?? (env.CATALOG_PATH || DEFAULT_CATALOG_FILE));
  const catalog = await loadCatalog(path);
  const { stripe, where } = deps.stripe
    ? { stripe: deps.stripe, where: "the given Stripe client" }
    : stripeFromEnv(env);
  const { out, err } = deps.output;
  // With --json, stdout carries the one JSON answer; what a person reads goes to stderr.
  const say = deps.json ? (text: string) => err(`${text}\n`) : out;
  try {
    const plan = await planCatalogPush(catalog, stripe);
    if (command.name === "catalog check") {
      const findings = checkFindings(plan);
      const checked = plan.steps.filter((step) => step.kind === "price").length;
      if (deps.json) out(JSON.stringify({ checked, missing: findings }));
      else {
        say(`Catalog ${path} against Stripe at ${where}: ${checked} price(s) checked.`);
        if (findings.length === 0) say("Stripe has every catalog price as the catalog says.");
        else {
          say(`${findings.length} catalog price(s) Stripe does not have as the catalog says:`);
          for (const finding of findings) say(`  ${finding.ref} (${finding.owner}): ${finding.problem}`);
        }
      }
      return findings.length === 0 ? EXIT.ok : EXIT.api;
    }

    say(`Plan for Stripe at ${where}, from ${path}:`);
    printPlan(plan, say);
    const planned = countPlan(plan);
    let counts = planned;
    if (command.dryRun) {
      say(
        `Dry run: nothing changed. It would create ${planned.created}, update ${planned.updated}, leave ${planned.unchanged} unchanged.`,
      );
    } else if (planned.created + planned.updated === 0) {
      say("Nothing to change: Stripe already has every price push-stripe can create.");
    } else {
      counts = await applyCatalogPush(plan, stripe);
      say(`Done: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged.`);
    }
    if (deps.json) out(JSON.stringify({ ...counts, dryRun: command.dryRun }));
    if (counts.missing > 0) {
      err(
        `integrator-licensing: ${counts.missing} catalog price(s) are not in Stripe and push-stripe cannot create them (marked missing above): create them in Stripe, or give their lookup key an amount, currency and interval in the catalog.\n`,
      );
      return EXIT.api;
    }
    return EXIT.ok;
  } catch (error) {
    throw stripeFailure(error, where) ?? error;
  }
}
