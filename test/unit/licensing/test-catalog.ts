import { type Catalog, parseCatalog } from "#lib/licensing/catalog.ts";

/** Catalog JSON of the licensing unit tests: the local catalog's connector plus a second one. */
export const catalogJson = {
  connectors: [
    {
      key: "shopify-netsuite",
      connectorId: "65f1c0a2b7d94e3a1c8b7d20",
      name: "Shopify ↔ NetSuite",
      trialDays: 30,
      editions: [
        { key: "standard", prices: ["price_std_month", "std_yearly"] },
        { key: "premium", prices: ["price_prem_month", "prem_yearly"] },
      ],
      addons: [
        { key: "store", type: "store", addOnEdition: "standard", prices: ["price_store_month"] },
        { key: "store-premium", type: "store", addOnEdition: "premium", prices: ["price_store_prem_month"] },
        { key: "subsidiary", type: "subsidiary", addOnEdition: "standard", prices: ["subsidiary_monthly"] },
      ],
    },
    {
      key: "amazon-netsuite",
      connectorId: "65f1c0a2b7d94e3a1c8b7d21",
      name: "Amazon ↔ NetSuite",
      editions: [{ key: "standard", prices: ["price_amz_month"] }],
    },
  ],
  policy: { renewalBufferDays: 3, pastDueGraceDays: 14, onEnd: "expire" },
};

export const catalog: Catalog = parseCatalog(catalogJson);
export const deleteOnEndCatalog: Catalog = parseCatalog({
  ...catalogJson,
  policy: { ...catalogJson.policy, onEnd: "delete" },
});

export const SHOPIFY = { connectorKey: "shopify-netsuite", connectorId: "65f1c0a2b7d94e3a1c8b7d20" } as const;
export const AMAZON = { connectorKey: "amazon-netsuite", connectorId: "65f1c0a2b7d94e3a1c8b7d21" } as const;
