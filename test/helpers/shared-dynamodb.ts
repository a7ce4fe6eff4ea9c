import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { TestProject } from "vitest/node";
import {
  createTable,
  type DynamoDbLocal,
  localCredentials,
  localRegion,
  startDynamoDbLocal,
} from "#local/dynamodb-local.ts";

/**
 * One DynamoDB Local (a JVM) for a whole `vitest run` instead of one per test file: a JVM's start
 * and its cold, interpreted first minutes cost more CPU than most files' own tests, and the machine
 * has two cores. Each stack still gets a table of its own (`sharedTable`), so files stay
 * independent of each other and of their order, and run in parallel as before.
 *
 * vitest's globalSetup (this file's default export) runs in vitest's main process, so the JVM
 * outlives every test file's worker process. It starts lazily: the first file that asks for it
 * (through a loopback "broker" whose URL every worker gets by `inject`) starts it, so a run of
 * unit tests alone starts none. Outside vitest (test/chaos/main.ts) nothing is shared.
 */

declare module "vitest" {
  export interface ProvidedContext {
    /** The loopback URL that answers `{ endpoint }` of the run's shared DynamoDB Local (or `{ error }`). */
    sharedDynamoDbBroker: string;
  }
}

export default async function setup(project: TestProject) {
  let started: Promise<DynamoDbLocal> | undefined;
  const broker = createServer((request, response) => {
    request.resume();
    if (!started) {
      const starting = startDynamoDbLocal();
      started = starting;
      // A failed start (a port taken meanwhile) is tried again by the next file that asks.
      starting.catch(() => {
        if (started === starting) started = undefined;
      });
    }
    started.then(
      (dynamo) => response.end(JSON.stringify({ endpoint: dynamo.endpoint })),
      (error: unknown) =>
        response
          .writeHead(500)
          .end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) })),
    );
  });
  await new Promise<void>((resolve) => broker.listen(0, "127.0.0.1", resolve));
  project.provide("sharedDynamoDbBroker", `http://127.0.0.1:${(broker.address() as AddressInfo).port}`);
  return async () => {
    broker.closeAllConnections();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    const dynamo = await started?.catch(() => undefined);
    await dynamo?.stop();
  };
}

/** The run's shared DynamoDB Local endpoint, started on first use; undefined outside vitest. */
export async function sharedDynamoDbEndpoint(): Promise<string | undefined> {
  if (!process.env.VITEST) return undefined;
  const { inject } = await import("vitest");
  const broker = inject("sharedDynamoDbBroker");
  if (!broker) return undefined;
  const answer = await fetch(broker, { method: "POST" });
  const body = (await answer.json()) as { endpoint?: string; error?: string };
  if (!body.endpoint) throw new Error(`the shared DynamoDB Local did not start: ${body.error}`);
  return body.endpoint;
}

let tables = 0;

/**
 * A new table of the project's schema in the shared DynamoDB Local, named for this process and
 * `label`; `drop()` deletes it (a stack's `stop()`). Undefined outside vitest.
 */
export async function sharedTable(
  label: string,
): Promise<{ endpoint: string; tableName: string; drop(): Promise<void> } | undefined> {
  const endpoint = await sharedDynamoDbEndpoint();
  if (!endpoint) return undefined;
  tables += 1;
  const tableName = `${label}-${process.pid}-${tables}-${Date.now().toString(36)}`;
  await createTable(endpoint, tableName);
  return {
    endpoint,
    tableName,
    drop: async () => {
      const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials });
      try {
        await client.send(new DeleteTableCommand({ TableName: tableName }));
      } catch {
        // The run's teardown stops the JVM anyway.
      } finally {
        client.destroy();
      }
    },
  };
}
