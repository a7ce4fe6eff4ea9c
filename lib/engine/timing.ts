/**
 * Every window the license engine waits on or reasons with, in one place, each with its reason.
 * (A customer's access windows — the renewal buffer and the past-due grace — are the vendor's
 * business rules and live in the catalog's `policy`, docs/architecture.md §7.)
 */

/**
 * The longest one license create may take, limiter wait included; then our side aborts it. Its
 * answer is then unknown: integrator.io may still commit it (see `LATE_COMMIT_WINDOW_MS`).
 */
export const CREATE_DEADLINE_MS = 15_000;

/**
 * A create intent younger than this may still be waiting for its answer in another process (a
 * worker, reconcile, the admin API): nobody else resolves it before then.
 */
export const CREATE_IN_FLIGHT_MS = CREATE_DEADLINE_MS + 5_000;

/**
 * How long after its answer was lost (a timeout, a reset connection, a 5xx) — or, after a crash,
 * after its deadline — a create may still land in integrator.io. Until then a look that finds
 * nothing keeps the record `creating` and looks again later; only after it may the license be
 * created again. Five minutes is far beyond any commit integrator.io answers for, and shorter
 * than the queue's visibility timeout (6 min), so the event's next delivery may already create
 * again. `LATE_COMMIT_WINDOW_SECONDS` sets another. Reconcile still adopts a license that lands
 * even later (`LATE_COMMIT_ADOPTION_MS`), and expires it if it is a second one.
 */
export const LATE_COMMIT_WINDOW_MS = 5 * 60_000;

/**
 * Reconcile adopts a license nobody owns, for the connector and email of one of our create
 * intents, created after the intent and at most this long after it: a late commit of ours, not a
 * license someone issued by hand the next day. An hour is far beyond the late-commit window.
 */
export const LATE_COMMIT_ADOPTION_MS = 60 * 60_000;

/**
 * A license created this long before its intent's timestamp is still counted as the intent's own
 * when looking for it: the two timestamps come from different clocks (ours and integrator.io's).
 */
export const INTENT_SKEW_MS = 60_000;

/** After an answer is lost, the worker looks once more this soon before leaving it to the retry. */
export const LOST_ANSWER_LOOK_AGAIN_MS = 1_000;

/** How long an admin transfer waits for a create in flight on the same license to settle (then 409). */
export const TRANSFER_SETTLE_MS = 10_000;

/** How often an admin transfer looks whether that create settled. */
export const TRANSFER_SETTLE_POLL_MS = 250;

/**
 * A stored event still `received` or `enqueued` this many minutes after its last change is put
 * back on the queue by reconcile (the default of `RECONCILE_STALE_EVENT_MINUTES`): an event the
 * webhook stored but could not queue is sent again by the next run. One a worker still holds may
 * be sent twice; applying an event twice changes nothing (docs/architecture.md §5).
 */
export const DEFAULT_STALE_EVENT_MINUTES = 5;

/** Attempts of one unit of work that lost a conditional write to another writer. */
export const CONFLICT_ATTEMPTS = 5;
