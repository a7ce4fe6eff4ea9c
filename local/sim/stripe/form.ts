/**
 * Stripe's request encoding: `application/x-www-form-urlencoded` with nested keys,
 * `metadata[plan]=gold`, `items[0][price]=price_1`, `expand[]=customer`. Decoded into a tree of
 * plain objects; list indices stay string keys ("0", "1") and `[]` appends the next index, so the
 * decoding is lossless and the parameter readers decide what is a list (see params.ts).
 */

export type FormValue = string | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

export class FormDecodeError extends Error {
  override name = "FormDecodeError";
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

/** A fresh object without a prototype, so keys like `__proto__` are plain data. */
export function emptyForm(): FormObject {
  return Object.create(null) as FormObject;
}

/** `a[b][c]` → `["a","b","c"]`; `a[]` → `["a",""]`; a key with unbalanced brackets is one literal segment. */
export function keySegments(key: string): string[] {
  const open = key.indexOf("[");
  if (open <= 0 || !key.endsWith("]")) return [key];
  const segments = [key.slice(0, open)];
  const rest = key.slice(open);
  const pattern = /\[([^[\]]*)\]/gy;
  let consumed = 0;
  for (let match = pattern.exec(rest); match !== null; match = pattern.exec(rest)) {
    segments.push(match[1] ?? "");
    consumed = pattern.lastIndex;
  }
  return consumed === rest.length ? segments : [key];
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    throw new FormDecodeError(`Invalid URL encoding: ${text.slice(0, 40)}`, text.slice(0, 40));
  }
}

/** Sets `value` at the nested path `segments` of `root`. */
function assign(root: FormObject, segments: string[], value: string, key: string): void {
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    let segment = segments[i] ?? "";
    if (segment === "") segment = String(Object.keys(node).length);
    if (i === segments.length - 1) {
      if (typeof node[segment] === "object") {
        throw new FormDecodeError(`Invalid ${key}: both a value and a hash were given`, key);
      }
      node[segment] = value;
      return;
    }
    const existing = node[segment];
    if (typeof existing === "string") {
      // `metadata=` (empty: "unset") followed by `metadata[k]=v`: the hash wins, as on Stripe.
      if (existing !== "")
        throw new FormDecodeError(`Invalid ${key}: both a value and a hash were given`, key);
    }
    if (existing === undefined || typeof existing === "string") {
      const child = emptyForm();
      node[segment] = child;
      node = child;
    } else {
      node = existing;
    }
  }
}

/** Decodes a form-encoded body or query string. */
export function decodeForm(text: string, into: FormObject = emptyForm()): FormObject {
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? "" : pair.slice(eq + 1);
    const key = decodeComponent(rawKey);
    if (key === "") continue;
    assign(into, keySegments(key), decodeComponent(rawValue), key);
  }
  return into;
}
