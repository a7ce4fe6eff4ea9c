import { randomUUID } from "node:crypto";
import { type Item, isConditionFailure, type Table } from "#lib/store/dynamo.ts";

/**
 * One free trial per (integrator.io email, connector), decided at checkout (docs/decisions.md):
 * a checkout that offers the trial first **claims** it with a conditional write, so of any number
 * of concurrent checkouts for one email exactly one gets it. The claim then records its Checkout
 * session; it is spent once that session is paid and held while the session can still be paid.
 * The checkout decides its session's `expires_at` before claiming, and the claim holds until then
 * and `CLAIM_MARGIN_MS` more — recorded session or not — so anyone naming someone else's email
 * holds that email's trial for about half an hour at a time, not a day. A claim whose session
 * expired unpaid (Stripe says so, read once) is taken again by the next checkout; a claim whose
 * session was not created, or not recorded, is released at once.
 *
 * Key: `TRIAL#<connector key>#<email>` / `TRIAL`.
 */

/** A trial this checkout holds: offer it on the session, then `attach` the session (or `release` it). */
export interface TrialClaim {
  connectorKey: string;
  email: string;
  claimId: string;
}

/** What Stripe says of a claim's Checkout session. */
export type SessionStatus = "open" | "complete" | "expired" | "missing";

interface ClaimItem extends Item {
  claimId: string;
  /** Until when (epoch ms) the claim holds without asking Stripe: its session's `expires_at` and the margin. */
  heldUntil: number;
  sessionId?: string;
  /** The session was paid (or its trial started): the trial is spent for good. */
  spent?: boolean;
}

/**
 * How long a claim holds past its session's `expires_at`: Stripe's clock and this one may differ
 * a little, so a claim (recorded on its session or not — a crash between creating the session and
 * recording it) frees the trial only once that session can no longer be paid.
 */
export const CLAIM_MARGIN_MS = 5 * 60_000;

const keyOf = (connectorKey: string, email: string) => ({
  pk: `TRIAL#${connectorKey}#${email}`,
  sk: "TRIAL",
});

export class TrialClaims {
  constructor(
    private readonly table: Table,
    /** Stripe's status of a Checkout session (read only to free a claim whose session expired). */
    private readonly sessionStatus: (sessionId: string) => Promise<SessionStatus>,
  ) {}

  /**
   * Claims the trial of `connectorKey` for `email`, for a Checkout session that will expire at
   * `sessionExpiresAtMs`; undefined when the trial is spent or held by another checkout.
   */
  async claim(
    connectorKey: string,
    email: string,
    sessionExpiresAtMs: number,
  ): Promise<TrialClaim | undefined> {
    const claim = { connectorKey, email, claimId: randomUUID() };
    const key = keyOf(connectorKey, email);
    // A second try only when the claim that refused the first was released in between.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.table.put(
          {
            ...key,
            connectorKey,
            email,
            claimId: claim.claimId,
            heldUntil: sessionExpiresAtMs + CLAIM_MARGIN_MS,
          },
          { ConditionExpression: "attribute_not_exists(pk)" },
        );
        return claim;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const held = await this.table.get<ClaimItem>(key.pk, key.sk);
      if (held) return this.takeOver(claim, held, sessionExpiresAtMs);
    }
    return undefined;
  }

  /** Records the Checkout session that offers the claimed trial; the claim holds until it expires (and the margin). */
  async attach(claim: TrialClaim, sessionId: string, sessionExpiresAtMs: number): Promise<void> {
    await this.settle(claim, "SET sessionId = :session, heldUntil = :until", {
      ":session": sessionId,
      ":until": sessionExpiresAtMs + CLAIM_MARGIN_MS,
    });
  }

  /** Gives the trial back (no session was created, or none can be paid: its URL was never handed out). */
  async release(claim: TrialClaim): Promise<void> {
    await this.table.delete(keyOf(claim.connectorKey, claim.email), {
      ConditionExpression: "claimId = :claimId",
      ExpressionAttributeValues: { ":claimId": claim.claimId },
    });
  }

  /** Takes over a claim whose hold has passed, unless its session was paid or can still be. */
  private async takeOver(
    claim: TrialClaim,
    held: ClaimItem,
    sessionExpiresAtMs: number,
  ): Promise<TrialClaim | undefined> {
    if (held.spent || held.heldUntil > this.table.now()) return undefined;
    const previous = { ...claim, claimId: held.claimId };
    if (held.sessionId) {
      const status = await this.sessionStatus(held.sessionId);
      if (status === "complete") {
        await this.settle(previous, "SET spent = :true", { ":true": true });
        return undefined;
      }
      if (status === "open") return undefined;
    }
    // The held session expired unpaid, or none was ever recorded: the first to take it over wins.
    const retaken = await this.settle(previous, "SET claimId = :new, heldUntil = :until REMOVE sessionId", {
      ":new": claim.claimId,
      ":until": sessionExpiresAtMs + CLAIM_MARGIN_MS,
    });
    return retaken ? claim : undefined;
  }

  /** Updates the claim while `claim` still holds it; false when another checkout took it meanwhile. */
  private async settle(claim: TrialClaim, update: string, values: Record<string, unknown>): Promise<boolean> {
    try {
      await this.table.update({
        Key: keyOf(claim.connectorKey, claim.email),
        UpdateExpression: update,
        ConditionExpression: "claimId = :claimId",
        ExpressionAttributeValues: { ":claimId": claim.claimId, ...values },
      });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
