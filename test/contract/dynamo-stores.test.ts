import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "#lib/aws.ts";
import { AuditTrail } from "#lib/store/audit.ts";
import { Customers, customerKey } from "#lib/store/customers.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Licenses } from "#lib/store/licenses.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { storeContract } from "./store-contract.ts";

// The DynamoDB adapters against DynamoDB Local: the store contract, then what only they do.
const tableName = "store-contract-test";
let dynamo: DynamoDbLocal;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ port: 0 });
  await createTable(dynamo.endpoint, tableName);
});
afterAll(() => dynamo?.stop());

/** The table on its own client, on `clock`. */
const tableOn = (clock: () => number = Date.now) =>
  new Table(
    createDocumentClient({ dynamodbEndpoint: dynamo.endpoint, awsRegion: "us-east-1" }),
    tableName,
    clock,
  );

storeContract("DynamoDB", async (clock) => {
  const table = tableOn(() => clock().getTime());
  return {
    customers: new Customers(table),
    licenses: new Licenses(table),
    // As `saveSubscription` wrote it before revisions were kept: no `rev`.
    storeLegacySubscription: (record) =>
      table.put({
        pk: customerKey(record.customerId),
        sk: `SUB#${record.subscriptionId}`,
        ...record,
        updatedAt: clock().toISOString(),
      }),
    close: async () => table.client.destroy(),
  };
});

describe("DynamoDB stores beyond the contract", () => {
  let table: Table;
  let customers: Customers;
  let licenses: Licenses;
  let sequence = 0;
  const freshCustomer = () => `cus_dynamo_${process.pid}_${sequence++}`;

  beforeAll(() => {
    table = tableOn();
    customers = new Customers(table);
    licenses = new Licenses(table);
  });
  afterAll(() => table.client.destroy());

  it("reads a customer's state beside the audit trail kept in its partition", async () => {
    const customerId = freshCustomer();
    await customers.saveProfile({ customerId, email: "buyer@example.com", metadata: {}, version: 10 });
    await new AuditTrail(table).record({ customerId, action: "license.pending_user" });
    expect(await customers.state(customerId)).toEqual({
      profile: expect.objectContaining({ customerId, version: 10 }),
      subscriptions: [],
      licenses: [],
    });
  });

  it("keeps the integration a license of ours is bound to, indexed, only where the caller expects it", async () => {
    const customerId = freshCustomer();
    const licenseId = `lic${customerId.slice(-12)}`;
    const owned = {
      licenseId,
      customerId,
      connectorKey: "shopify-netsuite",
      connectorId: "c1",
      email: "b@x.io",
    };
    expect(await licenses.bindIntegration(licenseId, "int-1")).toBe(false); // not ours: left alone
    await licenses.own(owned);
    expect(await licenses.bindIntegration(licenseId, "int-1", { expected: undefined })).toBe(true);
    expect(await licenses.byIntegration("int-1")).toMatchObject({ licenseId, integrationId: "int-1" });
    // A reader that saw no binding, or another one, does not overwrite what was written meanwhile.
    expect(await licenses.bindIntegration(licenseId, "int-2", { expected: undefined })).toBe(false);
    expect(await licenses.bindIntegration(licenseId, undefined, { expected: "int-0" })).toBe(false);
    // Owning the id again keeps the binding.
    await licenses.own(owned);
    expect((await licenses.owner(licenseId))?.integrationId).toBe("int-1");
    expect(await licenses.bindIntegration(licenseId, undefined, { expected: "int-1" })).toBe(true);
    expect(await licenses.owner(licenseId)).not.toHaveProperty("integrationId");
    expect(await licenses.byIntegration("int-1")).toBeUndefined();
  });
});
