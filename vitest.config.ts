import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each integration/e2e file starts its own DynamoDB Local (a JVM) and simulators on free ports;
    // two cores run two files at a time without starving the JVMs.
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
