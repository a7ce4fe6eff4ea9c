import type { Logger } from "@aws-lambda-powertools/logger";
import type { DomainEventType } from "#lib/events/domain-events.ts";
import type { LicensesApi } from "#lib/integrator/client.ts";
import type { Catalog } from "#lib/licensing/catalog.ts";
import type { MetricName } from "#lib/observability/metrics.ts";
import type { AuditEntry } from "#lib/store/audit.ts";
import type { CustomerProfile, CustomerState, SubscriptionRecord } from "#lib/store/customers.ts";
import type { CreateIntent, LicenseRecord, OwnedLicense } from "#lib/store/licenses.ts";
import type { StripeCustomer, StripeInvoice, StripeSubscription } from "#lib/stripe/schemas.ts";

/**
 * What the license engine talks to, each port named for what it is. The DynamoDB, integrator.io,
 * Stripe and EventBridge adapters sit behind them in production; tests put in-memory adapters of
 * the two stores (which pass the same contract tests as the DynamoDB ones) and a fake clock.
 */

/** Time, so every window and wait of the engine runs on a fake clock in tests. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A customer's records: the profile and the subscription snapshots Stripe sent or we fetched. */
export interface CustomerRecords {
  /** Profile, subscriptions and licenses in one consistent read. */
  state(customerId: string): Promise<CustomerState>;
  profile(customerId: string): Promise<CustomerProfile | undefined>;
  subscription(customerId: string, subscriptionId: string): Promise<SubscriptionRecord | undefined>;
  subscriptions(customerId: string): Promise<SubscriptionRecord[]>;
  /**
   * Writes a subscription record at revision `expectedRev + 1` if the stored one is still at
   * `expectedRev` (undefined: none may be stored; 0: one stored before revisions existed).
   * Returns the record as stored, or undefined when another writer got there first.
   */
  saveSubscription(
    record: Omit<SubscriptionRecord, "updatedAt" | "rev">,
    expectedRev: number | undefined,
  ): Promise<SubscriptionRecord | undefined>;
  /** Writes the profile unless a newer `version` is stored; undefined when that one was kept. */
  saveProfile(
    profile: Omit<CustomerProfile, "updatedAt" | "checkoutEmail">,
  ): Promise<CustomerProfile | undefined>;
  /** Records the integrator.io email typed at checkout, creating a bare profile if needed. */
  saveCheckoutEmail(customerId: string, email: string): Promise<CustomerProfile>;
}

/**
 * The license ledger's store: one record per (customer, connector), the license ids we own, and
 * every create we ever intended (reconcile adopts a create's license that landed too late).
 */
export interface LicenseRecords {
  get(customerId: string, connectorKey: string): Promise<LicenseRecord | undefined>;
  forCustomer(customerId: string): Promise<LicenseRecord[]>;
  /**
   * Writes the record at revision `expectedRev + 1` if nobody changed it since `expectedRev`
   * (undefined: it must not exist); throws `LicenseConflictError` otherwise.
   */
  save(
    license: Omit<LicenseRecord, "rev" | "updatedAt">,
    expectedRev: number | undefined,
    options?: { owned?: boolean },
  ): Promise<LicenseRecord>;
  /**
   * Records a license id as ours (idempotent; `ownedAt` is the latest call's). A license another
   * customer or connector owns already throws `LicenseConflictError`: it is never taken over.
   */
  own(license: Omit<OwnedLicense, "ownedAt" | "integrationId">): Promise<void>;
  owner(licenseId: string): Promise<OwnedLicense | undefined>;
  /** Keeps a create we are about to POST (idempotent per customer, connector and time). */
  recordIntent(intent: CreateIntent): Promise<void>;
  /** Forgets a create whose outcome is known (idempotent). */
  forgetIntent(intent: CreateIntent): Promise<void>;
  /** The creates of a connector whose outcome was never known (kept 30 days), by email then time. */
  openIntents(connectorId: string): Promise<CreateIntent[]>;
}

/** integrator.io's licenses, through the shared throttled client. */
export type IntegratorLicenses = Pick<LicensesApi, "list" | "get" | "create" | "update" | "delete">;

/** Stripe's current objects, read in the pinned API version (undefined on 404). */
export interface StripeObjects {
  subscription(subscriptionId: string): Promise<StripeSubscription | undefined>;
  customer(customerId: string): Promise<StripeCustomer | undefined>;
  invoice(invoiceId: string): Promise<StripeInvoice | undefined>;
}

/** One license change as announced: its domain event, metric, audit entry and detail. */
export interface LicenseChange {
  type: DomainEventType;
  metric: MetricName;
  audit: Omit<AuditEntry, "at" | "detail">;
  detail: Record<string, unknown>;
}

/** What a change tells the vendor's systems: the audit trail, domain events and metrics. */
export interface Announcements {
  /** A license change: its audit entry, then its domain event (logged on `logger` where only recorded), its metric counted. */
  licenseChanged(change: LicenseChange, logger: Logger): Promise<void>;
  /** An audit entry on its own (a reconcile sync, an admin action). */
  audit(entry: Omit<AuditEntry, "at">): Promise<void>;
  /** A domain event on its own (an unknown price, a capped quantity), with its metric counted. */
  notice(
    type: DomainEventType,
    metric: MetricName,
    detail: Record<string, unknown>,
    logger: Logger,
  ): Promise<void>;
}

/** Everything the engine is built from. */
export interface EnginePorts {
  catalog: Catalog;
  customers: CustomerRecords;
  licenses: LicenseRecords;
  integrator: IntegratorLicenses;
  stripe: StripeObjects;
  announcements: Announcements;
  clock: Clock;
  /** How long a create whose answer was lost may still land (`LATE_COMMIT_WINDOW_MS` unless configured). */
  lateCommitWindowMs: number;
  logger: Logger;
}
