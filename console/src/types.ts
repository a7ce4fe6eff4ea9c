/** The JSON the console reads, as the admin API and the console session routes answer it. */

export type Role = "viewer" | "operator" | "admin";

export interface Operator {
  name: string;
  role: Role;
}

export interface Session {
  operator: Operator;
  csrfToken: string;
  expiresAt: string;
}

export interface Page<T> {
  data: T[];
  nextCursor?: string;
}

export const LICENSE_STATES = ["creating", "active", "pending_user", "expired", "deleted"] as const;
export const INBOX_STATUSES = ["received", "enqueued", "processed", "failed", "ignored"] as const;
export type LicenseState = (typeof LICENSE_STATES)[number];
export type InboxStatus = (typeof INBOX_STATUSES)[number];

export interface RunSummary {
  runId: string;
  state: "running" | "done" | "failed";
  dryRun: boolean;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  counts: Record<string, number>;
  itemCount: number;
  error?: string;
}

export interface DriftItem {
  kind: string;
  customerId?: string | null;
  connector?: string | null;
  connectorKey?: string;
  licenseId?: string;
  eventId?: string;
  subscriptionId?: string;
  detail?: unknown;
}

export interface ReconcileRun extends RunSummary {
  items: DriftItem[];
  itemsTruncated: boolean;
}

export interface Overview {
  licenses: Partial<Record<LicenseState, number>>;
  /** The license counts are lower bounds. */
  licensesPartial?: boolean;
  eventsFailed24h: number;
  dlq: { approximateCount: number };
  lastReconcile: RunSummary | null;
  rateLimit: {
    tokens: number;
    capacity: number;
    refillPerSecond: number;
    pausedUntil: string | null;
    updatedAt: string | null;
  };
  generatedAt: string;
}

export interface CustomerMatch {
  customerId: string;
  email: string | null;
  matchedBy: string;
  subscriptions: { subscriptionId: string; status: string }[];
  licenses: { connectorKey: string; state: string; email: string }[];
}

export interface EventSummary {
  eventId: string;
  type: string;
  customerId?: string;
  groupId?: string;
  status: InboxStatus;
  reason?: string;
  error?: string;
  attempts?: number;
  created: number;
  livemode?: boolean;
  receivedAt?: string;
  updatedAt?: string;
}

export interface SubscriptionSummary {
  subscriptionId: string;
  status: string;
  integratorEmail: string | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  trialEnd: number | null;
  items: { price: string; lookupKey: string | null; quantity: number; currentPeriodEnd: number }[];
}

/** integrator.io's copy of a license when it differs from ours. */
export type IntegratorCopy =
  | { missing: true }
  | {
      missing?: false;
      email: string | null;
      expires: string | null;
      opts: Record<string, unknown>;
      integrationId?: string;
    };

export interface License {
  customerId: string;
  connectorKey: string;
  connectorId: string;
  licenseId?: string;
  email: string;
  expires: string;
  opts: Record<string, unknown>;
  state: LicenseState;
  subscriptionId?: string;
  reason?: string;
  updatedAt: string;
  integrator?: IntegratorCopy;
}

export interface AuditEntry {
  at: string;
  action: string;
  connectorKey?: string;
  licenseId?: string;
  cause?: string;
  actor?: string;
  detail?: Record<string, unknown>;
}

export interface CustomerView {
  customerId: string;
  profile: {
    email: string | null;
    metadata: Record<string, string>;
    checkoutEmail?: string;
    deleted?: boolean;
    updatedAt: string;
  } | null;
  subscriptions: SubscriptionSummary[];
  licenses: License[];
  installs?: Record<string, unknown>[];
  events?: EventSummary[];
  audit: AuditEntry[];
  integratorUnavailable?: boolean;
}

export interface CustomerReconcile {
  customerId: string;
  dryRun: boolean;
  findings: DriftItem[];
  repaired: number;
}

export interface DeadLetter {
  messageId: string;
  groupId: string | null;
  sentAt: string | null;
  receiveCount: number | null;
  eventId: string | null;
  event: EventSummary | null;
  reason: string | null;
}

export interface DeadLetters {
  data: DeadLetter[];
  approximateTotal: number;
}

/** A catalog price: a `price_` id or lookup key, or a lookup key with its amount (minor unit), currency and interval. */
export type CatalogPrice =
  | string
  | { lookupKey: string; amount?: number; currency?: string; interval?: "month" | "year" };

export interface CatalogEntry {
  key: string;
  name?: string;
  prices: CatalogPrice[];
}

export interface CatalogAddon extends CatalogEntry {
  type: string;
  addOnEdition: string;
  maxQuantity?: number;
}

export interface CatalogConnector {
  key: string;
  connectorId: string;
  name: string;
  description?: string;
  trialDays?: number;
  editions: CatalogEntry[];
  addons?: CatalogAddon[];
}

export interface Catalog {
  connectors: CatalogConnector[];
  policy: Record<string, unknown>;
}

export interface OperatorRecord extends Operator {
  createdAt: string;
  createdBy: string;
}

export interface NewOperator extends Operator {
  token: string;
}
