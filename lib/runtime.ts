import type { Context } from "aws-lambda";
import { type Config, loadConfig } from "./config.ts";
import { SecretSource } from "./secrets.ts";

/** What every function's `createDeps` receives: the validated configuration and its secrets. */
export interface Environment {
  config: Config;
  secrets: SecretSource;
}

/** The configuration of `env` (by default the process environment) and its secrets, each read once. */
export async function loadEnvironment(env?: Record<string, string | undefined>): Promise<Environment> {
  const config = loadConfig(env);
  const secrets = new SecretSource(config);
  await secrets.refresh();
  return { config, secrets };
}

/**
 * The exported Lambda `handler` of a function module: configuration, secrets and clients are
 * built once, on the first invocation of a cold start, then reused; the secrets are read again
 * before every invocation (`SecretSource.refresh`: a cache hit until `SECRETS_MAX_AGE_SECONDS` have
 * passed), so a rotated or revoked secret takes effect on warm functions too. Tests and the local
 * stack call `makeHandler(deps)` directly with their own dependencies.
 */
export function lambdaHandler<Deps, Event, Result>(
  createDeps: (environment: Environment) => Deps | Promise<Deps>,
  makeHandler: (deps: Deps) => (event: Event, context: Context) => Promise<Result>,
): (event: Event, context: Context) => Promise<Result> {
  type Built = { secrets: SecretSource; handle: (event: Event, context: Context) => Promise<Result> };
  let built: Promise<Built> | undefined;
  return async (event, context) => {
    built ??= loadEnvironment().then(async (environment) => ({
      secrets: environment.secrets,
      handle: makeHandler(await createDeps(environment)),
    }));
    try {
      const { secrets, handle } = await built;
      await secrets.refresh();
      return await handle(event, context);
    } catch (error) {
      // A failed cold start (a secret unreachable, say) must not stick: the next invocation retries it.
      if (
        await built.then(
          () => false,
          () => true,
        )
      )
        built = undefined;
      throw error;
    }
  };
}
