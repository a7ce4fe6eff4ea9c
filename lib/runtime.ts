import type { Context } from "aws-lambda";
import { type Config, loadConfig } from "./config.ts";
import { resolveSecrets, type Secrets } from "./secrets.ts";

/** What every function's `createDeps` receives: the validated configuration and the secret values. */
export interface Environment {
  config: Config;
  secrets: Secrets;
}

export async function loadEnvironment(env?: Record<string, string | undefined>): Promise<Environment> {
  const config = loadConfig(env);
  return { config, secrets: await resolveSecrets(config) };
}

/**
 * The exported Lambda `handler` of a function module: configuration, secrets and clients are
 * built once, on the first invocation of a cold start, then reused. Tests and the local stack call
 * `makeHandler(deps)` directly with their own dependencies.
 */
export function lambdaHandler<Deps, Event, Result>(
  createDeps: (environment: Environment) => Deps | Promise<Deps>,
  makeHandler: (deps: Deps) => (event: Event, context: Context) => Promise<Result>,
): (event: Event, context: Context) => Promise<Result> {
  let built: Promise<(event: Event, context: Context) => Promise<Result>> | undefined;
  return async (event, context) => {
    built ??= loadEnvironment().then(async (environment) => makeHandler(await createDeps(environment)));
    try {
      return await (await built)(event, context);
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
