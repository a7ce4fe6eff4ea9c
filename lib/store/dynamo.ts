import {
  DeleteCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { isLive } from "./table.ts";

export type Item = Record<string, unknown>;

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/**
 * A position in a query: the DynamoDB `LastEvaluatedKey`, base64url JSON. It leaves the process
 * only authenticated, inside a page cursor (lib/http/page-cursor.ts).
 */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString("base64url") : undefined;
}

export class InvalidCursorError extends Error {
  override name = "InvalidCursorError";
}

export function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (key && typeof key === "object" && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new InvalidCursorError("cursor is not one this API returned");
}

/** An item without its table keys and index attributes: the record the repositories hand out. */
export function withoutKeys<T>(item: Item): T {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, ttl: _t, ...rest } = item;
  return rest as T;
}

/** True when DynamoDB refused a conditional write. */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/**
 * The thin layer every repository shares: the document client, the table name, and reads that
 * drop items whose TTL has passed (DynamoDB Local never deletes them, and DynamoDB only within days).
 */
export class Table {
  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly name: string,
    private readonly clock: () => number = Date.now,
  ) {}

  now(): number {
    return this.clock();
  }

  async get<T extends Item>(pk: string, sk: string, consistent = true): Promise<T | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.name, Key: { pk, sk }, ConsistentRead: consistent }),
    );
    const item = output.Item as T | undefined;
    return item && isLive(item, this.now()) ? item : undefined;
  }

  async put(item: Item, options: Omit<PutCommandInput, "TableName" | "Item"> = {}): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.name, Item: item, ...options }));
  }

  /**
   * Deletes the item at `key` — with a `ConditionExpression`, only while it holds. False when
   * DynamoDB refused it because the condition did not hold; any other failure throws.
   */
  async delete(
    key: { pk: string; sk: string },
    options: Omit<DeleteCommandInput, "TableName" | "Key"> = {},
  ): Promise<boolean> {
    try {
      await this.client.send(new DeleteCommand({ TableName: this.name, Key: key, ...options }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async update(input: Omit<UpdateCommandInput, "TableName">): Promise<Item | undefined> {
    const output = await this.client.send(
      new UpdateCommand({ TableName: this.name, ReturnValues: "ALL_NEW", ...input }),
    );
    return output.Attributes;
  }

  /** One page of a query, live items only. */
  async query<T extends Item>(
    input: Omit<QueryCommandInput, "TableName" | "ExclusiveStartKey">,
    cursor?: string,
  ): Promise<Page<T>> {
    const output = await this.client.send(
      new QueryCommand({ TableName: this.name, ...input, ExclusiveStartKey: decodeCursor(cursor) }),
    );
    const items = ((output.Items ?? []) as T[]).filter((item) => isLive(item, this.now()));
    const nextCursor = encodeCursor(output.LastEvaluatedKey);
    return nextCursor ? { items, nextCursor } : { items };
  }

  /**
   * How many items a query matches (`Select: "COUNT"`), page after page up to `maxPages` (each
   * reads at most 1 MB): `complete` is false when more remained. A count sees no items, so
   * callers filter expired ones in the query (`isLive` cannot).
   */
  async count(
    input: Omit<QueryCommandInput, "TableName" | "ExclusiveStartKey" | "Select">,
    maxPages: number,
  ): Promise<{ count: number; complete: boolean }> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    for (let page = 0; page < maxPages; page++) {
      const output = await this.client.send(
        new QueryCommand({ TableName: this.name, ...input, Select: "COUNT", ExclusiveStartKey: start }),
      );
      count += output.Count ?? 0;
      start = output.LastEvaluatedKey;
      if (!start) return { count, complete: true };
    }
    return { count, complete: false };
  }

  /** Every live item of a query, across pages. */
  async queryAll<T extends Item>(
    input: Omit<QueryCommandInput, "TableName" | "ExclusiveStartKey">,
  ): Promise<T[]> {
    const all: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.query<T>(input, cursor);
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }
}
