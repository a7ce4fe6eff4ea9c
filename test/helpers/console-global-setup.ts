import { buildCli } from "../../scripts/build-cli.ts";
import { buildConsole } from "../../scripts/build-console.ts";
import { buildDocsUi } from "../../scripts/build-docs-ui.ts";

/**
 * vitest globalSetup: the console is built into dist/console once per run, where the stacks serve
 * it from (the API reference page likewise into dist/docs), and the CLI into
 * dist/integrator-licensing.mjs, which its tests run with plain node.
 */
export default async function setup(): Promise<void> {
  await Promise.all([buildConsole("dist/console"), buildDocsUi("dist/docs"), buildCli()]);
}
