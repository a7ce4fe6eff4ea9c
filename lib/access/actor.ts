import { AsyncLocalStorage } from "node:async_hooks";

const current = new AsyncLocalStorage<string>();

/**
 * Runs `work` on behalf of `actor` (`operator:<name>` or `root`): every audit entry and domain
 * event written inside it, however deep, names the actor (lib/store/audit.ts,
 * lib/events/domain-events.ts), without threading it through the engine's signatures.
 */
export function actingAs<T>(actor: string, work: () => Promise<T>): Promise<T> {
  return current.run(actor, work);
}

/** The actor of the admin request being served, if any (the worker and schedules have none). */
export function currentActor(): string | undefined {
  return current.getStore();
}
