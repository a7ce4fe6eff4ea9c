import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "#lib/aws.ts";
import { Table } from "#lib/store/dynamo.ts";
import { type LicenseRecord, Licenses } from "#lib/store/licenses.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";

// GET /admin/licenses without `state` scans the table: against DynamoDB Local, every call is one
// Scan request of at most `limit` items, however few of them are licenses.
const tableName = "license-list-test";
let dynamo: DynamoDbLocal;
let table: Table;
let licenses: Licenses;
/** Every DynamoDB request the store sent, by command, with its input. */
const sent: { command: string; input: Record<string, unknown> }[] = [];

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ port: 0 });
  await createTable(dynamo.endpoint, tableName);
  const client = createDocumentClient({ dynamodbEndpoint: dynamo.endpoint, awsRegion: "us-east-1" });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: context.commandName ?? "?", input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: "initialize", name: "recordRequests" },
  );
  table = new Table(client, tableName);
  licenses = new Licenses(table);
  // 3 licenses among 30 items that are not (profiles, subscriptions, owned ids).
  for (let n = 0; n < 10; n++) {
    const customerId = `cus_list_${n}`;
    await table.put({ pk: `CUSTOMER#${customerId}`, sk: "PROFILE", customerId });
    await table.put({ pk: `CUSTOMER#${customerId}`, sk: `SUB#sub_${n}`, customerId });
    await table.put({ pk: `LICENSEID#lic_other_${n}`, sk: "LICENSE", customerId });
    if (n % 4 === 0) {
      await licenses.save(
        {
          customerId,
          connectorKey: "shopify-netsuite",
          connectorId: "c1",
          email: `buyer${n}@example.com`,
          expires: "2030-01-01T00:00:00.000Z",
          opts: {},
          state: "active",
        },
        undefined,
        { owned: true },
      );
    }
  }
});
afterAll(() => dynamo?.stop());

describe("Licenses.list without a state", () => {
  it("sends one Scan of at most `limit` items per call and hands a cursor on, even after a page without licenses", async () => {
    const pages: LicenseRecord[][] = [];
    let cursor: string | undefined;
    do {
      sent.length = 0;
      const page = await licenses.list({ limit: 4, ...(cursor ? { cursor } : {}) });
      expect(sent.map((s) => s.command)).toEqual(["ScanCommand"]);
      expect(sent[0]?.input.Limit).toBe(4);
      expect(page.items.length).toBeLessThanOrEqual(4);
      pages.push(page.items);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 40);

    expect(cursor).toBeUndefined();
    // 33 items at 4 a request: at least 9 calls, some of them with no license at all.
    expect(pages.length).toBeGreaterThanOrEqual(9);
    expect(pages.some((page) => page.length === 0)).toBe(true);
    const found = pages.flat().map((license) => license.customerId);
    expect(found.sort()).toEqual(["cus_list_0", "cus_list_4", "cus_list_8"]);
  });

  it("filters by email and connector within the same bounded pages", async () => {
    const found: LicenseRecord[] = [];
    let cursor: string | undefined;
    let calls = 0;
    do {
      const page = await licenses.list({
        email: "buyer4@example.com",
        connectorKey: "shopify-netsuite",
        limit: 10,
        ...(cursor ? { cursor } : {}),
      });
      found.push(...page.items);
      cursor = page.nextCursor;
      calls++;
    } while (cursor && calls < 20);
    expect(found.map((license) => license.customerId)).toEqual(["cus_list_4"]);
    expect(calls).toBeGreaterThanOrEqual(4);
  });
});
