import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "#lib/aws.ts";
import { AuditTrail } from "#lib/store/audit.ts";
import { Customers } from "#lib/store/customers.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Licenses } from "#lib/store/licenses.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { makeSubscription } from "#test/helpers/stripe-fixtures.ts";

// The customer partition against DynamoDB Local: the one-query state the worker plans on, and
// profile writes that keep ordering without a read and never lose a checkout email.
const tableName = "customer-store-test";
let dynamo: DynamoDbLocal;
let customers: Customers;
let licenses: Licenses;
let audit: AuditTrail;
let sequence = 0;
const freshCustomer = () => `cus_store_${process.pid}_${sequence++}`;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ port: 0 });
  await createTable(dynamo.endpoint, tableName);
  const table = new Table(
    createDocumentClient({ dynamodbEndpoint: dynamo.endpoint, awsRegion: "us-east-1" }),
    tableName,
  );
  customers = new Customers(table);
  licenses = new Licenses(table);
  audit = new AuditTrail(table);
});
afterAll(() => dynamo?.stop());

const profile = (customerId: string, version: number, email: string) => ({
  customerId,
  email,
  metadata: { plan: String(version) },
  version,
});

describe("Customers.state", () => {
  it("reads the profile, every subscription and every license in one query, beside the audit trail", async () => {
    const customerId = freshCustomer();
    await customers.saveProfile(profile(customerId, 10, "buyer@example.com"));
    for (const id of ["sub_a", "sub_b"]) {
      const snapshot = makeSubscription({ id, customer: customerId });
      await customers.saveSubscription(
        { customerId, subscriptionId: id, status: "active", version: 10, source: "evt_1", snapshot },
        undefined,
      );
    }
    await licenses.save(
      {
        customerId,
        connectorKey: "connector-a",
        connectorId: "conn_a",
        email: "buyer@example.com",
        expires: "2030-01-01T00:00:00.000Z",
        opts: {},
        state: "pending_user",
      },
      undefined,
    );
    await audit.record({ customerId, action: "license.pending_user" });

    const state = await customers.state(customerId);
    expect(state.profile).toMatchObject({ customerId, email: "buyer@example.com", version: 10 });
    expect(state.subscriptions.map((s) => s.subscriptionId).sort()).toEqual(["sub_a", "sub_b"]);
    expect(state.licenses).toEqual([expect.objectContaining({ connectorKey: "connector-a", rev: 1 })]);
    expect(await customers.state(freshCustomer())).toEqual({
      profile: undefined,
      subscriptions: [],
      licenses: [],
    });
  });
});

describe("Customers.saveProfile", () => {
  it("keeps the newer profile: an older version is refused, the same version replaces", async () => {
    const customerId = freshCustomer();
    expect(await customers.saveProfile(profile(customerId, 20, "new@example.com"))).toMatchObject({
      version: 20,
    });
    expect(await customers.saveProfile(profile(customerId, 19, "old@example.com"))).toBeUndefined();
    expect((await customers.profile(customerId))?.email).toBe("new@example.com");
    await customers.saveProfile(profile(customerId, 20, "same-second@example.com"));
    expect((await customers.profile(customerId))?.email).toBe("same-second@example.com");
  });

  it("never drops a checkout email written before or during it, and clears flags the new profile lacks", async () => {
    const customerId = freshCustomer();
    await customers.saveCheckoutEmail(customerId, "typed@example.com");
    const saved = await customers.saveProfile({
      ...profile(customerId, 30, "stripe@example.com"),
      deleted: true,
      source: "stripe",
    });
    expect(saved).toMatchObject({ checkoutEmail: "typed@example.com", deleted: true, source: "stripe" });

    // Racing writers: the profile update cannot overwrite the checkout email, whichever lands last.
    await Promise.all([
      customers.saveProfile(profile(customerId, 31, "racing@example.com")),
      customers.saveCheckoutEmail(customerId, "typed-again@example.com"),
    ]);
    const stored = await customers.profile(customerId);
    expect(stored).toMatchObject({ email: "racing@example.com", checkoutEmail: "typed-again@example.com" });
    expect(stored).not.toHaveProperty("deleted");
    expect(stored).not.toHaveProperty("source");
  });
});

describe("Licenses.bindIntegration", () => {
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
