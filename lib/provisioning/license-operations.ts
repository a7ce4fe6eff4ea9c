import type { DomainEventType } from "#lib/events/domain-events.ts";
import { IntegratorError, OutcomeUnknownError } from "#lib/integrator/errors.ts";
import type { License } from "#lib/integrator/schemas.ts";
import type { LicenseOpts } from "#lib/licensing/license.ts";
import { normalizeEmail } from "#lib/licensing/license.ts";
import type { LicenseOperation } from "#lib/licensing/plan-changes.ts";
import type { MetricName } from "#lib/observability/metrics.ts";
import type { LicenseRecord, OwnedLicense } from "#lib/store/licenses.ts";
import type { ProvisioningContext } from "./context.ts";

/** Who a license belongs to in our store, and what caused the change (for the audit trail). */
export interface LicenseTarget {
  customerId: string;
  connectorKey: string;
  connectorId: string;
  subscriptionId?: string | undefined;
  cause: string;
}

/** A create whose outcome is still unknown: retried later, never POSTed twice blindly. */
export class CreateOutcomePendingError extends Error {
  override name = "CreateOutcomePendingError";
}

/** The longest a license create may take, limiter wait included; then it is aborted. */
export const CREATE_DEADLINE_MS = 15_000;
/** A create intent younger than this may still be in flight (another worker, reconcile, the admin API). */
export const CREATE_IN_FLIGHT_MS = CREATE_DEADLINE_MS + 5_000;

/** A create intent older than this is looked for in integrator.io from this far before it (clock skew). */
const INTENT_SKEW_MS = 60_000;

const isNotFound = (error: unknown) => error instanceof IntegratorError && error.status === 404;

/**
 * Carries out one planned operation against integrator.io and records the result: the license
 * record, the audit entry, the domain event and the metric. Returns the record as stored.
 */
export async function executeOperation(
  operation: LicenseOperation,
  current: LicenseRecord | undefined,
  target: LicenseTarget,
  ctx: ProvisioningContext,
): Promise<LicenseRecord | undefined> {
  switch (operation.op) {
    case "create":
      return createLicense(operation, current, target, ctx);
    case "update": {
      if (!current) throw new Error("update planned without a stored license");
      const expires = operation.expires ?? current.expires;
      const opts = (operation.opts ?? current.opts) as LicenseOpts;
      try {
        await ctx.integrator.licenses.update(operation.connectorId, operation.licenseId, { expires, opts });
      } catch (error) {
        // Deleted in integrator.io behind our back: issue a new one.
        if (!isNotFound(error)) throw error;
        return createLicense(
          { op: "create", connectorId: operation.connectorId, email: current.email, expires, opts },
          { ...current, licenseId: undefined, state: "deleted" },
          target,
          ctx,
        );
      }
      return saveChange(
        ctx,
        target,
        current,
        operation.licenseId,
        { expires, opts, state: "active" },
        {
          type: "license.updated",
          metric: "LicensesUpdated",
          extra: { changed: Object.keys(operation).filter((k) => k === "expires" || k === "opts") },
        },
      );
    }
    case "expire": {
      if (!current) throw new Error("expire planned without a stored license");
      await expireInIntegrator(
        operation.connectorId,
        operation.licenseId,
        operation.expires,
        current.opts,
        ctx,
      );
      return saveChange(
        ctx,
        target,
        current,
        operation.licenseId,
        { expires: operation.expires, opts: current.opts, state: "expired" },
        { type: "license.expired", metric: "LicensesExpired" },
      );
    }
    case "delete": {
      if (!current) throw new Error("delete planned without a stored license");
      try {
        await ctx.integrator.licenses.delete(operation.connectorId, operation.licenseId);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return saveChange(
        ctx,
        target,
        current,
        operation.licenseId,
        { expires: current.expires, opts: current.opts, state: "deleted" },
        { type: "license.expired", metric: "LicensesExpired", extra: { deleted: true } },
      );
    }
    case "transfer": {
      if (!current) throw new Error("transfer planned without a stored license");
      await expireInIntegrator(
        operation.connectorId,
        operation.licenseId,
        operation.expireAt,
        current.opts,
        ctx,
      );
      const expired = await saveChange(
        ctx,
        target,
        current,
        operation.licenseId,
        { expires: operation.expireAt, opts: current.opts, state: "expired" },
        { type: "license.expired", metric: "LicensesExpired", extra: { transferredTo: operation.email } },
      );
      const { email, expires, opts, connectorId } = operation;
      return createLicense(
        { op: "create", connectorId, email, expires, opts },
        { ...expired, licenseId: undefined, state: "deleted" },
        target,
        ctx,
      );
    }
  }
}

async function expireInIntegrator(
  connectorId: string,
  licenseId: string,
  expires: string,
  opts: Record<string, unknown>,
  ctx: ProvisioningContext,
) {
  try {
    await ctx.integrator.licenses.update(connectorId, licenseId, { expires, opts: opts as LicenseOpts });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * POST is not idempotent (docs/architecture.md §4): the intent is recorded first, and a create whose outcome
 * is unknown (lost answer) is resolved by `resolveCreateIntent` before anything else is tried.
 */
async function createLicense(
  operation: Extract<LicenseOperation, { op: "create" }>,
  current: LicenseRecord | undefined,
  target: LicenseTarget,
  ctx: ProvisioningContext,
): Promise<LicenseRecord> {
  const email = normalizeEmail(operation.email);
  const intent = await save(ctx, target, current, {
    licenseId: undefined,
    email,
    expires: operation.expires,
    opts: operation.opts,
    state: "creating",
    intentAt: ctx.now().toISOString(),
  });
  let created: License;
  try {
    // Bounded, so a create older than CREATE_IN_FLIGHT_MS is known to be settled one way or the other.
    created = await ctx.integrator.licenses.create(
      operation.connectorId,
      { email, expires: operation.expires, opts: operation.opts },
      { signal: AbortSignal.timeout(CREATE_DEADLINE_MS) },
    );
  } catch (error) {
    if (error instanceof IntegratorError && error.hasCode("invalid_user")) {
      // Announced once per wait, not on every retry (the event is what sends "create your account").
      const alreadyWaiting = current?.state === "pending_user" && normalizeEmail(current.email) === email;
      return save(
        ctx,
        target,
        intent,
        {
          licenseId: undefined,
          email,
          expires: operation.expires,
          opts: operation.opts,
          state: "pending_user",
          reason: "invalid_user",
        },
        alreadyWaiting ? undefined : { type: "license.pending_user", metric: "PendingUsers" },
      );
    }
    if (error instanceof OutcomeUnknownError) {
      const resolved = await resolveCreateIntent(intent, target, ctx);
      if (resolved.licenseId) return resolved;
      throw new CreateOutcomePendingError(
        `license create for ${target.customerId}/${target.connectorKey} has an unknown outcome; will look again`,
        { cause: error },
      );
    }
    // integrator.io answered with an error: nothing was created, so the next try needs no listing.
    if (error instanceof IntegratorError && error.status !== undefined && error.status < 500) {
      await save(ctx, target, intent, {
        licenseId: undefined,
        email,
        expires: operation.expires,
        opts: operation.opts,
        state: "deleted",
        reason: `create refused: ${error.codes.join(", ") || error.status}`,
      });
    }
    throw error;
  }
  return save(
    ctx,
    target,
    intent,
    { licenseId: created._id, email, expires: operation.expires, opts: operation.opts, state: "active" },
    { type: "license.provisioned", metric: "LicensesCreated" },
  );
}

/**
 * A create was recorded as intended but its outcome is unknown (a lost answer, or a crash
 * between the POST and its record). Lists the connector's licenses in integrator.io — the only
 * time we do — and adopts the one for this email created since the intent that our store does
 * not know yet. When there is none, the record says no license exists, so the plan creates one.
 */
export async function resolveCreateIntent(
  record: LicenseRecord,
  target: LicenseTarget,
  ctx: ProvisioningContext,
): Promise<LicenseRecord> {
  const since = Date.parse(record.intentAt ?? "") - INTENT_SKEW_MS;
  const email = normalizeEmail(record.email);
  for await (const license of ctx.integrator.licenses.list(target.connectorId)) {
    if (normalizeEmail(license.user?.email ?? "") !== email) continue;
    const created = Date.parse(String(license.created ?? ""));
    if (Number.isFinite(created) && Number.isFinite(since) && created < since) continue;
    // A license our store already owns (even this customer's, e.g. one a transfer moved away
    // from this email a moment ago) came from a create resolved earlier: not this create's —
    // unless this very create owned it (after its intent) and stopped before its record.
    const owner = await ctx.licenses.owner(license._id);
    if (owner && !ownedByThisCreate(owner, record, target)) continue;
    ctx.logger.info("adopted the license of an earlier create", {
      customerId: target.customerId,
      connector: target.connectorKey,
      licenseId: license._id,
    });
    return save(
      ctx,
      target,
      record,
      {
        licenseId: license._id,
        email,
        expires: license.expires ?? record.expires,
        opts: (license.opts as Record<string, unknown> | undefined) ?? record.opts,
        state: "active",
      },
      { type: "license.provisioned", metric: "LicensesCreated", extra: { adopted: true } },
    );
  }
  return save(ctx, target, record, {
    licenseId: undefined,
    email,
    expires: record.expires,
    opts: record.opts,
    state: "deleted",
  });
}

/** Ownership this create wrote: same customer and connector, recorded after its intent. */
function ownedByThisCreate(owner: OwnedLicense, intent: LicenseRecord, target: LicenseTarget): boolean {
  return (
    owner.customerId === target.customerId &&
    owner.connectorKey === target.connectorKey &&
    intent.intentAt !== undefined &&
    owner.ownedAt >= intent.intentAt
  );
}

type LicenseFields = Pick<LicenseRecord, "email" | "expires" | "opts" | "state"> & {
  licenseId: string | undefined;
  intentAt?: string;
  reason?: string;
};

/** What a license change tells the vendor's systems: a domain event, its audit entry and metric. */
interface Announcement {
  type: DomainEventType;
  metric: MetricName;
  extra?: Record<string, unknown>;
}

/**
 * Records a license change. A license id new to the record is recorded as ours first, the moment
 * integrator.io has answered: another customer's lost create, resolving by listing the connector's
 * licenses, must not take it for its own. The announcement (audit entry, domain event) goes out
 * before the record is written: the change already happened in integrator.io, and a crash in
 * between must repeat the announcement on the retry (at least once), never skip it — the retry
 * finds the record unchanged and does the change, and so announces, again. A license id the
 * record already holds was owned when it was first written.
 */
async function save(
  ctx: ProvisioningContext,
  target: LicenseTarget,
  current: LicenseRecord | undefined,
  fields: LicenseFields,
  announcement?: Announcement,
): Promise<LicenseRecord> {
  const { licenseId, intentAt, reason, ...rest } = fields;
  if (licenseId && licenseId !== current?.licenseId) {
    const { customerId, connectorKey, connectorId } = target;
    await ctx.licenses.own({ licenseId, customerId, connectorKey, connectorId, email: fields.email });
  }
  if (announcement) await announce(ctx, target, announcement, fields);
  return ctx.licenses.save(
    {
      customerId: target.customerId,
      connectorKey: target.connectorKey,
      connectorId: target.connectorId,
      subscriptionId: target.subscriptionId ?? current?.subscriptionId,
      ...rest,
      ...(licenseId ? { licenseId } : {}),
      ...(intentAt ? { intentAt } : {}),
      ...(reason ? { reason } : {}),
    },
    current?.rev,
    { owned: true },
  );
}

/** Records a change to a license integrator.io already holds under this id and email. */
function saveChange(
  ctx: ProvisioningContext,
  target: LicenseTarget,
  current: LicenseRecord,
  licenseId: string,
  change: Pick<LicenseRecord, "expires" | "opts" | "state">,
  announcement: Announcement,
): Promise<LicenseRecord> {
  return save(ctx, target, current, { licenseId, email: current.email, ...change }, announcement);
}

/** Audit entry, domain event and metric for one license change. */
async function announce(
  ctx: ProvisioningContext,
  target: LicenseTarget,
  { type, metric, extra = {} }: Announcement,
  license: LicenseFields,
): Promise<void> {
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
  ctx.metrics.count(metric);
  await ctx.audit.record({
    customerId: target.customerId,
    action: type,
    connectorKey: target.connectorKey,
    ...(license.licenseId ? { licenseId: license.licenseId } : {}),
    cause: target.cause,
    detail,
  });
  await ctx.events.publish(type, detail, ctx.logger);
}
