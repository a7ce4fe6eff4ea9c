import { isConditionFailure, type Table } from "./dynamo.ts";

/** Who holds a lease, until when, and what for. */
export interface Lease {
  holder: string;
  /** When the lease lapses if its holder never releases it (a crash, a timeout). */
  expiresAt: string;
  /** What the holder is doing, told to whoever is refused. */
  about: Record<string, string>;
}

export type LeaseOutcome = { taken: true } | { taken: false; heldBy: Lease };

const leaseKey = (name: string) => ({ pk: `LEASE#${name}`, sk: "LEASE" });

/** A lease freed between a refused write and the read of its holder is tried again, this often at most. */
const ATTEMPTS = 10;

/**
 * Named leases: one holder at a time, decided by a conditional write, so of any number of
 * concurrent takers exactly one wins. The holder releases the lease when done; a holder that
 * crashes never does, so every lease lapses `durationMs` after it was taken.
 */
export class Leases {
  constructor(private readonly table: Table) {}

  /** Takes the lease `name` for `holder` (renews it, when `holder` has it); answers the other holder when it has it. */
  async take(
    name: string,
    holder: string,
    durationMs: number,
    about: Record<string, string> = {},
  ): Promise<LeaseOutcome> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const now = this.table.now();
      const expiresAtMs = now + durationMs;
      try {
        await this.table.put(
          {
            ...leaseKey(name),
            holder,
            expiresAtMs,
            expiresAt: new Date(expiresAtMs).toISOString(),
            about,
            ttl: Math.ceil(expiresAtMs / 1000),
          },
          {
            ConditionExpression: "attribute_not_exists(pk) OR expiresAtMs <= :now OR holder = :holder",
            ExpressionAttributeValues: { ":now": now, ":holder": holder },
          },
        );
        return { taken: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const heldBy = await this.holder(name);
      if (heldBy) return { taken: false, heldBy };
    }
    throw new Error(`lease ${name} kept changing hands; gave up after ${ATTEMPTS} attempts`);
  }

  /** The lease `name` while it is held. */
  async holder(name: string): Promise<Lease | undefined> {
    const item = await this.table.get(leaseKey(name).pk, leaseKey(name).sk);
    if (!item || (item.expiresAtMs as number) <= this.table.now()) return undefined;
    const { holder, expiresAt, about } = item as unknown as Lease;
    return { holder, expiresAt, about };
  }

  /** Frees the lease, if `holder` still has it (one that lapsed and was taken by another stays taken). */
  async release(name: string, holder: string): Promise<void> {
    await this.table.delete(leaseKey(name), {
      ConditionExpression: "holder = :holder",
      ExpressionAttributeValues: { ":holder": holder },
    });
  }
}
