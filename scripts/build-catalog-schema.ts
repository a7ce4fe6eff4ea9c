/**
 * Writes the catalog's JSON Schema, generated from its zod schema (lib/licensing/catalog.ts), to
 * `local/catalog.schema.json` (or the file given), formatted as `npm run lint` wants it.
 * local/catalog.json names it in `$schema`, so editors complete and check the catalog; a vendor's
 * catalog elsewhere can name it by path. test/unit/catalog-schema.test.ts fails when the
 * committed file does not hold what this writes.
 *
 *   npm run build:catalog-schema [-- outFile]
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { catalogJsonSchemaText } from "#lib/licensing/catalog-schema.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The committed schema's path, relative to the repository root. */
export const CATALOG_SCHEMA_FILE = "local/catalog.schema.json";

/** Writes the schema to `outFile` (relative to the repository root unless absolute); answers the path. */
export async function buildCatalogSchema(outFile = CATALOG_SCHEMA_FILE): Promise<string> {
  const out = isAbsolute(outFile) ? outFile : resolve(root, outFile);
  await writeFile(out, catalogJsonSchemaText());
  // biome's layout (short arrays on one line), so `npm run lint` passes on the written file.
  await promisify(execFile)(resolve(root, "node_modules/.bin/biome"), ["format", "--write", out], {
    cwd: root,
  });
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildCatalogSchema(process.argv[2]);
  console.log(`catalog JSON Schema written to ${relative(process.cwd(), out) || out}`);
}
