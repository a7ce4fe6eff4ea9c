import { afterAll, beforeAll, vi } from "vitest";
import { type FakeSecretsManager, startFakeSecretsManager } from "./fake-secrets-manager.ts";
import { CLOSED_URL } from "./function-harness.ts";
import { sharedTable } from "./shared-dynamodb.ts";

/**
 * A test file's process configured as CDK configures a Lambda function: `*_SECRET_ID`s only,
 * Secrets Manager at the process edge (a loopback server speaking its protocol, holding `secrets`
 * under `<prefix>/<name>`), a table in the run's DynamoDB Local, Stripe and integrator.io closed.
 * `settings` add to (or replace) those variables. `rotate(name, value)` is put-secret-value.
 */
export function useLambdaEnvironment(
  prefix: string,
  secrets: Record<string, string>,
  settings: Record<string, string> = {},
): { rotate(name: string, value: string): void } {
  const idOf = (name: string) => `${prefix}/${name}`;
  let secretsManager: FakeSecretsManager | undefined;
  let table: Awaited<ReturnType<typeof sharedTable>>;

  beforeAll(async () => {
    secretsManager = await startFakeSecretsManager(
      Object.fromEntries(Object.entries(secrets).map(([name, value]) => [idOf(name), value])),
    );
    table = await sharedTable(prefix.toLowerCase());
    if (!table) throw new Error("the shared DynamoDB Local is needed");
    const env: Record<string, string> = {
      AWS_LAMBDA_FUNCTION_NAME: "IntegratorLicensing-fn",
      TABLE_NAME: table.tableName,
      DYNAMODB_ENDPOINT: table.endpoint,
      SECRETS_MANAGER_ENDPOINT: secretsManager.endpoint,
      STRIPE_API_URL: CLOSED_URL,
      INTEGRATOR_API_URL: `${CLOSED_URL}/v1`,
      ...settings,
    };
    for (const name of Object.keys(secrets)) env[`${name}_SECRET_ID`] = idOf(name);
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await Promise.all([secretsManager?.stop(), table?.drop()]);
  });

  return {
    rotate: (name, value) => {
      if (!secretsManager) throw new Error("the Lambda environment is not started yet");
      secretsManager.put(idOf(name), value);
    },
  };
}
