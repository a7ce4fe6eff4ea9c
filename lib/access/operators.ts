import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isConditionFailure, type Page, type Table, withoutKeys } from "#lib/store/dynamo.ts";
import { OPERATOR_NAME, type Role } from "./roles.ts";

/** An operator as listed: never the token, which exists only in the answer that created it. */
export interface Operator {
  name: string;
  role: Role;
  createdAt: string;
  createdBy: string;
}

interface OperatorItem extends Operator {
  tokenHash: string;
  revokedAt?: string;
  revokedBy?: string;
}

export class OperatorExistsError extends Error {
  override name = "OperatorExistsError";
}

const TOKEN_PREFIX = "ilop";
const operatorKey = (name: string) => ({ pk: `OPERATOR#${name}`, sk: "OPERATOR" });
const hashOf = (secret: string) => createHash("sha256").update(secret).digest("base64url");

/**
 * An operator's token: `ilop.<name, base64url>.<32 random bytes, base64url>`. The name says which
 * item to read (one GetItem, no index over secrets); only the SHA-256 of the whole token is stored.
 */
function issueToken(name: string): string {
  return `${TOKEN_PREFIX}.${Buffer.from(name).toString("base64url")}.${randomBytes(32).toString("base64url")}`;
}

/** The operator name a token claims, or undefined when it is not shaped like an operator token. */
export function claimedName(token: string): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX || !parts[1] || !parts[2]) return undefined;
  const name = Buffer.from(parts[1], "base64url").toString("utf8");
  return OPERATOR_NAME.test(name) ? name : undefined;
}

/**
 * The named operators (issue: operators with roles), one item each in the single table, listed
 * through gsi1 (`OPERATORS`). A revoked operator's item stays (who revoked it, when) and its name
 * may be given again, with a new token.
 */
export class Operators {
  constructor(private readonly table: Table) {}

  /** Creates `name` with `role`; the token is returned here and never again. */
  async add(name: string, role: Role, createdBy: string): Promise<{ operator: Operator; token: string }> {
    const token = issueToken(name);
    const operator: Operator = {
      name,
      role,
      createdAt: new Date(this.table.now()).toISOString(),
      createdBy,
    };
    try {
      await this.table.put(
        { ...operatorKey(name), gsi1pk: "OPERATORS", gsi1sk: name, ...operator, tokenHash: hashOf(token) },
        { ConditionExpression: "attribute_not_exists(pk) OR attribute_exists(revokedAt)" },
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new OperatorExistsError(`An operator named ${name} exists.`);
      throw error;
    }
    return { operator, token };
  }

  /** The active operators by name, a page at a time (`cursor`: the store's position). */
  async list(limit: number, cursor?: string): Promise<Page<Operator>> {
    const page = await this.table.query<OperatorItem & Record<string, unknown>>(
      {
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :pk",
        ExpressionAttributeValues: { ":pk": "OPERATORS" },
        Limit: limit,
      },
      cursor,
    );
    return { ...page, items: page.items.map(publicView) };
  }

  /** Revokes `name`; false when no active operator has it. */
  async revoke(name: string, revokedBy: string): Promise<boolean> {
    try {
      await this.table.update({
        Key: operatorKey(name),
        UpdateExpression: "SET revokedAt = :now, revokedBy = :by REMOVE gsi1pk, gsi1sk",
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(revokedAt)",
        ExpressionAttributeValues: { ":now": new Date(this.table.now()).toISOString(), ":by": revokedBy },
      });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** The active operator named `name`, or undefined (unknown or revoked). */
  async active(name: string): Promise<Operator | undefined> {
    const key = operatorKey(name);
    const item = await this.table.get<OperatorItem & Record<string, unknown>>(key.pk, key.sk);
    return item && item.revokedAt === undefined ? publicView(item) : undefined;
  }

  /** The active operator a token belongs to (hashes compared in constant time), or undefined. */
  async authenticate(token: string): Promise<Operator | undefined> {
    const name = claimedName(token);
    if (!name) return undefined;
    const key = operatorKey(name);
    const item = await this.table.get<OperatorItem & Record<string, unknown>>(key.pk, key.sk);
    if (!item || item.revokedAt !== undefined) return undefined;
    const given = Buffer.from(hashOf(token));
    const stored = Buffer.from(item.tokenHash);
    return given.length === stored.length && timingSafeEqual(given, stored) ? publicView(item) : undefined;
  }
}

function publicView(item: OperatorItem & Record<string, unknown>): Operator {
  const { tokenHash: _hash, revokedAt: _at, revokedBy: _by, ...rest } = withoutKeys<OperatorItem>(item);
  return rest;
}
