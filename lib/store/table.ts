/**
 * The single DynamoDB table, defined once: the local stack and the tests create it from this
 * module, and CDK builds its TableV2 from it, so the three can never disagree.
 *
 * Every item has `pk`/`sk`; items that need a second access path set `gsi1pk`/`gsi1sk`
 * (and `gsi2pk`/`gsi2sk`). Items that should disappear carry `ttl` (epoch seconds). DynamoDB
 * Local never deletes expired items, so every read filters on `ttl` (see `isLive`).
 */
export const tableDefinition = {
  partitionKey: "pk",
  sortKey: "sk",
  timeToLiveAttribute: "ttl",
  globalSecondaryIndexes: [
    { indexName: "gsi1", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    { indexName: "gsi2", partitionKey: "gsi2pk", sortKey: "gsi2sk" },
  ],
} as const;

export type GsiName = (typeof tableDefinition.globalSecondaryIndexes)[number]["indexName"];

/** The attribute definitions and key schema for `CreateTable` (local stack and tests). */
export function createTableInput(tableName: string) {
  const keyAttributes = [
    tableDefinition.partitionKey,
    tableDefinition.sortKey,
    ...tableDefinition.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: "S" as const })),
    KeySchema: [
      { AttributeName: tableDefinition.partitionKey, KeyType: "HASH" as const },
      { AttributeName: tableDefinition.sortKey, KeyType: "RANGE" as const },
    ],
    GlobalSecondaryIndexes: tableDefinition.globalSecondaryIndexes.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: "HASH" as const },
        { AttributeName: g.sortKey, KeyType: "RANGE" as const },
      ],
      Projection: { ProjectionType: "ALL" as const },
    })),
  };
}

/** True while an item's TTL (epoch seconds) has not passed; items without TTL are always live. */
export function isLive(item: Record<string, unknown>, nowMs: number): boolean {
  const ttl = item[tableDefinition.timeToLiveAttribute];
  return typeof ttl !== "number" || ttl * 1000 > nowMs;
}
