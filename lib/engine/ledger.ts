import type { DomainEventType } from "#lib/events/domain-events.ts";
import type { MetricName } from "#lib/observability/metrics.ts";
import type { CreateIntent, LicenseRecord, OwnedLicense } from "#lib/store/licenses.ts";
import type { EnginePorts } from "./ports.ts";

/** Who a license belongs to in our store, and what caused the change (for the audit trail). */
export interface LicenseTarget {
  customerId: string;
  connectorKey: string;
  connectorId: string;
  subscriptionId?: string | undefined;
  cause: string;
}

/** What a license is issued with in integrator.io. */
export interface LicenseTerms {
  email: string;
  expires: string;
  opts: Record<string, unknown>;
}

/** What a license change tells the vendor's systems: its domain event and metric. */
export interface Announcement {
  type: DomainEventType;
  metric: MetricName;
  extra?: Record<string, unknown>;
}

/** The `reason` of a `creating` record whose create's answer was lost. */
export const ANSWER_LOST = "answer_lost";

type LicenseFields = Pick<LicenseRecord, "email" | "expires" | "opts" | "state"> & {
  licenseId: string | undefined;
  intentAt?: string;
  answerLostAt?: string;
  reason?: string;
};

/**
 * The license ledger: the one place a license record changes, by its transitions —
 *
 *   (none | deleted | expired | pending_user) ──intend──▶ creating ──answerLost──▶ creating
 *   creating ──confirm / adopt──▶ active        creating ──park──▶ pending_user
 *   creating ──abandon──▶ deleted (no license)  active ──change──▶ active | expired | deleted
 *   pending_user ──stopWaiting──▶ expired       any ──sync──▶ what integrator.io holds (reconcile)
 *
 * — each written in the same order (`record`): a license id new to the record is owned first,
 * then the change is announced, then the record is written, conditioned on the revision it read.
 * Besides records: `claim` owns a late commit reconcile found, `offRecordExpired` announces a
 * second license of ours expired off any record.
 */
export class LicenseLedger {
  constructor(private readonly ports: EnginePorts) {}

  /**
   * Records a create as intended before it is POSTed (POST is not idempotent): the record goes
   * `creating` with the intent's time, and the intent is kept apart for reconcile, which adopts a
   * license that lands after its create gave up.
   */
  async intend(target: LicenseTarget, current: LicenseRecord | undefined, terms: LicenseTerms) {
    const intentAt = this.ports.clock.now().toISOString();
    const { customerId, connectorKey, connectorId } = target;
    await this.ports.licenses.recordIntent({
      customerId,
      connectorKey,
      connectorId,
      email: terms.email,
      intentAt,
    });
    return this.record(target, current, { ...terms, licenseId: undefined, state: "creating", intentAt });
  }

  /** The create's answer was lost: still `creating`, but no longer waiting for an answer anywhere. */
  answerLost(target: LicenseTarget, intent: LicenseRecord) {
    const { email, expires, opts, intentAt } = intent;
    return this.record(target, intent, {
      email,
      expires,
      opts,
      licenseId: undefined,
      state: "creating",
      ...(intentAt ? { intentAt } : {}),
      answerLostAt: this.ports.clock.now().toISOString(),
      reason: ANSWER_LOST,
    });
  }

  /** integrator.io answered the create: the license is ours and live. */
  confirm(target: LicenseTarget, intent: LicenseRecord, licenseId: string, terms: LicenseTerms) {
    const announcement = { type: "license.provisioned", metric: "LicensesCreated" } as const;
    return this.settle(
      target,
      intent,
      this.record(target, intent, { ...terms, licenseId, state: "active" }, announcement),
    );
  }

  /** A create's license found in integrator.io after its answer was lost (or its record write). */
  adopt(target: LicenseTarget, intent: LicenseRecord, licenseId: string, terms: LicenseTerms) {
    const announcement = {
      type: "license.provisioned",
      metric: "LicensesCreated",
      extra: { adopted: true },
    } as const;
    return this.settle(
      target,
      intent,
      this.record(target, intent, { ...terms, licenseId, state: "active" }, announcement),
    );
  }

  /**
   * The email has no integrator.io account yet: the license waits (`pending_user`). Announced once
   * per wait, not on every retry (the event is what tells the buyer to create the account).
   */
  park(
    target: LicenseTarget,
    intent: LicenseRecord,
    terms: LicenseTerms,
    previous: LicenseRecord | undefined,
  ) {
    const alreadyWaiting = previous?.state === "pending_user" && previous.email === terms.email;
    return this.settle(
      target,
      intent,
      this.record(
        target,
        intent,
        { ...terms, licenseId: undefined, state: "pending_user", reason: "invalid_user" },
        alreadyWaiting ? undefined : { type: "license.pending_user", metric: "PendingUsers" },
      ),
    );
  }

  /**
   * No license came of the create: the next plan creates. One integrator.io `refused` is settled;
   * one that `neverLanded` within its window keeps its intent, so reconcile can still claim a
   * license that lands later.
   */
  abandon(target: LicenseTarget, intent: LicenseRecord, reason: string, why: "refused" | "neverLanded") {
    const { email, expires, opts } = intent;
    const abandoned = this.record(target, intent, {
      email,
      expires,
      opts,
      licenseId: undefined,
      state: "deleted",
      reason,
    });
    return why === "refused" ? this.settle(target, intent, abandoned) : abandoned;
  }

  /** A license integrator.io holds under this id and email changed there (updated, expired, deleted). */
  change(
    target: LicenseTarget,
    current: LicenseRecord,
    licenseId: string,
    change: Pick<LicenseRecord, "expires" | "opts" | "state">,
    announcement: Announcement,
  ) {
    return this.record(target, current, { licenseId, email: current.email, ...change }, announcement);
  }

  /** A record that waited for an account and will never need one now (the subscription ended). */
  stopWaiting(target: LicenseTarget, current: LicenseRecord) {
    const { email, opts } = current;
    const expires = this.ports.clock.now().toISOString();
    return this.record(target, current, { email, expires, opts, licenseId: undefined, state: "expired" });
  }

  /**
   * A license of ours that landed after its create gave up (a late commit), found by reconcile:
   * owned now, so the customer's reconcile adopts it onto the record or expires it as a second one.
   */
  async claim(license: Omit<OwnedLicense, "ownedAt" | "integrationId">, intent: CreateIntent): Promise<void> {
    await this.ports.licenses.own(license);
    await this.ports.licenses.forgetIntent(intent);
  }

  /** A second live license of ours, on no record, was expired in integrator.io: announced, nothing recorded. */
  offRecordExpired(target: LicenseTarget, licenseId: string, terms: LicenseTerms): Promise<void> {
    return this.announce(
      target,
      { type: "license.expired", metric: "LicensesExpired", extra: { duplicate: true } },
      { ...terms, licenseId, state: "expired" },
    );
  }

  /**
   * Reconcile found integrator.io holding other values than the record (changed behind our back,
   * or our license off the record): the record takes them, audited as `reconcile.synced`.
   */
  async sync(before: LicenseRecord | undefined, after: LicenseRecord, cause: string): Promise<LicenseRecord> {
    const { rev: _rev, updatedAt: _at, ...fields } = after;
    const view = (r: LicenseRecord) => ({ state: r.state, expires: r.expires, opts: r.opts, email: r.email });
    // Audited before the write, as every change is: a failed write repeats the audit, never skips it.
    await this.ports.announcements.audit({
      customerId: after.customerId,
      action: "reconcile.synced",
      connectorKey: after.connectorKey,
      ...(after.licenseId ? { licenseId: after.licenseId } : {}),
      cause,
      detail: { from: before ? view(before) : null, to: view(after) },
    });
    return this.ports.licenses.save(fields, before?.rev);
  }

  /**
   * A create's outcome is known (confirmed, adopted, parked, refused): once its record is written,
   * its intent is forgotten — reconcile claims late commits only for intents whose outcome never was.
   */
  private async settle(target: LicenseTarget, intent: LicenseRecord, written: Promise<LicenseRecord>) {
    const record = await written;
    if (intent.intentAt) {
      const { customerId, connectorKey, connectorId } = target;
      await this.ports.licenses.forgetIntent({
        customerId,
        connectorKey,
        connectorId,
        email: intent.email,
        intentAt: intent.intentAt,
      });
    }
    return record;
  }

  /**
   * Records a license change in the one order: a license id new to the record is recorded as ours
   * first, the moment integrator.io has answered (another customer's lost create, resolving by
   * listing the connector's licenses, must not take it for its own); then the announcement, since
   * the change already happened in integrator.io and a crash before the write must repeat it on
   * the retry (at least once), never skip it; then the record, conditioned on its revision.
   */
  private async record(
    target: LicenseTarget,
    current: LicenseRecord | undefined,
    fields: LicenseFields,
    announcement?: Announcement,
  ): Promise<LicenseRecord> {
    const { licenseId, intentAt, answerLostAt, reason, ...rest } = fields;
    const { customerId, connectorKey, connectorId } = target;
    if (licenseId && licenseId !== current?.licenseId) {
      await this.ports.licenses.own({
        licenseId,
        customerId,
        connectorKey,
        connectorId,
        email: fields.email,
      });
    }
    if (announcement) await this.announce(target, announcement, fields);
    return this.ports.licenses.save(
      {
        customerId,
        connectorKey,
        connectorId,
        subscriptionId: target.subscriptionId ?? current?.subscriptionId,
        ...rest,
        ...(licenseId ? { licenseId } : {}),
        ...(intentAt ? { intentAt } : {}),
        ...(answerLostAt ? { answerLostAt } : {}),
        ...(reason ? { reason } : {}),
      },
      current?.rev,
      { owned: true },
    );
  }

  private announce(
    target: LicenseTarget,
    { type, metric, extra = {} }: Announcement,
    license: LicenseFields,
  ) {
    const detail = {
      customerId: target.customerId,
      connector: target.connectorKey,
      connectorId: target.connectorId,
      licenseId: license.licenseId,
      email: license.email,
      expires: license.expires,
      edition: (license.opts as { connectorEdition?: string }).connectorEdition,
      state: license.state,
      ...extra,
    };
    return this.ports.announcements.licenseChanged(
      {
        type,
        metric,
        audit: {
          customerId: target.customerId,
          action: type,
          connectorKey: target.connectorKey,
          ...(license.licenseId ? { licenseId: license.licenseId } : {}),
          cause: target.cause,
        },
        detail,
      },
      this.ports.logger,
    );
  }
}
