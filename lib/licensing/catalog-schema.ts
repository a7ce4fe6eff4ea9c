import * as z from "zod/mini";
import { catalogPriceObjectSchema, catalogSchema } from "#lib/licensing/catalog.ts";

/**
 * The catalog file's JSON Schema, generated from its zod schema (catalog.ts) so the two cannot
 * differ: `npm run build:catalog-schema` writes it to local/catalog.schema.json, which
 * local/catalog.json names in `$schema` so editors complete and check the file. A test fails
 * when the committed file is not what this returns.
 *
 * It describes the file as written (zod's `input` side: fields with defaults are optional). The
 * checks across fields that JSON Schema cannot say — unique keys and price references, lifecycle
 * function names — are made by `parseCatalog` only; "amount, currency and interval go together"
 * is said with `dependentRequired`.
 */
export function catalogJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(catalogSchema, {
    target: "draft-2020-12",
    io: "input",
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema === catalogPriceObjectSchema) {
        jsonSchema.dependentRequired = {
          amount: ["currency", "interval"],
          currency: ["amount", "interval"],
          interval: ["amount", "currency"],
        };
      }
    },
  }) as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  return {
    $schema,
    title: "integrator-licensing catalog",
    description:
      "The connectors the vendor sells, their editions and add-ons, the Stripe prices that buy them, and the licensing policy (docs/architecture.md §5.1).",
    ...rest,
  };
}

/** The schema as the committed file holds it: two-space JSON and a final newline. */
export function catalogJsonSchemaText(): string {
  return `${JSON.stringify(catalogJsonSchema(), null, 2)}\n`;
}
