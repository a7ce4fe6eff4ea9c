import { type Config, notConfiguredReason, SECRET_SETTINGS, type SecretSetting } from "./config.ts";
import { HttpError } from "./http/errors.ts";

type SecretsConfig = Pick<
  Config,
  "secrets" | "secretIds" | "secretsMaxAgeSeconds" | "secretsManagerEndpoint" | "awsRegion"
>;

/** Runs on each new value of a secret before anyone uses it; a throw refuses the value. */
export type SecretCheck = (value: string) => void;

/**
 * The secret values of this process (docs/architecture.md §9). Locally they are the environment's
 * and never change. In AWS each secret named by a `*_SECRET_ID` is read from Secrets Manager
 * through Powertools Parameters (`provider.get(id, { maxAge })`, as `getSecret` does), whose cache
 * keeps a value `SECRETS_MAX_AGE_SECONDS` (default 300): past that, the next read asks Secrets
 * Manager again, so a rotated or revoked secret takes effect within maxAge on every warm
 * function. Consumers therefore never keep a value; they hold a getter:
 *
 * - `current(name)` reads now (a cache hit inside maxAge) — for uses that may come long after the
 *   invocation began (Stripe and integrator.io calls during a 15-minute reconcile run);
 * - `get(name)` answers synchronously with the value of the latest read — for code that cannot wait
 *   (an HMAC in a sync path). `lambdaHandler` (lib/runtime.ts) calls `refresh()` before every
 *   invocation, so that value is at most maxAge old when the invocation starts.
 *
 * A secret configured nowhere is absent and the feature that needs it refuses to work rather than
 * fall back to a default. A read that fails throws (the invocation fails, as a failed cold start
 * did): no stale value is served past maxAge.
 */
export class SecretSource {
  private readonly latest: Partial<Record<SecretSetting, string>>;
  private readonly checks = new Map<SecretSetting, SecretCheck[]>();
  /** The last value of each secret that passed its checks. */
  private readonly passed = new Map<SecretSetting, string>();
  private provider: Promise<SecretReader> | undefined;
  /** The secrets whose latest read found a placeholder or a value of the wrong form, and why. */
  private readonly unset = new Map<SecretSetting, string>();

  constructor(private readonly config: SecretsConfig) {
    this.latest = { ...config.secrets };
  }

  /** Whether the secret is configured: a value in the environment or a Secrets Manager id. */
  has(name: SecretSetting): boolean {
    return this.config.secrets[name] !== undefined || this.config.secretIds[name] !== undefined;
  }

  /** The value of the latest read (`refresh` or `current`); never waits. */
  get(name: SecretSetting): string | undefined {
    return this.latest[name];
  }

  /** The secret's value now: the environment's, or Secrets Manager's at most maxAge old. */
  async current(name: SecretSetting): Promise<string | undefined> {
    const value = this.config.secrets[name] ?? (await this.fetch(name));
    const reason = value === undefined ? undefined : notConfiguredReason(name, value);
    if (reason !== undefined) {
      // Never handed out: a placeholder sent to Stripe or integrator.io only earns a 401.
      this.unset.set(name, reason);
      delete this.latest[name];
      throw new NotConfiguredError(name, reason);
    }
    this.unset.delete(name);
    if (value !== undefined && this.passed.get(name) !== value) {
      for (const check of this.checks.get(name) ?? []) check(value);
      this.passed.set(name, value);
    }
    this.latest[name] = value;
    return value;
  }

  /** Reads every configured secret (`current`), concurrently; what is cached and fresh costs no call. */
  async refresh(): Promise<void> {
    await Promise.all(
      SECRET_SETTINGS.filter((name) => this.has(name)).map((name) =>
        // A secret not configured yet fails only what needs it (`notConfigured` says which).
        this.current(name).catch((error: unknown) => {
          if (!(error instanceof NotConfiguredError)) throw error;
        }),
      ),
    );
  }

  /**
   * The secrets among `names` (default: all) whose latest read found its placeholder or a value of
   * the wrong form (`notConfiguredReason`): what `/health` reports and the schedules skip on.
   */
  notConfigured(names: readonly SecretSetting[] = SECRET_SETTINGS): SecretSetting[] {
    return names.filter((name) => this.unset.has(name));
  }

  /**
   * `check` runs on every new value of `name` from the next read on (the value in hand included),
   * before the value reaches anyone: a throw refuses it, at every read, until a value passes.
   */
  check(name: SecretSetting, check: SecretCheck): void {
    this.checks.set(name, [...(this.checks.get(name) ?? []), check]);
    this.passed.delete(name);
  }

  private async fetch(name: SecretSetting): Promise<string | undefined> {
    const id = this.config.secretIds[name];
    if (id === undefined) return undefined;
    this.provider ??= this.createProvider();
    let value: unknown;
    try {
      value = await (await this.provider).get(id, { maxAge: this.config.secretsMaxAgeSeconds });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${name} could not be read from Secrets Manager (${id}): ${reason}`, { cause: error });
    }
    if (typeof value !== "string") return undefined;
    return value.trim() || undefined;
  }

  private createProvider(): Promise<SecretReader> {
    return secretsManagerProvider(this.config);
  }
}

/**
 * A secret still holding its placeholder or of the wrong form: what needs it answers 503
 * `not_configured` naming the setting (an HTTP route, in its error format; Stripe retries a
 * webhook delivery answered so), and a schedule skips its run.
 */
export class NotConfiguredError extends HttpError {
  override name = "NotConfiguredError";
  constructor(
    readonly setting: SecretSetting,
    reason: string,
  ) {
    // The message names the setting, never its value: safe to show.
    super(503, "not_configured", `${setting} is not configured yet: ${reason}. Set its secret's value.`, {
      expose: true,
    });
  }
}

interface SecretReader {
  get(id: string, options: { maxAge: number }): Promise<unknown>;
}

/**
 * Powertools Parameters' provider of Secrets Manager values: its `BaseProvider` (the cache with
 * `maxAge`, the errors) over `GetSecretValue`, what its `SecretsProvider` is. Not `SecretsProvider`
 * itself: that module imports the Secrets Manager client statically, so every function would
 * evaluate the client at init. Both are loaded here, on the first read (lib/sdk/secrets-manager.ts:
 * the two names used, tree-shaken), and a function without secrets (fallback, openapi) never
 * evaluates them (bench/coldstart.ts).
 */
async function secretsManagerProvider(
  config: Pick<Config, "secretsManagerEndpoint" | "awsRegion">,
): Promise<SecretReader> {
  const [{ BaseProvider }, { GetSecretValueCommand, SecretsManagerClient }] = await Promise.all([
    import("@aws-lambda-powertools/parameters/base"),
    import("./sdk/secrets-manager.ts"),
  ]);
  const endpoint = config.secretsManagerEndpoint;
  const client = new SecretsManagerClient({
    region: config.awsRegion,
    // A local endpoint (tests) accepts any credentials.
    ...(endpoint ? { endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
  class SecretsManagerProvider extends BaseProvider {
    constructor() {
      super({ awsSdkV3Client: client });
    }

    protected async _get(id: string): Promise<string | Uint8Array | undefined> {
      const output = await client.send(new GetSecretValueCommand({ SecretId: id }));
      return output.SecretString ?? output.SecretBinary;
    }

    protected _getMultiple(): Promise<undefined> {
      throw new Error("Secrets Manager has no paths: read each secret by its id");
    }
  }
  return new SecretsManagerProvider();
}

/** A secret as a consumer holds it: a fixed value (tests), or how to read its current value. */
export type SecretValue = string | undefined | (() => string | undefined | Promise<string | undefined>);

/** The value of `secret` now. */
export async function secretValue(secret: SecretValue): Promise<string | undefined> {
  return typeof secret === "function" ? await secret() : secret;
}

/** A secret a sync path reads (an HMAC key): a fixed value, or `() => secrets.get(name)`. */
export type SyncSecretValue = string | undefined | (() => string | undefined);

/** The value of `secret` now. */
export function syncSecretValue(secret: SyncSecretValue): string | undefined {
  return typeof secret === "function" ? secret() : secret;
}

/** The value of `secret` now, or an error naming `name` when it has none. */
export function requiredSecret(secret: SyncSecretValue, name: SecretSetting): string {
  const value = syncSecretValue(secret);
  if (!value) throw new Error(`${name} is not available`);
  return value;
}

/**
 * Whether a scheduled run may go on: when one of `names` is not configured yet (its placeholder,
 * or the wrong form), it logs ONE warning naming them, counts `NotConfigured` (its alarm says the
 * stack is waiting for its secrets) and answers false — the run is skipped, nothing calls Stripe or
 * integrator.io with a placeholder.
 */
export function configuredFor(
  run: string,
  secrets: Pick<SecretSource, "notConfigured">,
  names: readonly SecretSetting[],
  out: {
    logger: { warn(message: string, extra: Record<string, unknown>): void };
    metrics: { count(name: "NotConfigured"): void; flush(): void };
  },
): boolean {
  const missing = secrets.notConfigured(names);
  if (missing.length === 0) return true;
  out.logger.warn(`${run} skipped: not configured yet`, { notConfigured: missing });
  out.metrics.count("NotConfigured");
  out.metrics.flush();
  return false;
}
