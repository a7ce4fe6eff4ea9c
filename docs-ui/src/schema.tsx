import { Inline } from "./text.tsx";
import type { Document, Schema } from "./types.ts";

/** The component a `$ref` names (`#/components/schemas/ApiError` → `ApiError`). */
export const refName = (ref: string) => ref.replace(/^#\/components\/schemas\//, "");

export function resolve(schema: Schema | undefined, doc: Document): Schema | undefined {
  let current = schema;
  for (let hops = 0; current?.$ref && hops < 10; hops++)
    current = doc.components?.schemas?.[refName(current.$ref)];
  return current;
}

/** `T | null` written as anyOf: the `T`, with `nullable`. */
function nonNull(schema: Schema): { schema: Schema; nullable: boolean } {
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants?.length === 2) {
    const other = variants.find((v) => v.type !== "null");
    if (other && variants.some((v) => v.type === "null")) {
      return { schema: { ...other, description: schema.description ?? other.description }, nullable: true };
    }
  }
  if (Array.isArray(schema.type) && schema.type.includes("null")) {
    const rest = schema.type.filter((t) => t !== "null");
    return { schema: { ...schema, type: rest.length === 1 ? rest[0] : rest }, nullable: true };
  }
  return { schema, nullable: false };
}

const literal = (value: unknown) => JSON.stringify(value);

/** A short type: `string (email)`, `integer`, `array of object`, `"a" | "b"`, `ApiError`. */
export function typeLabel(schema: Schema | undefined, doc: Document): string {
  if (!schema) return "any";
  if (schema.$ref) return refName(schema.$ref);
  const { schema: s, nullable } = nonNull(schema);
  let label: string;
  if (s.const !== undefined) label = literal(s.const);
  else if (s.enum) label = s.enum.map(literal).join(" | ");
  else if (s.anyOf || s.oneOf) label = (s.anyOf ?? s.oneOf ?? []).map((v) => typeLabel(v, doc)).join(" | ");
  else if (s.type === "array") label = `array of ${typeLabel(s.items, doc)}`;
  else if (s.type === "object" && !s.properties && s.additionalProperties && s.additionalProperties !== true)
    label = `map of ${typeLabel(s.additionalProperties as Schema, doc)}`;
  else if (Array.isArray(s.type)) label = s.type.join(" | ");
  else label = s.type ?? "any";
  if (s.format) label += ` (${s.format})`;
  return nullable ? `${label} | null` : label;
}

/** Limits worth saying: lengths, bounds, a pattern, a default. */
function constraints(schema: Schema): string[] {
  const s = nonNull(schema).schema;
  const out: string[] = [];
  if (s.minLength !== undefined || s.maxLength !== undefined)
    out.push(`length ${s.minLength ?? 0}–${s.maxLength ?? "∞"}`);
  if (s.minimum !== undefined || s.maximum !== undefined)
    out.push(`${s.minimum ?? s.exclusiveMinimum ?? "−∞"} to ${s.maximum ?? "∞"}`);
  if (s.minItems !== undefined || s.maxItems !== undefined)
    out.push(`${s.minItems ?? 0}–${s.maxItems ?? "∞"} items`);
  if (s.pattern) out.push(`pattern ${s.pattern}`);
  if (s.default !== undefined) out.push(`default ${literal(s.default)}`);
  return out;
}

/** What a field holds inside: an object's fields, an array's items' fields, the variants of a union. */
function inner(schema: Schema | undefined, doc: Document): Schema | Schema[] | undefined {
  const s = resolve(schema, doc);
  if (!s) return undefined;
  const { schema: t } = nonNull(s);
  if (t.properties && Object.keys(t.properties).length > 0) return t;
  if (t.type === "array") return inner(t.items, doc);
  const variants = t.anyOf ?? t.oneOf;
  if (variants?.some((v) => inner(v, doc))) return variants;
  if (t.additionalProperties && t.additionalProperties !== true) return inner(t.additionalProperties, doc);
  return undefined;
}

const MAX_DEPTH = 8;

/** A schema as a list of fields, nested objects folded. */
export function SchemaView({
  schema,
  doc,
  depth = 0,
}: {
  schema: Schema | undefined;
  doc: Document;
  depth?: number;
}) {
  const resolved = resolve(schema, doc);
  if (!resolved) return <p class="muted">Any JSON value.</p>;
  const content = inner(resolved, doc);
  const top = nonNull(resolved).schema;
  const heading =
    schema?.$ref || !content || top.type === "array" ? (
      <p class="schema-type">
        <span class="type">{typeLabel(schema, doc)}</span>
        {resolved.description && (
          <>
            {" — "}
            <Inline text={resolved.description} />
          </>
        )}
      </p>
    ) : resolved.description ? (
      <p class="schema-type">
        <Inline text={resolved.description} />
      </p>
    ) : null;
  if (!content || depth > MAX_DEPTH) return heading;
  return (
    <>
      {heading}
      <Fields content={content} doc={doc} depth={depth} />
    </>
  );
}

function Fields({ content, doc, depth }: { content: Schema | Schema[]; doc: Document; depth: number }) {
  if (Array.isArray(content)) {
    return (
      <ol class="variants">
        {content.map((variant, i) => (
          <li key={i}>
            <span class="muted">One of: </span>
            <SchemaView schema={variant} doc={doc} depth={depth + 1} />
          </li>
        ))}
      </ol>
    );
  }
  const required = new Set(content.required ?? []);
  return (
    <dl class="fields">
      {Object.entries(content.properties ?? {}).map(([name, field]) => {
        const nested = inner(field, doc);
        const limits = constraints(resolve(field, doc) ?? field);
        const description = field.description ?? resolve(field, doc)?.description;
        return (
          <div class="field" key={name}>
            <dt>
              <code class="name">{name}</code> <span class="type">{typeLabel(field, doc)}</span>
              {required.has(name) ? (
                <span class="required">required</span>
              ) : (
                <span class="optional">optional</span>
              )}
            </dt>
            <dd>
              {description && <Inline text={description} />}
              {limits.length > 0 && <span class="limits"> {limits.join("; ")}</span>}
              {nested && depth < MAX_DEPTH && (
                <details class="nested">
                  <summary>{Array.isArray(nested) ? "Variants" : `Fields of ${name}`}</summary>
                  <Fields content={nested} doc={doc} depth={depth + 1} />
                </details>
              )}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
