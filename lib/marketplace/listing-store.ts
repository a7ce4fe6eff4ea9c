import { randomBytes } from "node:crypto";
import { BatchWriteCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  type Item,
  isConditionFailure,
  type Table,
} from "#lib/store/dynamo.ts";
import { templateSearchText } from "./listing.ts";
import type { ConnectorListing, TemplateListing } from "./schemas.ts";

/**
 * The listing cache in the single table, stored as immutable **generations**: a sync writes every
 * listing of a new generation, then switches the pointer item to it in one conditional write, so
 * a reader always sees one whole sync, never half of one. The replaced generation gets a short
 * TTL (readers that read the old pointer a moment ago still find it), and a sync that finds
 * exactly what is served writes nothing but the pointer's `syncedAt`.
 *
 * Keys: pointer `LISTINGS / CURRENT`; the last refresh for a missing price `LISTINGS / PRICE_REFRESH`; per generation `LISTINGS#<generation>` with
 * `CONNECTOR#<key>`, `TPL#<id>` (get by id) and `TPLNAME#<name>#<id>` (the list, by name).
 * Each listing is kept as its JSON text: it comes back byte for byte (DynamoDB maps do not keep
 * key order), so the ETag of an unchanged listing never changes.
 */

export interface ListingSnapshot {
  connectors: ConnectorListing[];
  templates: TemplateListing[];
  /** Hash of the listings: equal hashes, nothing to write. */
  hash: string;
  /** Hash of the catalog the listings were built from: a new catalog makes the cache stale. */
  catalogHash: string;
}

export interface ListingPointer {
  generation: string;
  hash: string;
  catalogHash: string;
  /** When the sync that wrote this generation started (ms): an older sync never replaces a newer one. */
  startedAt: number;
  syncedAt: string;
  connectors: number;
  templates: number;
}

export interface TemplateFilter {
  application?: string | undefined;
  q?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

const POINTER = { pk: "LISTINGS", sk: "CURRENT" } as const;
const PRICE_REFRESH = { pk: "LISTINGS", sk: "PRICE_REFRESH" } as const;
const CONNECTOR = "CONNECTOR#";
const TEMPLATE = "TPL#";
const TEMPLATE_BY_NAME = "TPLNAME#";
/** How long a replaced generation stays readable. */
const RETIRED_TTL_SECONDS = 10 * 60;
/** Items read per query round trip while filling a filtered page. */
const QUERY_PAGE = 100;
const BATCH = 25;

const generationPk = (generation: string) => `LISTINGS#${generation}`;
const nameKey = (template: TemplateListing) =>
  `${TEMPLATE_BY_NAME}${template.name.toLowerCase().slice(0, 100)}#${template.id}`;

export class ListingStore {
  constructor(private readonly table: Table) {}

  /** The generation served now, if any sync has finished. */
  async current(): Promise<ListingPointer | undefined> {
    const item = await this.table.get<Item & ListingPointer>(POINTER.pk, POINTER.sk);
    if (!item) return undefined;
    const { generation, hash, catalogHash, startedAt, syncedAt, connectors, templates } = item;
    return { generation, hash, catalogHash, startedAt, syncedAt, connectors, templates };
  }

  /**
   * Makes `snapshot` the served generation, unless a sync that started later already published.
   * Answers the pointer served afterwards and whether this call changed the listings.
   */
  async publish(
    snapshot: ListingSnapshot,
    startedAt: number,
  ): Promise<{ pointer: ListingPointer; changed: boolean }> {
    const syncedAt = new Date(this.table.now()).toISOString();
    const current = await this.current();
    if (current && current.hash === snapshot.hash && current.catalogHash === snapshot.catalogHash) {
      await this.table
        .update({
          Key: POINTER,
          UpdateExpression: "SET syncedAt = :syncedAt",
          ConditionExpression: "generation = :generation",
          ExpressionAttributeValues: { ":syncedAt": syncedAt, ":generation": current.generation },
        })
        .catch((error: unknown) => {
          if (!isConditionFailure(error)) throw error;
        });
      return { pointer: { ...current, syncedAt }, changed: false };
    }
    const generation = `${startedAt.toString(36)}-${randomBytes(4).toString("hex")}`;
    await this.writeGeneration(generation, snapshot);
    const pointer: ListingPointer = {
      generation,
      hash: snapshot.hash,
      catalogHash: snapshot.catalogHash,
      startedAt,
      syncedAt,
      connectors: snapshot.connectors.length,
      templates: snapshot.templates.length,
    };
    try {
      const output = await this.table.client.send(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...POINTER, ...pointer },
          ConditionExpression: "attribute_not_exists(pk) OR startedAt < :startedAt",
          ExpressionAttributeValues: { ":startedAt": startedAt },
          ReturnValues: "ALL_OLD",
        }),
      );
      const replaced = output.Attributes?.generation;
      if (typeof replaced === "string") await this.retire(replaced);
      return { pointer, changed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // A sync that started later published first: its listings are the newer ones.
      await this.retire(generation);
      const newer = await this.current();
      if (!newer) throw error;
      return { pointer: newer, changed: false };
    }
  }

  /**
   * Takes the one refresh for a missing price allowed per `intervalMs`, fleet-wide: true for the
   * one caller whose conditional write wins, false for everyone else until the interval has passed.
   */
  async claimPriceRefresh(intervalMs: number): Promise<boolean> {
    const now = this.table.now();
    try {
      await this.table.put(
        { ...PRICE_REFRESH, at: now },
        {
          ConditionExpression: "attribute_not_exists(pk) OR #at <= :since",
          ExpressionAttributeNames: { "#at": "at" },
          ExpressionAttributeValues: { ":since": now - intervalMs },
        },
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Every connector listing of a generation, in catalog order. */
  async connectors(generation: string): Promise<ConnectorListing[]> {
    const items = await this.table.queryAll<Item & { position: number; listing: string }>({
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": generationPk(generation), ":prefix": CONNECTOR },
    });
    return items
      .sort((a, b) => a.position - b.position)
      .map((item) => JSON.parse(item.listing) as ConnectorListing);
  }

  async connector(generation: string, key: string): Promise<ConnectorListing | undefined> {
    const item = await this.table.get<Item & { listing: string }>(
      generationPk(generation),
      `${CONNECTOR}${key}`,
    );
    return item && (JSON.parse(item.listing) as ConnectorListing);
  }

  async template(generation: string, id: string): Promise<TemplateListing | undefined> {
    const item = await this.table.get<Item & { listing: string }>(
      generationPk(generation),
      `${TEMPLATE}${id}`,
    );
    return item && (JSON.parse(item.listing) as TemplateListing);
  }

  /**
   * One page of templates by name, filtered by application (exact, case-insensitive) and text.
   * The cursor is a position in name order, so paging carries on across syncs.
   * @throws InvalidCursorError for a cursor this API did not hand out.
   */
  async templates(
    generation: string,
    filter: TemplateFilter,
  ): Promise<{ items: TemplateListing[]; nextCursor?: string }> {
    const pk = generationPk(generation);
    const after = decodeTemplateCursor(filter.cursor);
    const conditions: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ":pk": pk, ":prefix": TEMPLATE_BY_NAME };
    if (filter.application) {
      conditions.push("contains(#apps, :app)");
      names["#apps"] = "apps";
      values[":app"] = filter.application.toLowerCase();
    }
    if (filter.q) {
      conditions.push("contains(#search, :q)");
      names["#search"] = "search";
      values[":q"] = filter.q.toLowerCase();
    }
    const query = {
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: values,
      Limit: QUERY_PAGE,
      ...(conditions.length > 0
        ? { FilterExpression: conditions.join(" AND "), ExpressionAttributeNames: names }
        : {}),
    };
    const found: TemplateListing[] = [];
    let start = after === undefined ? undefined : encodeCursor({ pk, sk: after });
    for (;;) {
      const page = await this.table.query<Item & { sk: string; listing: string }>(query, start);
      for (const [index, item] of page.items.entries()) {
        found.push(JSON.parse(item.listing) as TemplateListing);
        if (found.length === filter.limit) {
          const more = index < page.items.length - 1 || page.nextCursor !== undefined;
          return more ? { items: found, nextCursor: encodeTemplateCursor(item.sk) } : { items: found };
        }
      }
      if (!page.nextCursor) return { items: found };
      start = page.nextCursor;
    }
  }

  private async writeGeneration(generation: string, snapshot: ListingSnapshot): Promise<void> {
    const pk = generationPk(generation);
    const items: Item[] = [
      ...snapshot.connectors.map((listing, position) => ({
        pk,
        sk: `${CONNECTOR}${listing.key}`,
        position,
        listing: JSON.stringify(listing),
      })),
      ...snapshot.templates.flatMap((listing) => [
        { pk, sk: `${TEMPLATE}${listing.id}`, listing: JSON.stringify(listing) },
        {
          pk,
          sk: nameKey(listing),
          listing: JSON.stringify(listing),
          search: templateSearchText(listing),
          apps: listing.applications.map((application) => application.toLowerCase()),
        },
      ]),
    ];
    await this.batchPut(items);
  }

  /** Gives a replaced generation a short TTL; reads skip it once that passes. */
  private async retire(generation: string): Promise<void> {
    const ttl = Math.floor(this.table.now() / 1000) + RETIRED_TTL_SECONDS;
    const items = await this.table.queryAll<Item>({
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": generationPk(generation) },
    });
    await this.batchPut(items.map((item) => ({ ...item, ttl })));
  }

  private async batchPut(items: Item[]): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH) {
      let requests = items.slice(i, i + BATCH).map((item) => ({ PutRequest: { Item: item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 8) throw new Error(`DynamoDB left ${requests.length} listing writes unprocessed`);
        if (attempt > 0)
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
        const output = await this.table.client.send(
          new BatchWriteCommand({ RequestItems: { [this.table.name]: requests } }),
        );
        requests = (output.UnprocessedItems?.[this.table.name] ?? []) as typeof requests;
      }
    }
  }
}

function encodeTemplateCursor(sk: string): string {
  return encodeCursor({ after: sk }) ?? "";
}

function decodeTemplateCursor(cursor: string | undefined): string | undefined {
  const decoded = decodeCursor(cursor);
  if (decoded === undefined) return undefined;
  const after = decoded.after;
  if (typeof after !== "string" || !after.startsWith(TEMPLATE_BY_NAME) || Object.keys(decoded).length !== 1) {
    throw new InvalidCursorError("cursor is not one this API returned");
  }
  return after;
}
