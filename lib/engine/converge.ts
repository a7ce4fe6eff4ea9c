import { IntegratorError, IntegratorResponseError, OutcomeUnknownError } from "#lib/integrator/errors.ts";
import type { License } from "#lib/integrator/schemas.ts";
import type { LicenseOpts } from "#lib/licensing/license.ts";
import { normalizeEmail } from "#lib/licensing/license.ts";
import { type LicenseOperation, planChanges } from "#lib/licensing/plan-changes.ts";
import { LicenseConflictError, type LicenseRecord, type OwnedLicense } from "#lib/store/licenses.ts";
import { ANSWER_LOST, type LicenseLedger, type LicenseTarget, type LicenseTerms } from "./ledger.ts";
import { type ConvergePlan, type PlanInput, type PlanStep, planCustomer } from "./plan.ts";
import type { EnginePorts } from "./ports.ts";
import {
  CREATE_DEADLINE_MS,
  CREATE_IN_FLIGHT_MS,
  INTENT_SKEW_MS,
  LOST_ANSWER_LOOK_AGAIN_MS,
} from "./timing.ts";

/**
 * A create whose outcome is not known yet (its answer was lost, or it may still be in flight in
 * another process): the record stays `creating`, and a later attempt looks again.
 */
export class CreateOutcomePendingError extends Error {
  override name = "CreateOutcomePendingError";
}

const isNotFound = (error: unknown) => error instanceof IntegratorError && error.status === 404;

/**
 * How a young `creating` record is settled: `wait` for a create that may be in flight elsewhere,
 * `leave` it for a later attempt, or look for it at once because it is this process's `own` create,
 * whose answer was just lost.
 */
export type InFlight = "wait" | "leave" | "own";

/**
 * Carries out the customer's license changes, planned on `input` (what the caller just read);
 * every change goes through the ledger. Returns the plan. A write another writer won throws
 * `LicenseConflictError` (after integrator.io was changed: the caller plans again from a fresh
 * read, which sees what the other writer did).
 */
export async function converge(
  ports: EnginePorts,
  ledger: LicenseLedger,
  customerId: string,
  input: PlanInput,
  cause: string,
  inFlight: InFlight = "wait",
): Promise<ConvergePlan> {
  const plan = planCustomer(customerId, input, ports.catalog, ports.clock.now());
  for (const unknown of plan.unknownPrices) {
    await ports.announcements.notice(
      "price.unknown",
      "UnknownPrices",
      { customerId, cause, ...unknown },
      ports.logger,
    );
    ports.logger.warn("unknown price", { customerId, ...unknown });
  }
  for (const capped of plan.cappedAddons) {
    await ports.announcements.notice(
      "quantity.capped",
      "QuantitiesCapped",
      { customerId, cause, ...capped },
      ports.logger,
    );
    ports.logger.warn("add-on quantity capped", { customerId, ...capped });
  }
  // A create still settling on one connector holds back only that connector's changes.
  let pendingCreate: CreateOutcomePendingError | undefined;
  for (const step of plan.steps) {
    try {
      await convergeStep(ports, ledger, customerId, step, cause, inFlight);
    } catch (error) {
      if (!(error instanceof CreateOutcomePendingError)) throw error;
      pendingCreate ??= error;
    }
  }
  if (pendingCreate) throw pendingCreate;
  return plan;
}

/** Brings one connector's license to what the plan wants. */
async function convergeStep(
  ports: EnginePorts,
  ledger: LicenseLedger,
  customerId: string,
  step: PlanStep,
  cause: string,
  inFlight: InFlight,
): Promise<void> {
  const { desired } = step;
  const target: LicenseTarget = {
    customerId,
    connectorKey: desired.connectorKey,
    connectorId: desired.connectorId,
    subscriptionId: desired.subscriptionId || undefined,
    cause,
  };
  let current = step.current;
  let operations = step.operations;
  // A create left in flight (a crash, a lost answer) is settled before anything else is planned.
  if (current?.state === "creating") {
    current = await settleIntent(ports, ledger, current, target, inFlight);
    operations = planChanges(desired, current, ports.clock.now());
  }
  // A license that never reached integrator.io (no account yet) just stops waiting.
  if (current?.state === "pending_user" && desired.kind !== "active" && desired.kind !== "none") {
    current = await ledger.stopWaiting(target, current);
    operations = [];
  }
  for (const operation of operations) {
    current = await execute(ports, ledger, operation, current, target);
  }
}

/**
 * Settles a record left `creating`. Younger than `CREATE_IN_FLIGHT_MS`, its create may still be
 * waiting for its answer elsewhere: `wait` sleeps until it cannot be and has the customer planned
 * again (a conflict, for `retryOnConflict`), `leave` throws `CreateOutcomePendingError` (`own`: it
 * is this process's create, looked for at once, twice). Then integrator.io is asked whether the
 * create landed: a license
 * found is adopted; nothing found while the create may still commit late (`mayLandUntil`) leaves
 * the record `creating` and throws `CreateOutcomePendingError`; after that the create is
 * abandoned, and the plan may create again.
 */
export async function settleIntent(
  ports: EnginePorts,
  ledger: LicenseLedger,
  record: LicenseRecord,
  target: LicenseTarget,
  inFlight: InFlight,
): Promise<LicenseRecord | undefined> {
  const age = () => ports.clock.now().getTime() - Date.parse(record.intentAt ?? "");
  if (inFlight !== "own" && mayBeInFlight(record, ports.clock.now())) {
    if (inFlight === "leave") throw pending(target, "may still be in flight");
    await ports.clock.sleep(CREATE_IN_FLIGHT_MS - Math.max(0, age()));
    // Whatever happened meanwhile (the create settled, another writer moved on), the plan was
    // made before the wait: it is made again from a fresh read.
    throw new LicenseConflictError(
      `waited for a license create of ${target.customerId}/${target.connectorKey} in flight; planning again`,
    );
  }
  let landed = await findLandedCreate(ports, record, target);
  if (!landed && inFlight === "own") {
    // A late commit usually lands within moments: one more look before leaving it to a retry.
    await ports.clock.sleep(LOST_ANSWER_LOOK_AGAIN_MS);
    landed = await findLandedCreate(ports, record, target);
  }
  if (landed) {
    ports.logger.info("adopted the license of an earlier create", {
      customerId: target.customerId,
      connector: target.connectorKey,
      licenseId: landed.licenseId,
    });
    return ledger.adopt(target, record, landed.licenseId, landed.terms);
  }
  if (ports.clock.now().getTime() < mayLandUntil(record, ports.lateCommitWindowMs)) {
    throw pending(target, "has an unknown outcome and has not landed yet");
  }
  return ledger.abandon(
    target,
    record,
    `the create never landed in integrator.io within ${Math.round(ports.lateCommitWindowMs / 1000)} s of its answer`,
    "neverLanded",
  );
}

/**
 * Until when a create of unknown outcome may still land in integrator.io: the late-commit window
 * after its answer was lost — or, when nobody saw the answer lost (a crash), after the create's
 * own deadline passed.
 */
export function mayLandUntil(record: LicenseRecord, lateCommitWindowMs: number): number {
  const lost = record.answerLostAt
    ? Date.parse(record.answerLostAt)
    : Date.parse(record.intentAt ?? "") + CREATE_DEADLINE_MS;
  return (Number.isFinite(lost) ? lost : 0) + lateCommitWindowMs;
}

/**
 * True while a `creating` record's create may still be waiting for its answer in some process: it
 * is younger than `CREATE_IN_FLIGHT_MS` and nobody recorded its answer as lost.
 */
export function mayBeInFlight(record: LicenseRecord, now: Date): boolean {
  if (record.state !== "creating" || record.reason === ANSWER_LOST) return false;
  return now.getTime() - Date.parse(record.intentAt ?? "") < CREATE_IN_FLIGHT_MS;
}

const pending = (target: LicenseTarget, why: string) =>
  new CreateOutcomePendingError(
    `license create for ${target.customerId}/${target.connectorKey} ${why}; will look again`,
  );

/**
 * The license a create of `record`'s intent left in integrator.io, if any: the connector's licenses
 * are listed (the only time the engine lists them) for one with the intent's email, created since
 * the intent, that our store does not own — unless this very create owned it (after its intent)
 * and stopped before its record.
 */
async function findLandedCreate(
  ports: EnginePorts,
  record: LicenseRecord,
  target: LicenseTarget,
): Promise<{ licenseId: string; terms: LicenseTerms } | undefined> {
  const since = Date.parse(record.intentAt ?? "") - INTENT_SKEW_MS;
  const email = normalizeEmail(record.email);
  for await (const license of ports.integrator.list(target.connectorId)) {
    if (normalizeEmail(license.user?.email ?? "") !== email) continue;
    const created = Date.parse(String(license.created ?? ""));
    if (Number.isFinite(created) && Number.isFinite(since) && created < since) continue;
    const owner = await ports.licenses.owner(license._id);
    if (owner && !ownedByThisCreate(owner, record, target)) continue;
    return {
      licenseId: license._id,
      terms: {
        email,
        expires: license.expires ?? record.expires,
        opts: (license.opts as Record<string, unknown> | undefined) ?? record.opts,
      },
    };
  }
  return undefined;
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

/** Carries out one planned operation against integrator.io and records it in the ledger. */
export async function execute(
  ports: EnginePorts,
  ledger: LicenseLedger,
  operation: LicenseOperation,
  current: LicenseRecord | undefined,
  target: LicenseTarget,
): Promise<LicenseRecord | undefined> {
  if (operation.op === "create") return create(ports, ledger, operation, current, target);
  if (!current) throw new Error(`${operation.op} planned without a stored license`);
  switch (operation.op) {
    case "update": {
      const expires = operation.expires ?? current.expires;
      const opts = (operation.opts ?? current.opts) as LicenseOpts;
      try {
        await ports.integrator.update(operation.connectorId, operation.licenseId, { expires, opts });
      } catch (error) {
        // Deleted in integrator.io behind our back: issue a new one.
        if (!isNotFound(error)) throw error;
        const { connectorId } = operation;
        const gone = { ...current, licenseId: undefined, state: "deleted" as const };
        return create(
          ports,
          ledger,
          { op: "create", connectorId, email: current.email, expires, opts },
          gone,
          target,
        );
      }
      const changed = Object.keys(operation).filter((k) => k === "expires" || k === "opts");
      return ledger.change(
        target,
        current,
        operation.licenseId,
        { expires, opts, state: "active" },
        {
          type: "license.updated",
          metric: "LicensesUpdated",
          extra: { changed },
        },
      );
    }
    case "expire": {
      await expireInIntegrator(
        ports,
        operation.connectorId,
        operation.licenseId,
        operation.expires,
        current.opts,
      );
      return ledger.change(
        target,
        current,
        operation.licenseId,
        { expires: operation.expires, opts: current.opts, state: "expired" },
        { type: "license.expired", metric: "LicensesExpired" },
      );
    }
    case "delete": {
      try {
        await ports.integrator.delete(operation.connectorId, operation.licenseId);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return ledger.change(
        target,
        current,
        operation.licenseId,
        { expires: current.expires, opts: current.opts, state: "deleted" },
        { type: "license.expired", metric: "LicensesExpired", extra: { deleted: true } },
      );
    }
    case "transfer": {
      await expireInIntegrator(
        ports,
        operation.connectorId,
        operation.licenseId,
        operation.expireAt,
        current.opts,
      );
      const expired = await ledger.change(
        target,
        current,
        operation.licenseId,
        { expires: operation.expireAt, opts: current.opts, state: "expired" },
        { type: "license.expired", metric: "LicensesExpired", extra: { transferredTo: operation.email } },
      );
      const { email, expires, opts, connectorId } = operation;
      const gone = { ...expired, licenseId: undefined, state: "deleted" as const };
      return create(ports, ledger, { op: "create", connectorId, email, expires, opts }, gone, target);
    }
  }
}

async function expireInIntegrator(
  ports: EnginePorts,
  connectorId: string,
  licenseId: string,
  expires: string,
  opts: Record<string, unknown>,
): Promise<void> {
  try {
    await ports.integrator.update(connectorId, licenseId, { expires, opts: opts as LicenseOpts });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * POST is not idempotent (docs/architecture.md §4): the intent is recorded first. integrator.io's
 * answer confirms the license; `invalid_user` parks it; a refusal abandons it; a lost answer
 * (`OutcomeUnknownError`: a timeout, a reset, a 5xx) is looked for once and otherwise left
 * `creating` for `settleIntent` — never POSTed again while it may still land.
 */
async function create(
  ports: EnginePorts,
  ledger: LicenseLedger,
  operation: Extract<LicenseOperation, { op: "create" }>,
  current: LicenseRecord | undefined,
  target: LicenseTarget,
): Promise<LicenseRecord | undefined> {
  const terms = { email: normalizeEmail(operation.email), expires: operation.expires, opts: operation.opts };
  const intent = await ledger.intend(target, current, terms);
  let licenseId: string;
  try {
    const created = await ports.integrator.create(
      operation.connectorId,
      { email: terms.email, expires: terms.expires, opts: terms.opts as LicenseOpts },
      // Bounded, so a create older than CREATE_IN_FLIGHT_MS is no longer waiting for its answer.
      { signal: AbortSignal.timeout(CREATE_DEADLINE_MS) },
    );
    licenseId = created._id;
  } catch (error) {
    if (error instanceof IntegratorError && error.hasCode("invalid_user")) {
      return ledger.park(target, intent, terms, current);
    }
    if (answerUnknown(error)) {
      ports.logger.warn("a license create's answer was lost; looking for its license", {
        customerId: target.customerId,
        connector: target.connectorKey,
        error: (error as Error).name,
      });
      // Recorded, so nobody waits for it as if it were still in flight.
      const lost = await ledger.answerLost(target, intent);
      return settleIntent(ports, ledger, lost, target, "own");
    }
    // integrator.io refused it (4xx): nothing was created, so the next try needs no listing.
    if (
      error instanceof IntegratorError &&
      error.status !== undefined &&
      error.status >= 400 &&
      error.status < 500
    ) {
      await ledger.abandon(
        target,
        intent,
        `create refused: ${error.codes.join(", ") || error.status}`,
        "refused",
      );
    }
    throw error;
  }
  return ledger.confirm(target, intent, licenseId, terms);
}

/**
 * True when a create may have been committed without our knowing: its answer was lost (a timeout, a
 * reset, a 5xx: `OutcomeUnknownError`), it was aborted at its deadline (maybe after it was sent),
 * or integrator.io answered 2xx with a body that cannot be read (`IntegratorResponseError`).
 */
function answerUnknown(error: unknown): boolean {
  if (error instanceof OutcomeUnknownError || error instanceof IntegratorResponseError) return true;
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/** Expires a live license of ours that no record points at, announced as a duplicate; no record changes. */
export async function expireOffRecord(
  ports: EnginePorts,
  ledger: LicenseLedger,
  target: LicenseTarget,
  license: License,
): Promise<void> {
  const expires = ports.clock.now().toISOString();
  const opts = (license.opts ?? {}) as Record<string, unknown>;
  await ports.integrator.update(target.connectorId, license._id, { expires, opts: opts as LicenseOpts });
  await ledger.offRecordExpired(target, license._id, { email: license.user?.email ?? "", expires, opts });
}
