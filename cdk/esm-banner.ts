/**
 * ESM bundles still meet CommonJS `require` inside dependencies; the banner gives them one. Its own
 * module, free of CDK imports, so the benchmarks' builds can use it without loading aws-cdk-lib.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";
