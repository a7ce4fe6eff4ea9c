import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** Every TypeScript file that can end up in a Lambda bundle. */
function lambdaSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return lambdaSources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const files = [...lambdaSources("lib"), ...lambdaSources("functions")].map((path) => ({
  path,
  text: readFileSync(path, "utf8"),
}));

describe("imports that decide a bundle's size (docs/architecture.md §8, §10)", () => {
  it("imports zod/mini as a namespace: `import { z }` drags in every locale (≈ 420 KB per bundle)", () => {
    // esbuild tree-shakes `import * as z from "zod/mini"`, but not the re-exported `z` namespace
    // object, which holds `z.locales`: the fallback function went from 448 KB to 58 KB with this.
    const offenders = files
      .filter((f) => /import\s*\{\s*z\s*\}\s*from\s*["']zod\/mini["']/.test(f.text))
      .map((f) => f.path);
    expect(offenders, 'use `import * as z from "zod/mini"` (types: `import type { z }` is fine)').toEqual([]);
  });

  it("reads secrets through Powertools Parameters' base only: a provider module's static @aws-sdk import would load at every init", () => {
    // The SDK is bundled (cdk/bundling.ts); what a static import chain reaches is evaluated at
    // module init, what only a dynamic import() reaches is evaluated when first called.
    // `parameters/secrets` imports the Secrets Manager client statically: it would be evaluated at
    // the init of every function, those without secrets too, instead of at the first secret read
    // (lib/secrets.ts imports both dynamically).
    const offenders = files
      .filter((f) => /["']@aws-lambda-powertools\/parameters(\/(?!base["'])[\w-]+)?["']/.test(f.text))
      .map((f) => f.path);
    expect(offenders).toEqual([]);
    expect(files.find((f) => f.path === join("lib", "secrets.ts"))?.text).toMatch(
      /import\("@aws-lambda-powertools\/parameters\/base"\)[\s\S]*import\("\.\/sdk\/secrets-manager\.ts"\)/,
    );
  });

  it("imports an AWS SDK client dynamically only through lib/sdk/ (an import() of the package bundles every command)", () => {
    const offenders = files.filter((f) => /import\(\s*["']@aws-sdk\//.test(f.text)).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it("never imports classic zod in Lambda code (it does not tree-shake)", () => {
    const offenders = files
      .filter((f) => /^import\s+(?!type\b)[^;]*from\s*["']zod(\/v4)?["']/m.test(f.text))
      .map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it("imports the Stripe SDK as a value only through lib/stripe/client.ts's import() (evaluated at the first Stripe call)", () => {
    // A static `import Stripe from "stripe"` anywhere a function's entry reaches evaluates the SDK
    // (~240 KB) at every init, in functions whose request never calls Stripe. `import type` is
    // erased; lib/cli/ is the command line, in no bundle.
    const offenders = files
      .filter((f) => !f.path.startsWith(join("lib", "cli")))
      .filter(
        (f) =>
          /^import\s+(?!type\b)[^;]*from\s*["']stripe["']/m.test(f.text) ||
          /import\(\s*["']stripe["']/.test(f.text),
      )
      .map((f) => f.path);
    expect(offenders).toEqual([join("lib", "stripe", "client.ts")]);
    const client = files.find((f) => f.path === join("lib", "stripe", "client.ts"))?.text ?? "";
    expect(client).not.toMatch(/^import\s+(?!type\b)[^;]*from\s*["']stripe["']/m);
    expect(client).toMatch(/import\("stripe"\)/);
  });
});
