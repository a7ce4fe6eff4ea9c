import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The browser tests (test/browser) need Chromium: npm run test:browser runs them.
    exclude: [...configDefaults.exclude, "test/browser/**"],
    // The stacks of e2e files (startTestStack, startExtensionHarness) keep their tables in one
    // DynamoDB Local (a JVM) for the run, started by the first that needs it; a few integration
    // files start their own. Simulators, queues and gateways are per file, on free ports; two
    // cores run two files at a time.
    // The console is built once into dist/console, which the stacks' console function serves.
    globalSetup: ["test/helpers/shared-dynamodb.ts", "test/helpers/console-global-setup.ts"],
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      POWERTOOLS_METRICS_DISABLED: "true",
      LOG_LEVEL: "WARN",
    },
  },
});
