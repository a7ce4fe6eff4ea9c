import { LicenseConflictError } from "#lib/store/licenses.ts";
import type { Clock } from "./ports.ts";
import { CONFLICT_ATTEMPTS } from "./timing.ts";

/** Another writer changed a customer's subscription or profile between our read and our write. */
export class RecordConflictError extends Error {
  override name = "RecordConflictError";
}

/** True for a conditional write another writer won: the work is done again from a fresh read. */
export const isConflict = (error: unknown): boolean =>
  error instanceof LicenseConflictError || error instanceof RecordConflictError;

/**
 * Runs `work` — which reads what it needs afresh on every attempt — again while it loses a
 * conditional write to another writer (the worker, reconcile, the admin API), after a short
 * jittered pause, up to `attempts` times; then the conflict is thrown. The one retry loop of the
 * engine: everything below it fails fast on a conflict.
 */
export async function retryOnConflict<T>(
  work: (attempt: number) => Promise<T>,
  {
    clock,
    attempts = CONFLICT_ATTEMPTS,
    onConflict,
  }: {
    clock: Clock;
    attempts?: number;
    onConflict?: (attempt: number, error: Error) => void;
  },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (!isConflict(error) || attempt >= attempts) throw error;
      onConflict?.(attempt, error as Error);
      await clock.sleep(Math.round(25 * attempt * (1 + Math.random())));
    }
  }
}
