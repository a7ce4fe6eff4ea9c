import type { StripeSubscription } from "#lib/stripe/schemas.ts";
import { checkoutEmailKey, profileEmailKey } from "./customer-index.ts";
import { isConditionFailure, type Table, withoutKeys } from "./dynamo.ts";
import type { LicenseRecord } from "./licenses.ts";

/** What we keep of a Stripe customer (email resolution needs these). */
export interface CustomerProfile {
  customerId: string;
  email?: string | null;
  metadata: Record<string, string>;
  /** The integrator.io email captured at checkout. */
  checkoutEmail?: string;
  deleted?: boolean;
  /** Stripe `created` (seconds) of the event this snapshot came from, or the fetch time. */
  version: number;
  /** `stripe` when fetched from Stripe rather than taken from an event (see `SubscriptionRecord.source`). */
  source?: "stripe";
  updatedAt: string;
}

/**
 * A subscription snapshot, versioned by the `created` of the event that carried it (the order of
 * Stripe's events) and revised by every write (the order of our writes: every write is
 * conditioned on the revision it read, so a write decided on an older read never lands).
 */
export interface SubscriptionRecord {
  customerId: string;
  subscriptionId: string;
  status: string;
  /** Stripe `created` (seconds) of the event this snapshot came from, or the fetch time. */
  version: number;
  /** The id of the event that carried it, or `stripe` for a fetch. */
  source: string;
  snapshot: StripeSubscription;
  /** Grows by one with every write; 0 for a record written before revisions were kept. */
  rev: number;
  updatedAt: string;
}

/** What the store holds for one customer (`Customers.state`); the worker applies each event to it. */
export interface CustomerState {
  profile: CustomerProfile | undefined;
  subscriptions: SubscriptionRecord[];
  licenses: LicenseRecord[];
}

/** A stored subscription item as a record (one written before revisions were kept is at revision 0). */
function subscriptionRecord(item: Record<string, unknown>): SubscriptionRecord {
  const record = withoutKeys<SubscriptionRecord>(item);
  return { ...record, rev: record.rev ?? 0 };
}

/** Statuses Stripe never leaves: no later snapshot may bring such a subscription back. */
export const TERMINAL_STATUSES = new Set(["canceled", "incomplete_expired"]);

export const customerKey = (customerId: string) => `CUSTOMER#${customerId}`;

/** The gsi2 partition holding every subscription record. */
const SUBSCRIPTIONS_PARTITION = "SUBSCRIPTIONS";

/** Customer profiles and subscription snapshots, one partition per Stripe customer. */
export class Customers {
  constructor(private readonly table: Table) {}

  async profile(customerId: string): Promise<CustomerProfile | undefined> {
    const item = await this.table.get(customerKey(customerId), "PROFILE");
    return item ? withoutKeys<CustomerProfile>(item) : undefined;
  }

  /**
   * Writes the profile unless a newer one is stored (`version` guards ordering), in one
   * conditional update: the checkout email, written apart by `saveCheckoutEmail`, is never touched.
   * Returns the profile as stored, or undefined when a newer one was kept.
   */
  async saveProfile(
    profile: Omit<CustomerProfile, "updatedAt" | "checkoutEmail">,
  ): Promise<CustomerProfile | undefined> {
    const set = [
      "#customerId = :customerId",
      "#email = :email",
      "#metadata = :metadata",
      "#version = :version",
      "#updatedAt = :now",
    ];
    const remove: string[] = [];
    (profile.deleted ? set : remove).push(profile.deleted ? "#deleted = :true" : "#deleted");
    (profile.source ? set : remove).push(profile.source ? "#source = :source" : "#source");
    // The email's search key moves with the email, in this same write (lib/store/customer-index.ts).
    const email = profile.email?.trim() ? profile.email : undefined;
    if (email) set.push("gsi1pk = :emailKey", "gsi1sk = :customerId");
    else remove.push("gsi1pk", "gsi1sk");
    try {
      const item = await this.table.update({
        Key: { pk: customerKey(profile.customerId), sk: "PROFILE" },
        UpdateExpression: `SET ${set.join(", ")}${remove.length ? ` REMOVE ${remove.join(", ")}` : ""}`,
        ConditionExpression: "attribute_not_exists(#version) OR #version <= :version",
        ExpressionAttributeNames: {
          "#customerId": "customerId",
          "#email": "email",
          "#metadata": "metadata",
          "#version": "version",
          "#updatedAt": "updatedAt",
          "#deleted": "deleted",
          "#source": "source",
        },
        ExpressionAttributeValues: {
          ":customerId": profile.customerId,
          ":email": profile.email ?? null,
          ":metadata": profile.metadata,
          ":version": profile.version,
          ":now": new Date(this.table.now()).toISOString(),
          ...(profile.deleted ? { ":true": true } : {}),
          ...(profile.source ? { ":source": profile.source } : {}),
          ...(email ? { ":emailKey": profileEmailKey(email) } : {}),
        },
      });
      return item ? withoutKeys<CustomerProfile>(item) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Records the integrator.io email a buyer typed at checkout, creating a bare profile if needed. */
  async saveCheckoutEmail(customerId: string, email: string): Promise<CustomerProfile> {
    const item = await this.table.update({
      Key: { pk: customerKey(customerId), sk: "PROFILE" },
      UpdateExpression:
        "SET checkoutEmail = :email, customerId = :id, updatedAt = :now, metadata = if_not_exists(metadata, :empty), version = if_not_exists(version, :zero), gsi2pk = :emailKey, gsi2sk = :id",
      ExpressionAttributeValues: {
        ":email": email,
        ":emailKey": checkoutEmailKey(email),
        ":id": customerId,
        ":now": new Date(this.table.now()).toISOString(),
        ":empty": {},
        ":zero": 0,
      },
    });
    return withoutKeys<CustomerProfile>(item ?? {});
  }

  /**
   * What the store holds for a customer but the audit trail, in one consistent query: the
   * partition's sort keys run AUDIT#… < LICENSE#… < PROFILE < SUB#…, so it reads from LICENSE# on.
   */
  async state(customerId: string): Promise<CustomerState> {
    const items = await this.table.queryAll({
      KeyConditionExpression: "pk = :pk AND sk >= :from",
      ExpressionAttributeValues: { ":pk": customerKey(customerId), ":from": "LICENSE#" },
      ConsistentRead: true,
    });
    const state: CustomerState = { profile: undefined, subscriptions: [], licenses: [] };
    for (const item of items) {
      const sk = String(item.sk);
      if (sk === "PROFILE") state.profile = withoutKeys<CustomerProfile>(item);
      else if (sk.startsWith("SUB#")) state.subscriptions.push(subscriptionRecord(item));
      else if (sk.startsWith("LICENSE#")) state.licenses.push(withoutKeys<LicenseRecord>(item));
    }
    return state;
  }

  async subscriptions(customerId: string): Promise<SubscriptionRecord[]> {
    const items = await this.table.queryAll({
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :sub)",
      ExpressionAttributeValues: { ":pk": customerKey(customerId), ":sub": "SUB#" },
      ConsistentRead: true,
    });
    return items.map(subscriptionRecord);
  }

  async subscription(customerId: string, subscriptionId: string): Promise<SubscriptionRecord | undefined> {
    const item = await this.table.get(customerKey(customerId), `SUB#${subscriptionId}`);
    return item ? subscriptionRecord(item) : undefined;
  }

  /**
   * Stores `record` at revision `expectedRev + 1` if the stored one is still at `expectedRev`
   * (undefined: none may be stored; 0: one written before revisions were kept). A conditional
   * write makes two writers racing on one subscription safe. Returns the record as stored, or
   * undefined when another writer changed it first.
   */
  async saveSubscription(
    record: Omit<SubscriptionRecord, "updatedAt" | "rev">,
    expectedRev: number | undefined,
  ): Promise<SubscriptionRecord | undefined> {
    const saved: SubscriptionRecord = {
      ...record,
      rev: (expectedRev ?? 0) + 1,
      updatedAt: new Date(this.table.now()).toISOString(),
    };
    const condition =
      expectedRev === undefined
        ? { ConditionExpression: "attribute_not_exists(pk)" }
        : expectedRev === 0
          ? { ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(rev)" }
          : {
              ConditionExpression: "rev = :expected",
              ExpressionAttributeValues: { ":expected": expectedRev },
            };
    try {
      await this.table.put(
        {
          pk: customerKey(record.customerId),
          sk: `SUB#${record.subscriptionId}`,
          gsi1pk: `SUBSCRIPTION#${record.subscriptionId}`,
          gsi1sk: record.customerId,
          // Every subscription in one gsi2 partition: reconcile lists their customers without
          // reading anything else (gsi1 also holds every inbox event, payload included).
          gsi2pk: SUBSCRIPTIONS_PARTITION,
          gsi2sk: `${record.customerId}#${record.subscriptionId}`,
          ...saved,
        },
        condition,
      );
      return saved;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /**
   * True when the store holds a profile, subscription or license of the customer (what the admin
   * customer view shows): one query of at most one item of its partition.
   */
  async known(customerId: string): Promise<boolean> {
    const page = await this.table.query({
      KeyConditionExpression: "pk = :pk AND sk >= :from",
      ExpressionAttributeValues: { ":pk": customerKey(customerId), ":from": "LICENSE#" },
      ProjectionExpression: "pk",
      Limit: 1,
    });
    return page.items.length > 0;
  }

  /** Customers whose profile email is `email` (normalised), by id after `after`, at most `limit`. */
  async idsByProfileEmail(email: string, after: string | undefined, limit: number): Promise<string[]> {
    return this.idsIn("gsi1", profileEmailKey(email), after, limit);
  }

  /** Customers whose checkout email is `email` (normalised), by id after `after`, at most `limit`. */
  async idsByCheckoutEmail(email: string, after: string | undefined, limit: number): Promise<string[]> {
    return this.idsIn("gsi2", checkoutEmailKey(email), after, limit);
  }

  /** The customer(s) a subscription id is stored for (one, unless Stripe reused an id), after `after`. */
  async idsBySubscription(
    subscriptionId: string,
    after: string | undefined,
    limit: number,
  ): Promise<string[]> {
    return this.idsIn("gsi1", `SUBSCRIPTION#${subscriptionId}`, after, limit);
  }

  /** Customer ids of one index partition whose sort key is the customer id, ascending, after `after`. */
  private async idsIn(index: "gsi1" | "gsi2", partition: string, after: string | undefined, limit: number) {
    const page = await this.table.query({
      IndexName: index,
      KeyConditionExpression: after ? `${index}pk = :pk AND ${index}sk > :after` : `${index}pk = :pk`,
      ExpressionAttributeValues: { ":pk": partition, ...(after ? { ":after": after } : {}) },
      ProjectionExpression: "customerId",
      Limit: limit,
    });
    return page.items.map((item) => String(item.customerId));
  }

  /**
   * Every customer id we hold a subscription for (reconcile's view of the store), from the
   * subscriptions' own gsi2 partition: it reads subscriptions only. (A scan of gsi1 with a filter
   * read every inbox event too, payload included, on every run; DynamoDB Local ran out of heap on
   * it at 40,000 events.)
   */
  async customerIdsWithSubscriptions(): Promise<string[]> {
    const items = await this.table.queryAll({
      IndexName: "gsi2",
      KeyConditionExpression: "gsi2pk = :pk",
      ExpressionAttributeValues: { ":pk": SUBSCRIPTIONS_PARTITION },
      ProjectionExpression: "customerId",
    });
    return [...new Set(items.map((item) => String(item.customerId)))];
  }
}
