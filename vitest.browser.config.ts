import { defineConfig } from "vitest/config";

/**
 * `npm run test:browser`: the console in a real Chromium (test/browser), against the local stack.
 * Kept out of `npm test` (vitest.config.ts), so a clone without Chromium passes that. Same global
 * setup: one DynamoDB Local for the run, and the console built into dist/console for the stacks to
 * serve. One file at a time: each runs a stack and a browser.
 */
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["test/helpers/shared-dynamodb.ts", "test/helpers/console-global-setup.ts"],
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      POWERTOOLS_METRICS_DISABLED: "true",
      LOG_LEVEL: "WARN",
    },
  },
});
