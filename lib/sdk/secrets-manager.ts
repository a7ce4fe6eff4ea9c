/**
 * The part of the Secrets Manager client the functions use, for `import()` on first use
 * (lib/secrets.ts). A dynamic import of the package itself takes its
 * whole namespace — every command and its schema, ≈ 70 KB in each bundle — because esbuild cannot
 * tree-shake what an `import()` returns; a static re-export of the two names can be.
 */
export { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
