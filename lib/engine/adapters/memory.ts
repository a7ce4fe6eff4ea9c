import type { Clock, CustomerRecords, LicenseRecords } from "#lib/engine/ports.ts";
import type { CustomerProfile, CustomerState, SubscriptionRecord } from "#lib/store/customers.ts";
import {
  type CreateIntent,
  LicenseConflictError,
  type LicenseRecord,
  type OwnedLicense,
} from "#lib/store/licenses.ts";

/**
 * The two stores in memory, for engine tests on a fake clock: they keep the DynamoDB adapters'
 * contract (test/contract/store-contract.ts runs against both). Each check of a stored rev or
 * version and the write it guards run without an await between them: atomic, as one conditional
 * write is.
 */

/** Create intents are kept this long, as DynamoDB's TTL keeps them (lib/store/licenses.ts). */
const INTENT_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** A deep copy without the attributes set to undefined, as the document client stores an item. */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(withoutUndefined) as T;
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([key, v]) => [key, withoutUndefined(v)]),
  ) as T;
}

/** Items by partition and sort key, queried in sort-key order; copies go in and come out. */
class Items<T> {
  private readonly partitions = new Map<string, Map<string, T>>();

  get(pk: string, sk = ""): T | undefined {
    const item = this.partitions.get(pk)?.get(sk);
    return item === undefined ? undefined : structuredClone(item);
  }

  query(pk: string): T[] {
    const partition = this.partitions.get(pk) ?? new Map<string, T>();
    return [...partition.keys()].sort().map((sk) => structuredClone(partition.get(sk) as T));
  }

  delete(pk: string, sk = ""): void {
    this.partitions.get(pk)?.delete(sk);
  }

  put(item: T, pk: string, sk = ""): T {
    const partition = this.partitions.get(pk) ?? new Map<string, T>();
    partition.set(sk, withoutUndefined(item));
    this.partitions.set(pk, partition);
    return structuredClone(partition.get(sk) as T);
  }
}

/** Whether a write conditioned on `expectedRev` finds the stored record there (undefined: none stored). */
const isAt = (stored: { rev: number } | undefined, expectedRev: number | undefined) =>
  expectedRev === undefined ? stored === undefined : stored?.rev === expectedRev;

export class MemoryLicenseRecords implements LicenseRecords {
  private readonly records = new Items<LicenseRecord>();
  private readonly owned = new Items<OwnedLicense>();
  private readonly intents = new Items<CreateIntent>();

  constructor(private readonly clock: Pick<Clock, "now">) {}

  async get(customerId: string, connectorKey: string): Promise<LicenseRecord | undefined> {
    return this.records.get(customerId, connectorKey);
  }

  async forCustomer(customerId: string): Promise<LicenseRecord[]> {
    return this.records.query(customerId);
  }

  async save(
    license: Omit<LicenseRecord, "rev" | "updatedAt">,
    expectedRev: number | undefined,
    { owned = false }: { owned?: boolean } = {},
  ): Promise<LicenseRecord> {
    const { licenseId, customerId, connectorKey, connectorId, email } = license;
    // Ownership first, kept even when the write below loses its race (as `Licenses.save`).
    if (licenseId && !owned) await this.own({ licenseId, customerId, connectorKey, connectorId, email });
    if (!isAt(this.records.get(customerId, connectorKey), expectedRev)) {
      throw new LicenseConflictError(`license ${customerId}/${connectorKey} changed concurrently`);
    }
    const record = { ...license, rev: (expectedRev ?? 0) + 1, updatedAt: this.clock.now().toISOString() };
    return this.records.put(record, customerId, connectorKey);
  }

  /**
   * Idempotent: the id's one record, with `ownedAt` the time of the latest call and a bound
   * integration kept. Another customer's or connector's license is never taken over.
   */
  async own({
    licenseId,
    customerId,
    connectorKey,
    connectorId,
    email,
  }: Omit<OwnedLicense, "ownedAt" | "integrationId">): Promise<void> {
    const stored = this.owned.get(licenseId);
    if (stored && (stored.customerId !== customerId || stored.connectorKey !== connectorKey)) {
      throw new LicenseConflictError(`license ${licenseId} is owned by another customer or connector`);
    }
    const ownedAt = this.clock.now().toISOString();
    this.owned.put(
      { ...stored, licenseId, customerId, connectorKey, connectorId, email, ownedAt },
      licenseId,
    );
  }

  async owner(licenseId: string): Promise<OwnedLicense | undefined> {
    return this.owned.get(licenseId);
  }

  async recordIntent(intent: CreateIntent): Promise<void> {
    this.intents.put(intent, intent.connectorId, intentSk(intent));
  }

  async forgetIntent(intent: CreateIntent): Promise<void> {
    this.intents.delete(intent.connectorId, intentSk(intent));
  }

  async openIntents(connectorId: string): Promise<CreateIntent[]> {
    const now = this.clock.now().getTime();
    return this.intents
      .query(connectorId)
      .filter((intent) => Date.parse(intent.intentAt) + INTENT_RETENTION_MS > now);
  }
}

/** Intents of a connector sort by email, then time (as their DynamoDB sort key). */
const intentSk = (intent: CreateIntent) =>
  `${intent.email}#${intent.intentAt}#${intent.customerId}#${intent.connectorKey}`;

export class MemoryCustomerRecords implements CustomerRecords {
  private readonly profiles = new Items<CustomerProfile>();
  private readonly records = new Items<SubscriptionRecord>();

  /** `licenses`: the store `state` reads a customer's licenses from. */
  constructor(
    private readonly licenses: MemoryLicenseRecords,
    private readonly clock: Pick<Clock, "now">,
  ) {}

  async state(customerId: string): Promise<CustomerState> {
    // The three reads run before the first await: one consistent read.
    const [profile, subscriptions, licenses] = await Promise.all([
      this.profile(customerId),
      this.subscriptions(customerId),
      this.licenses.forCustomer(customerId),
    ]);
    return { profile, subscriptions, licenses };
  }

  async profile(customerId: string): Promise<CustomerProfile | undefined> {
    return this.profiles.get(customerId);
  }

  async subscription(customerId: string, subscriptionId: string): Promise<SubscriptionRecord | undefined> {
    return this.records.get(customerId, subscriptionId);
  }

  async subscriptions(customerId: string): Promise<SubscriptionRecord[]> {
    return this.records.query(customerId);
  }

  async saveSubscription(
    record: Omit<SubscriptionRecord, "updatedAt" | "rev">,
    expectedRev: number | undefined,
  ): Promise<SubscriptionRecord | undefined> {
    const { customerId, subscriptionId } = record;
    if (!isAt(this.records.get(customerId, subscriptionId), expectedRev)) return undefined;
    const saved = { ...record, rev: (expectedRev ?? 0) + 1, updatedAt: this.clock.now().toISOString() };
    return this.records.put(saved, customerId, subscriptionId);
  }

  /** Stores a record as one written before revisions were kept: it reads at rev 0. */
  storeLegacySubscription(record: Omit<SubscriptionRecord, "updatedAt" | "rev">): void {
    const legacy = { ...record, rev: 0, updatedAt: this.clock.now().toISOString() };
    this.records.put(legacy, record.customerId, record.subscriptionId);
  }

  async saveProfile(
    profile: Omit<CustomerProfile, "updatedAt" | "checkoutEmail">,
  ): Promise<CustomerProfile | undefined> {
    const stored = this.profiles.get(profile.customerId);
    if (stored && stored.version > profile.version) return undefined;
    const { customerId, email, metadata, version, deleted, source } = profile;
    return this.profiles.put(
      {
        customerId,
        email: email ?? null,
        metadata,
        version,
        deleted: deleted ? true : undefined,
        source: source || undefined,
        checkoutEmail: stored?.checkoutEmail,
        updatedAt: this.clock.now().toISOString(),
      },
      customerId,
    );
  }

  async saveCheckoutEmail(customerId: string, email: string): Promise<CustomerProfile> {
    const stored = this.profiles.get(customerId) ?? { metadata: {}, version: 0 };
    const updatedAt = this.clock.now().toISOString();
    return this.profiles.put({ ...stored, customerId, checkoutEmail: email, updatedAt }, customerId);
  }
}
