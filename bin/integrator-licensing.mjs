#!/usr/bin/env node
// The operations CLI, run from the TypeScript sources without a build step (tsx is installed with
// the repository's dependencies): `npx integrator-licensing --help`.
import { register } from "tsx/esm/api";

register();
const { loadDotEnv } = await import("../local/dotenv.ts");
loadDotEnv();
const { processOutput, runCli } = await import("../lib/cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2), { output: processOutput() });
