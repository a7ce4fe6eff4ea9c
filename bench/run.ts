/**
 * `npm run bench -- <name> [--flags]`: runs `bench/<name>.ts`'s exported `main(argv)`.
 * Each benchmark prints a table and writes `bench/results/<name>.json` (docs/architecture.md §8).
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...argv] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((file) => file.endsWith(".ts") && file !== "run.ts" && !file.includes("-worker"))
  .map((file) => file.slice(0, -3));

if (!name || !/^[a-z0-9-]+$/.test(name) || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [--flags]   (benchmarks: ${available.join(", ") || "none"})`);
  process.exit(2);
}

const module: { main?: (argv: string[]) => Promise<void> | void } = await import(join(here, `${name}.ts`));
if (typeof module.main !== "function") {
  console.error(`bench/${name}.ts does not export main(argv)`);
  process.exit(2);
}
await module.main(argv);
