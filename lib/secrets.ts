import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type Config, SECRET_SETTINGS, type SecretSetting } from "./config.ts";

export type Secrets = Partial<Record<SecretSetting, string>>;

/**
 * The secret values for this process: from the environment locally, and in AWS from Secrets
 * Manager (ids in `*_SECRET_ID`), fetched once per cold start. A secret missing in both is absent,
 * and the feature that needs it refuses to work rather than fall back to a default.
 */
export async function resolveSecrets(config: Config, client?: SecretsManagerClient): Promise<Secrets> {
  const resolved: Secrets = { ...config.secrets };
  const wanted = SECRET_SETTINGS.filter(
    (name) => resolved[name] === undefined && config.secretIds[name] !== undefined,
  );
  if (wanted.length === 0) return resolved;
  // Loaded only when a secret is fetched: a function without secrets (fallback, openapi, health)
  // never loads the Secrets Manager client at cold start (bench/coldstart.ts).
  const { GetSecretValueCommand, SecretsManagerClient: Client } = await import(
    "@aws-sdk/client-secrets-manager"
  );
  const secretsManager = client ?? new Client({ region: config.awsRegion });
  await Promise.all(
    wanted.map(async (name) => {
      const output = await secretsManager.send(
        new GetSecretValueCommand({ SecretId: config.secretIds[name] }),
      );
      if (output.SecretString) resolved[name] = output.SecretString.trim();
    }),
  );
  return resolved;
}
