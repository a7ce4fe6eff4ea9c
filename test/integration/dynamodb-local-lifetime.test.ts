import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { eventually } from "#test/helpers/local-stack.ts";

/** True while something answers HTTP on the endpoint. */
const answers = (endpoint: string) =>
  fetch(endpoint, { signal: AbortSignal.timeout(2000) }).then(
    () => true,
    () => false,
  );

const holder = fileURLToPath(new URL("../helpers/hold-dynamodb-local.ts", import.meta.url));
let started: ChildProcess | undefined;
afterEach(() => {
  started?.kill("SIGKILL");
});

describe("DynamoDB Local's JVM", () => {
  it("stops with stop()", async () => {
    const dynamo = await startDynamoDbLocal();
    expect(await answers(dynamo.endpoint)).toBe(true);
    await dynamo.stop();
    expect(await answers(dynamo.endpoint)).toBe(false);
  });

  it("does not outlive a process killed outright (no exit hook runs)", async () => {
    started = spawn(process.execPath, ["--import", "tsx", holder], {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    let output = "";
    started.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    const endpoint = await eventually(async () => /http:\/\/\S+/.exec(output)?.[0], {
      what: "the holder's DynamoDB Local",
    });
    expect(await answers(endpoint)).toBe(true);
    const gone = once(started, "exit");
    started.kill("SIGKILL");
    await gone;
    await eventually(async () => !(await answers(endpoint)), {
      what: "the JVM gone with its process",
      timeoutMs: 10_000,
    });
  }, 60_000);
});
