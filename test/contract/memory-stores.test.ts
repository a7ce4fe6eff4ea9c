import { MemoryCustomerRecords, MemoryLicenseRecords } from "#lib/engine/adapters/memory.ts";
import { storeContract } from "./store-contract.ts";

storeContract("In-memory", async (clock) => {
  const licenses = new MemoryLicenseRecords({ now: clock });
  const customers = new MemoryCustomerRecords(licenses, { now: clock });
  return {
    customers,
    licenses,
    storeLegacySubscription: async (record) => customers.storeLegacySubscription(record),
  };
});
