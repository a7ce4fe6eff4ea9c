import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "#lib/openapi/document.ts";
import { API_ERROR_CODE_MEANINGS, API_ERROR_CODES } from "#lib/openapi/error-codes.ts";
import { API_INFO } from "#lib/openapi/info.ts";
import { routes } from "#lib/routes.ts";

/**
 * `ApiError.code` in the OpenAPI document is an enum of every code the API answers
 * (lib/openapi/error-codes.ts). This reads the sources for the codes they answer — `new
 * HttpError(status, "code", ...)`, the `badRequest` / `notFound` / `conflict` helpers (whose codes
 * are in lib/http/errors.ts), error bodies written by hand (`{ code: "x", message }`, the local
 * gateway's `apiError(status, "x", ...)`) and the 500 fallback — and fails on a code missing
 * from the enum, or an enum entry nothing answers. The extension functions' codes travel in
 * integrator.io's format and are not part of it.
 */

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === join("lib", "extension") ? [] : sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const FILES = [...sources("lib"), ...sources("functions"), "local/gateway.ts", "local/protocol-errors.ts"];

const PATTERNS = [
  // new HttpError(400, "invalid_request", ...), across lines
  /new HttpError\(\s*\d{3},\s*"([a-z_]+)"/g,
  // hand-written error bodies: { code: "not_found", message: ... }
  /\{\s*code:\s*"([a-z_]+)",\s*message\b/g,
  // the local gateway's helper: apiError(431, "headers_too_large", ...)
  /\bapiError\(\s*\d{3},\s*"([a-z_]+)"/g,
  // the error mapping's fallback (lib/http/respond.ts): known?.code ?? "internal_error"
  /\bknown\?\.code \?\? "([a-z_]+)"/g,
];

/** Every code the sources answer, with the files that answer it. */
function codesInSources(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of FILES) {
    const text = readFileSync(file, "utf8");
    for (const pattern of PATTERNS)
      for (const [, code] of text.matchAll(pattern)) {
        if (!code) continue;
        found.set(code, [...(found.get(code) ?? []), file]);
      }
  }
  return found;
}

describe("ApiError codes", () => {
  const used = codesInSources();

  it("finds the codes the sources answer (the scan works)", () => {
    for (const code of ["invalid_request", "not_found", "conflict", "forbidden", "internal_error"])
      expect([...used.keys()]).toContain(code);
    expect(used.size).toBeGreaterThan(15);
  });

  it("lists every code lib/, functions/ and the local gateway answer", () => {
    const missing = [...used.entries()]
      .filter(([code]) => !(API_ERROR_CODES as readonly string[]).includes(code))
      .map(([code, files]) => `${code} (${[...new Set(files)].join(", ")})`);
    expect(missing, "add them to lib/openapi/error-codes.ts").toEqual([]);
  });

  it("lists no code nothing answers", () => {
    expect(API_ERROR_CODES.filter((code) => !used.has(code))).toEqual([]);
  });

  it("says what each code means, and the document carries the enum and the meanings", () => {
    expect(Object.keys(API_ERROR_CODE_MEANINGS).sort()).toEqual([...API_ERROR_CODES].sort());
    const document = openApiDocument(routes, API_INFO);
    const apiError = document.components.schemas.ApiError as {
      properties: { error: { properties: { code: { enum: string[]; description: string } } } };
    };
    const code = apiError.properties.error.properties.code;
    expect(code.enum).toEqual([...API_ERROR_CODES]);
    for (const name of API_ERROR_CODES) expect(code.description).toContain(`\`${name}\`: `);
  });

  it("every operation in the api format refers to ApiError for its errors, none inlines it", () => {
    const document = openApiDocument(routes, API_INFO);
    const text = JSON.stringify(document.paths);
    expect(text).not.toContain('"invalid_request"');
    expect(text).toContain('"$ref":"#/components/schemas/ApiError"');
  });
});
