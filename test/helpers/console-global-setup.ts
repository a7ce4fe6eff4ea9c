import { buildConsole } from "../../scripts/build-console.ts";

/** vitest globalSetup: the console is built into dist/console once per run, where the stacks serve it from. */
export default async function setup(): Promise<void> {
  await buildConsole("dist/console");
}
