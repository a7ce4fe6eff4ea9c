import { sameJson } from "#lib/licensing/license.ts";
import {
  type CustomerProfile,
  type CustomerState,
  type SubscriptionRecord,
  TERMINAL_STATUSES,
} from "#lib/store/customers.ts";
import type { StripeSubscription } from "#lib/stripe/schemas.ts";
import type { EnginePorts } from "./ports.ts";
import { RecordConflictError } from "./retry.ts";

/**
 * The ordering rules for a customer's Stripe records (docs/architecture.md §5), as pure decisions,
 * and the writes that carry them out. Every write is conditioned on the revision read before the
 * decision, so a decision made on an older read never lands: it loses with `RecordConflictError`
 * and is made again from a fresh read (`retryOnConflict`).
 */

const isTerminal = (status: string) => TERMINAL_STATUSES.has(status);

/** What to do with a snapshot an event carried, given the stored record. */
export type SnapshotDecision = "store" | "keep" | "askStripe";

/**
 * An event's snapshot is stored unless the stored one is newer or final. Same second and
 * different content cannot be ordered, nor can an event's snapshot and one fetched from Stripe
 * (a fetch is as new as the fetch, yet carries an event's version): Stripe's current subscription
 * decides.
 */
export function decideEventSnapshot(
  stored: SubscriptionRecord | undefined,
  snapshot: StripeSubscription,
  version: number,
): SnapshotDecision {
  if (!stored) return "store";
  if (isTerminal(stored.status) && !isTerminal(snapshot.status)) return "keep";
  if (version < stored.version) return "keep";
  if (version === stored.version || stored.source === "stripe") {
    return sameJson(stored.snapshot, snapshot) ? "keep" : "askStripe";
  }
  return "store";
}

/**
 * The record a subscription fetched from Stripe becomes, or undefined when nothing is written:
 * it is the truth as of the fetch, stored at the version (event `created`) of the newest event
 * seen, so only a strictly newer event replaces it. A fetch that is not final while the stored
 * record is (`canceled`, `incomplete_expired`) is older than it — Stripe never leaves those — and
 * is dropped, whoever fetched it. Versions stay in Stripe's event time, never our clock.
 */
export function fetchedRecord(
  customerId: string,
  stored: SubscriptionRecord | undefined,
  fetched: StripeSubscription,
  atVersion: number,
): Omit<SubscriptionRecord, "updatedAt" | "rev"> | undefined {
  if (stored && isTerminal(stored.status) && !isTerminal(fetched.status)) return undefined;
  const version = Math.max(atVersion, stored?.version ?? 0);
  if (stored?.source === "stripe" && stored.version === version && sameJson(stored.snapshot, fetched)) {
    return undefined;
  }
  return {
    customerId,
    subscriptionId: fetched.id,
    status: fetched.status,
    version,
    source: "stripe",
    snapshot: fetched,
  };
}

/** `state` with one subscription record replaced (or added). */
export function withSubscription(state: CustomerState, record: SubscriptionRecord): CustomerState {
  return {
    ...state,
    subscriptions: [...state.subscriptions.filter((s) => s.subscriptionId !== record.subscriptionId), record],
  };
}

/** Writes a subscription record over `stored` (its revision); a lost race is a conflict. */
async function write(
  ports: EnginePorts,
  record: Omit<SubscriptionRecord, "updatedAt" | "rev">,
  stored: SubscriptionRecord | undefined,
): Promise<SubscriptionRecord> {
  const saved = await ports.customers.saveSubscription(record, stored?.rev);
  if (!saved) throw new RecordConflictError(`subscription ${record.subscriptionId} changed concurrently`);
  return saved;
}

/**
 * Stores Stripe's current subscription over the record `state` holds — read before the fetch, so
 * a write made meanwhile (a newer event) makes this one lose and be decided again. Returns the state with what is stored now, and
 * whether Stripe had it (false on 404, nothing written).
 */
export async function refreshSubscription(
  ports: EnginePorts,
  state: CustomerState,
  customerId: string,
  subscriptionId: string,
  atVersion: number,
): Promise<{ state: CustomerState; found: boolean }> {
  const stored = state.subscriptions.find((s) => s.subscriptionId === subscriptionId);
  const fetched = await ports.stripe.subscription(subscriptionId);
  if (!fetched) {
    ports.logger.warn("subscription not found in Stripe", { subscriptionId });
    return { state, found: false };
  }
  const record = fetchedRecord(customerId, stored, fetched, atVersion);
  if (!record) {
    if (stored && stored.status !== fetched.status) {
      ports.logger.info("a fetched subscription older than the stored final one was dropped", {
        subscriptionId,
        stored: stored.status,
        fetched: fetched.status,
      });
    }
    return { state, found: true };
  }
  return { state: withSubscription(state, await write(ports, record, stored)), found: true };
}

/** Stores an event's subscription snapshot by the ordering rules; returns the state as it now stands. */
export async function storeEventSnapshot(
  ports: EnginePorts,
  state: CustomerState,
  customerId: string,
  snapshot: StripeSubscription,
  version: number,
  source: string,
): Promise<CustomerState> {
  const stored = state.subscriptions.find((s) => s.subscriptionId === snapshot.id);
  const decision = decideEventSnapshot(stored, snapshot, version);
  if (decision === "keep") return state;
  if (decision === "askStripe") {
    const refreshed = await refreshSubscription(ports, state, customerId, snapshot.id, version);
    // Stripe no longer has it: keep the more final of the two.
    if (refreshed.found || !isTerminal(snapshot.status)) return refreshed.state;
  }
  const record = {
    customerId,
    subscriptionId: snapshot.id,
    status: snapshot.status,
    version,
    source,
    snapshot,
  };
  return withSubscription(state, await write(ports, record, stored));
}

/** Saves a profile; refused, a newer one is stored, and the state takes that one. */
export async function saveProfile(
  ports: EnginePorts,
  state: CustomerState,
  profile: Omit<CustomerProfile, "updatedAt" | "checkoutEmail">,
): Promise<CustomerState> {
  const saved = await ports.customers.saveProfile(profile);
  return { ...state, profile: saved ?? (await ports.customers.profile(profile.customerId)) };
}

/** Stores Stripe's current customer at the version of the newest event seen (see `fetchedRecord`). */
export async function refreshProfile(
  ports: EnginePorts,
  state: CustomerState,
  customerId: string,
  atVersion: number,
): Promise<CustomerState> {
  const customer = await ports.stripe.customer(customerId);
  if (!customer) return state;
  return saveProfile(ports, state, {
    customerId,
    email: customer.email ?? null,
    metadata: customer.metadata,
    ...(customer.deleted ? { deleted: true } : {}),
    version: Math.max(atVersion, state.profile?.version ?? 0, 1),
    source: "stripe",
  });
}
