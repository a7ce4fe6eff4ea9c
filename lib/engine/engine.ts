import type { License } from "#lib/integrator/schemas.ts";
import type { LicenseOperation } from "#lib/licensing/plan-changes.ts";
import type { LicenseRecord } from "#lib/store/licenses.ts";
import type { StripeEvent } from "#lib/stripe/schemas.ts";
import { UnrecognisedStripeObject } from "#lib/stripe/unrecognised.ts";
import { applyEvent } from "./apply.ts";
import { converge, execute, expireOffRecord, type InFlight } from "./converge.ts";
import { LicenseLedger, type LicenseTarget } from "./ledger.ts";
import { type ConvergePlan, type PlanInput, planCustomer } from "./plan.ts";
import type { EnginePorts } from "./ports.ts";
import { retryOnConflict } from "./retry.ts";
import { eventCustomerId } from "./stripe-events.ts";
import { refreshProfile, refreshSubscription } from "./subscriptions.ts";

/** What became of a Stripe event: applied (and its customer converged), or not applicable. */
export type EventOutcome =
  | { outcome: "applied"; customerId: string; changed: boolean }
  | { outcome: "no customer" }
  /** Stripe sent something this code does not know: not applied (see `processInboxEvent`). */
  | { outcome: "unrecognised"; customerId: string; error: UnrecognisedStripeObject };

/**
 * The license engine: the one place a license's life is decided. The worker (`processEvent`),
 * reconcile and the admin API all change licenses through it. Every unit of work reads what it
 * needs afresh and is done again while it loses a conditional write to another writer
 * (`retryOnConflict`) — except an admin transfer, which answers 409 instead of retrying into a
 * second winner.
 */
export class Engine {
  readonly ledger: LicenseLedger;

  constructor(readonly ports: EnginePorts) {
    this.ledger = new LicenseLedger(ports);
  }

  /**
   * Applies one Stripe event to its customer's stored records, then converges the customer's
   * licenses on a fresh read of everything (applying may have waited on Stripe, and integrator.io
   * is changed before a license record's conditional write could catch a stale view).
   */
  processEvent(event: StripeEvent, cause: string): Promise<EventOutcome> {
    const customerId = eventCustomerId(event);
    if (!customerId) return Promise.resolve({ outcome: "no customer" });
    return this.retry(async () => {
      try {
        const applied = await applyEvent(event, await this.ports.customers.state(customerId), this.ports);
        await this.converge(customerId, cause);
        return { outcome: "applied", customerId, changed: applied.changed };
      } catch (error) {
        if (!(error instanceof UnrecognisedStripeObject)) throw error;
        // Met where it was met, maybe after something else was stored: converge on what is stored.
        await this.converge(customerId, cause);
        return { outcome: "unrecognised", customerId, error };
      }
    });
  }

  /** Plans on `view` (what reconcile knows better than the store) or the stored state, without changing anything. */
  async plan(customerId: string, view: Partial<PlanInput> = {}): Promise<ConvergePlan> {
    return planCustomer(
      customerId,
      await this.planInput(customerId, view),
      this.ports.catalog,
      this.ports.clock.now(),
    );
  }

  /**
   * Converges the customer's licenses on `view` or the stored state, read now. Conflicts are the
   * caller's to retry (`retry`), from a fresh read. A `creating` record whose create may still be in
   * flight elsewhere is waited for (`wait`) or left for later (`leave`: CreateOutcomePendingError).
   */
  async converge(
    customerId: string,
    cause: string,
    { view = {}, inFlight = "wait" }: { view?: Partial<PlanInput>; inFlight?: InFlight } = {},
  ): Promise<ConvergePlan> {
    return converge(
      this.ports,
      this.ledger,
      customerId,
      await this.planInput(customerId, view),
      cause,
      inFlight,
    );
  }

  /** Carries out one operation on a license record (reconcile expires a license whose paid-for access lapsed). */
  execute(operation: LicenseOperation, current: LicenseRecord, target: LicenseTarget) {
    return execute(this.ports, this.ledger, operation, current, target);
  }

  /** Expires a live license of ours that no record points at (a second one for the same customer and connector). */
  expireOffRecord(target: LicenseTarget, license: License): Promise<void> {
    return expireOffRecord(this.ports, this.ledger, target, license);
  }

  /** Stores Stripe's current subscription (see `fetchedRecord`); false when Stripe answers 404. */
  refreshSubscription(customerId: string, subscriptionId: string, atVersion: number): Promise<boolean> {
    return this.retry(async () => {
      const state = await this.ports.customers.state(customerId);
      return (await refreshSubscription(this.ports, state, customerId, subscriptionId, atVersion)).found;
    });
  }

  /** Stores Stripe's current customer. */
  async refreshProfile(customerId: string): Promise<void> {
    const state = await this.ports.customers.state(customerId);
    await refreshProfile(this.ports, state, customerId, 0);
  }

  /** The same engine, logging through `logger` (one per event or customer, naming it in every line). */
  withLogger(logger: EnginePorts["logger"]): Engine {
    return new Engine({ ...this.ports, logger });
  }

  /** Runs `work` again from a fresh read while it loses a write to another writer. */
  retry<T>(work: () => Promise<T>): Promise<T> {
    return retryOnConflict(work, {
      clock: this.ports.clock,
      onConflict: (attempt) =>
        this.ports.logger.info("another writer changed the records; again", { attempt }),
    });
  }

  private async planInput(customerId: string, view: Partial<PlanInput>): Promise<PlanInput> {
    const needsRead = !("profile" in view) || !view.subscriptions || !view.licenses;
    const state = needsRead ? await this.ports.customers.state(customerId) : undefined;
    return {
      profile: "profile" in view ? view.profile : state?.profile,
      subscriptions: view.subscriptions ?? state?.subscriptions.map((s) => s.snapshot) ?? [],
      licenses: view.licenses ?? state?.licenses ?? [],
    };
  }
}
