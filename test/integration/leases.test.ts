import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "#lib/aws.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Leases } from "#lib/store/leases.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";

// Leases against DynamoDB Local, on a clock the test moves.
const tableName = "leases-test";
const MINUTE = 60_000;
let dynamo: DynamoDbLocal;
let now = Date.parse("2026-11-27T12:00:00Z");
let leases: Leases;
let sequence = 0;
const freshName = () => `test-${process.pid}-${sequence++}`;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ port: 0 });
  await createTable(dynamo.endpoint, tableName);
  const client = createDocumentClient({ dynamodbEndpoint: dynamo.endpoint, awsRegion: "us-east-1" });
  leases = new Leases(new Table(client, tableName, () => now));
});
afterAll(() => dynamo?.stop());

describe("Leases", () => {
  it("gives one of many concurrent takers the lease and tells the others who has it", async () => {
    const name = freshName();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => leases.take(name, `holder-${i}`, 10 * MINUTE, { i: String(i) })),
    );
    const winners = outcomes.flatMap((outcome, i) => (outcome.taken ? [`holder-${i}`] : []));
    expect(winners).toHaveLength(1);
    const expiresAt = new Date(now + 10 * MINUTE).toISOString();
    for (const outcome of outcomes.filter((o) => !o.taken))
      expect(outcome).toEqual({
        taken: false,
        heldBy: { holder: winners[0], expiresAt, about: { i: winners[0]?.replace("holder-", "") } },
      });
  });

  it("renews the lease for its holder; frees it only for its holder", async () => {
    const name = freshName();
    expect(await leases.take(name, "a", 10 * MINUTE)).toEqual({ taken: true });
    now += 5 * MINUTE;
    expect(await leases.take(name, "a", 10 * MINUTE)).toEqual({ taken: true });
    expect((await leases.holder(name))?.expiresAt).toBe(new Date(now + 10 * MINUTE).toISOString());
    await leases.release(name, "b");
    expect((await leases.holder(name))?.holder).toBe("a");
    await leases.release(name, "a");
    expect(await leases.holder(name)).toBeUndefined();
    expect(await leases.take(name, "b", 10 * MINUTE)).toEqual({ taken: true });
  });

  it("lets a lease its holder never freed lapse after its duration, and not before", async () => {
    const name = freshName();
    await leases.take(name, "crashed", 10 * MINUTE);
    now += 10 * MINUTE - 1;
    expect(await leases.take(name, "next", 10 * MINUTE)).toMatchObject({
      taken: false,
      heldBy: { holder: "crashed" },
    });
    now += 1;
    expect(await leases.holder(name)).toBeUndefined();
    expect(await leases.take(name, "next", 10 * MINUTE)).toEqual({ taken: true });
    // The crashed holder, back, frees nothing that is no longer its own.
    await leases.release(name, "crashed");
    expect((await leases.holder(name))?.holder).toBe("next");
  });

  it("Table.delete deletes an item only while its condition holds, and says which", async () => {
    const table = new Table(
      createDocumentClient({ dynamodbEndpoint: dynamo.endpoint, awsRegion: "us-east-1" }),
      tableName,
    );
    const key = { pk: `DELETE#${freshName()}`, sk: "ITEM" };
    await table.put({ ...key, holderName: "a" });
    const owned = (owner: string) => ({
      ConditionExpression: "holderName = :owner",
      ExpressionAttributeValues: { ":owner": owner },
    });
    expect(await table.delete(key, owned("b"))).toBe(false);
    expect(await table.get(key.pk, key.sk)).toMatchObject({ holderName: "a" });
    expect(await table.delete(key, owned("a"))).toBe(true);
    expect(await table.get(key.pk, key.sk)).toBeUndefined();
    expect(await table.delete(key)).toBe(true);
  });
});
