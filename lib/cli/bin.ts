/**
 * The entry of the CLI's bundle, `dist/integrator-licensing.mjs` (scripts/build-cli.ts builds it
 * and defines INTEGRATOR_LICENSING_VERSION from package.json): `integrator-licensing --help`.
 */
import { processOutput, runCli } from "./main.ts";

declare const INTEGRATOR_LICENSING_VERSION: string;

process.exitCode = await runCli(process.argv.slice(2), {
  output: processOutput(),
  env: process.env,
  version: INTEGRATOR_LICENSING_VERSION,
});
