import { invalidParam, StripeSimError } from "./errors.ts";
import type { FormObject, FormValue } from "./form.ts";

export type Metadata = Record<string, string>;

function describe(value: FormValue): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Typed reading of a decoded form, failing the way Stripe fails: `parameter_missing`,
 * `parameter_unknown`, `parameter_invalid_integer`, ... with `param` naming the full nested key
 * (`items[1][price]`).
 */
export class Params {
  constructor(
    readonly form: FormObject,
    private readonly prefix = "",
  ) {}

  /** The full name of a key as the client wrote it: `items[0][price]`. */
  name(key: string): string {
    return this.prefix === "" ? key : `${this.prefix}[${key}]`;
  }

  /** Rejects keys outside `allowed`, as Stripe does (`Received unknown parameter: foo`). */
  allowOnly(allowed: readonly string[]): this {
    for (const key of Object.keys(this.form)) {
      if (!allowed.includes(key)) {
        throw new StripeSimError(400, `Received unknown parameter: ${this.name(key)}`, {
          code: "parameter_unknown",
          param: this.name(key),
        });
      }
    }
    return this;
  }

  has(key: string): boolean {
    return this.form[key] !== undefined;
  }

  /** True when the client sent the key with an empty value: Stripe's way to unset a field. */
  isEmpty(key: string): boolean {
    return this.form[key] === "";
  }

  string(key: string): string | undefined {
    const value = this.form[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw invalidParam(`Invalid string: ${describe(value)}`, this.name(key));
    return value;
  }

  /** A string that, when present, may not be empty (ids and the like). */
  nonEmptyString(key: string): string | undefined {
    const value = this.string(key);
    if (value === "") {
      const name = this.name(key);
      throw invalidParam(
        `You passed an empty string for '${name}'. We assume empty values are an attempt to unset a parameter; however '${name}' cannot be unset. You should remove '${name}' from your request or supply a non-empty value.`,
        name,
        "parameter_invalid_empty",
      );
    }
    return value;
  }

  requiredString(key: string): string {
    const value = this.nonEmptyString(key);
    if (value === undefined) throw missingParam(this.name(key));
    return value;
  }

  /** A nullable string field: `""` clears it (returns null). */
  clearableString(key: string): string | null | undefined {
    const value = this.string(key);
    return value === "" ? null : value;
  }

  integer(key: string, { min, max }: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.string(key);
    if (raw === undefined) return undefined;
    const name = this.name(key);
    if (!/^-?\d+$/.test(raw.trim()))
      throw invalidParam(`Invalid integer: ${raw}`, name, "parameter_invalid_integer");
    const value = Number(raw.trim());
    if (!Number.isSafeInteger(value))
      throw invalidParam(`Invalid integer: ${raw}`, name, "parameter_invalid_integer");
    if (min !== undefined && value < min) {
      throw invalidParam(`This value must be greater than or equal to ${min}.`, name);
    }
    if (max !== undefined && value > max) {
      throw invalidParam(`This value must be less than or equal to ${max}.`, name);
    }
    return value;
  }

  boolean(key: string): boolean | undefined {
    const raw = this.string(key);
    if (raw === undefined) return undefined;
    if (raw === "true") return true;
    if (raw === "false") return false;
    throw invalidParam(`Invalid boolean: ${raw}`, this.name(key));
  }

  enumeration<T extends string>(key: string, values: readonly T[]): T | undefined {
    const raw = this.string(key);
    if (raw === undefined) return undefined;
    if (!(values as readonly string[]).includes(raw)) {
      throw invalidParam(`Invalid ${this.name(key)}: must be one of ${values.join(", ")}`, this.name(key));
    }
    return raw as T;
  }

  /** A nested hash; `undefined` when absent or sent empty (`key=`). */
  object(key: string): Params | undefined {
    const value = this.form[key];
    if (value === undefined || value === "") return undefined;
    if (typeof value === "string") throw invalidParam(`Invalid object`, this.name(key));
    return new Params(value, this.name(key));
  }

  /** A list (`key[0]=..&key[1]=..` or `key[]=..`) in index order; `key=` is the empty list. */
  list(key: string): FormValue[] | undefined {
    const value = this.form[key];
    if (value === undefined) return undefined;
    if (value === "") return [];
    if (typeof value === "string") throw invalidParam("Invalid array", this.name(key));
    const indices = Object.keys(value);
    if (!indices.every((index) => /^\d+$/.test(index))) throw invalidParam("Invalid array", this.name(key));
    return indices
      .map(Number)
      .sort((a, b) => a - b)
      .map((index) => value[String(index)] as FormValue);
  }

  stringList(key: string): string[] | undefined {
    return this.list(key)?.map((value, index) => {
      if (typeof value !== "string")
        throw invalidParam(`Invalid string: ${describe(value)}`, `${this.name(key)}[${index}]`);
      return value;
    });
  }

  /** A list of hashes (`items[0][price]`), each read with its own full-name prefix. */
  objectList(key: string): Params[] | undefined {
    return this.list(key)?.map((value, index) => {
      if (typeof value === "string") throw invalidParam("Invalid object", `${this.name(key)}[${index}]`);
      return new Params(value, `${this.name(key)}[${index}]`);
    });
  }

  /**
   * Stripe's metadata semantics: keys merge into `current`, a key sent empty is removed, `metadata=`
   * clears everything. Limits: 50 keys, keys up to 40 characters, values up to 500.
   */
  metadata(key = "metadata", current: Metadata = {}): Metadata {
    const value = this.form[key];
    if (value === undefined) return { ...current };
    if (value === "") return {};
    if (typeof value === "string") throw invalidParam("Invalid object", this.name(key));
    const next: Metadata = { ...current };
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string")
        throw invalidParam("Metadata values must be strings", `${this.name(key)}[${k}]`);
      if (k.length > 40)
        throw invalidParam("Metadata keys can have up to 40 characters", `${this.name(key)}[${k}]`);
      if (v.length > 500)
        throw invalidParam("Metadata values can have up to 500 characters", `${this.name(key)}[${k}]`);
      if (v === "") delete next[k];
      else next[k] = v;
    }
    if (Object.keys(next).length > 50) throw invalidParam("Metadata can have up to 50 keys", this.name(key));
    return next;
  }

  /** A Unix timestamp (seconds). */
  timestamp(key: string): number | undefined {
    return this.integer(key, { min: 0 });
  }
}

export function missingParam(name: string): StripeSimError {
  return new StripeSimError(400, `Missing required param: ${name}.`, {
    code: "parameter_missing",
    param: name,
  });
}

/** A `created`-style range filter: an exact timestamp or `{gt,gte,lt,lte}`. */
export type RangeFilter = (value: number) => boolean;

export function rangeFilter(params: Params, key: string): RangeFilter | undefined {
  if (!params.has(key)) return undefined;
  if (typeof params.form[key] === "string") {
    const exact = params.integer(key);
    return (value) => value === exact;
  }
  const range = params.object(key)?.allowOnly(["gt", "gte", "lt", "lte"]);
  if (range === undefined) return undefined;
  const gt = range.integer("gt");
  const gte = range.integer("gte");
  const lt = range.integer("lt");
  const lte = range.integer("lte");
  return (value) =>
    (gt === undefined || value > gt) &&
    (gte === undefined || value >= gte) &&
    (lt === undefined || value < lt) &&
    (lte === undefined || value <= lte);
}
