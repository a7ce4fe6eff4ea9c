/**
 * Customer lifecycles for the chaos suite: a plan per customer drawn from the seeded PRNG (pure),
 * and the player that acts it out through the Stripe simulator on the customer's own test clock,
 * as a buyer and Stripe's billing would (purchase with or without trial, renewals, failed payments
 * and recovery or not, plan and add-on changes, cancellations, an integrator.io account created
 * late, a change of the license email).
 */
import type Stripe from "stripe";
import type { Rng } from "./prng.ts";

export type Edition = "standard" | "premium";
export type Interval = "month" | "year";

/** Catalog prices (local/catalog.json): monthly ids, yearly lookup keys (resolved at run start). */
export const EDITION_PRICES: Record<Interval, Record<Edition, string>> = {
  month: { standard: "price_std_month", premium: "price_prem_month" },
  year: { standard: "std_yearly", premium: "prem_yearly" },
};
export const ADDON_PRICE = "price_store_month";

export type Recovery = "pay" | "retry" | "never" | "stay";

export type Step =
  /** Advance the clock past the next period end (or trial end): a renewal. */
  | { kind: "renew" }
  /** The card starts failing; the next renewal fails; then the customer pays, a retry succeeds, or not. */
  | { kind: "paymentFails"; recovery: Recovery }
  | { kind: "changeEdition" }
  /** Store add-on quantity (0 removes the item); monthly subscriptions only (one interval per subscription). */
  | { kind: "addons"; quantity: number }
  | { kind: "cancelAtPeriodEnd"; undo: boolean }
  | { kind: "cancelNow" }
  /** The buyer creates the integrator.io account the license is for. */
  | { kind: "createAccount" }
  /** Staff move the license to another integrator.io email (subscription `metadata.integrator_email`). */
  | { kind: "transfer" }
  /** The customer's billing email changes (the license email too, unless the subscription names one). */
  | { kind: "changeEmail" }
  | { kind: "advanceDays"; days: number };

export interface CustomerPlan {
  index: number;
  label: string;
  billingEmail: string;
  /** The integrator.io email given at purchase (subscription metadata), when not the billing email. */
  integratorEmail: string | undefined;
  /** When the integrator.io account of the license email appears: at once, during the lifecycle, or after it. */
  account: "now" | "during" | "after";
  startDaysAgo: number;
  interval: Interval;
  edition: Edition;
  addons: number;
  trialDays: number | undefined;
  /** The first invoice: paid, declined then paid, or declined and left to expire (then maybe a new purchase). */
  firstPayment: "ok" | "declinedThenPaid" | "declinedExpires";
  buysAgain: boolean;
  steps: Step[];
}

const DAY = 86_400;

/** Roughly how many days a step moves the customer's clock (to start the clock so it ends near today). */
function stepDays(step: Step, plan: Pick<CustomerPlan, "interval">): number {
  const period = plan.interval === "year" ? 365 : 30.5;
  switch (step.kind) {
    case "renew":
      return period;
    case "paymentFails":
      return period + { pay: 0, retry: 0.05, never: 15, stay: 1 }[step.recovery];
    case "advanceDays":
      return step.days;
    default:
      return 0;
  }
}

/** One customer's lifecycle, from the run's PRNG (fork per customer, so plans don't depend on order). */
export function planCustomer(rng: Rng, index: number, runTag: string): CustomerPlan {
  const label = `c${String(index).padStart(5, "0")}`;
  const billingEmail = `${label}-${runTag}@billing.chaos.example`;
  const integratorEmail = rng.chance(0.3) ? `${label}-${runTag}@io.chaos.example` : undefined;
  const account = rng.weighted([
    ["now", 75],
    ["during", 15],
    ["after", 10],
  ] as const);
  const interval: Interval = rng.chance(0.2) ? "year" : "month";
  const edition: Edition = rng.chance(0.35) ? "premium" : "standard";
  const addons = interval === "month" && rng.chance(0.3) ? rng.int(1, 3) : 0;
  const trialDays = rng.chance(0.35) ? rng.pick([7, 14, 30]) : undefined;
  const firstPayment: CustomerPlan["firstPayment"] =
    trialDays === undefined
      ? rng.weighted([
          ["ok", 88],
          ["declinedThenPaid", 6],
          ["declinedExpires", 6],
        ] as const)
      : "ok";
  const buysAgain = firstPayment === "declinedExpires" && rng.chance(0.6);

  const steps: Step[] = [];
  const count = rng.int(1, 6);
  let transferred = false;
  let emailChanges = 0;
  for (let i = 0; i < count; i++) {
    const kind = rng.weighted([
      ["renew", 5],
      ["paymentFails", 2],
      ["changeEdition", 2],
      ["addons", interval === "month" ? 2 : 0],
      ["cancelAtPeriodEnd", 1],
      ["cancelNow", 0.8],
      ["transfer", transferred ? 0 : 0.4],
      ["changeEmail", emailChanges < 2 ? 0.4 : 0],
      ["advanceDays", 1],
    ] as const);
    switch (kind) {
      case "paymentFails":
        steps.push({
          kind,
          recovery: rng.weighted([
            ["pay", 3],
            ["retry", 3],
            ["never", 2],
            ["stay", 2],
          ] as const),
        });
        break;
      case "addons":
        steps.push({ kind, quantity: rng.int(0, 4) });
        break;
      case "cancelAtPeriodEnd":
        steps.push({ kind, undo: rng.chance(0.3) });
        break;
      case "advanceDays":
        steps.push({ kind, days: rng.int(1, 10) });
        break;
      case "transfer":
        transferred = true;
        steps.push({ kind });
        break;
      case "changeEmail":
        emailChanges++;
        steps.push({ kind });
        break;
      default:
        steps.push({ kind });
    }
    if (kind === "cancelNow") break;
  }
  if (account === "during") steps.splice(rng.int(0, steps.length), 0, { kind: "createAccount" });

  const plan = {
    index,
    label,
    billingEmail,
    integratorEmail,
    account,
    interval,
    edition,
    addons,
    trialDays,
    firstPayment,
    buysAgain,
    steps,
  };
  const travelled =
    steps.reduce((days, step) => days + stepDays(step, plan), 0) +
    (firstPayment === "declinedExpires" ? 1 : 0) +
    (trialDays !== undefined && steps.some((s) => s.kind === "renew" || s.kind === "paymentFails")
      ? trialDays - (interval === "year" ? 365 : 30.5)
      : 0);
  // The clock ends between about 25 days ago and today: most live licenses are live now, some lapsed.
  return { ...plan, startDaysAgo: Math.max(1, Math.round(travelled + rng.between(0, 25))) };
}

/** What the run needs to talk to while playing lifecycles. */
export interface PlayerContext {
  stripe: Stripe;
  stripeUrl: string;
  integratorOrigin: string;
  /** Catalog price reference → Stripe price id (lookup keys resolved). */
  priceIds: Record<string, string>;
  /** Emails that have an integrator.io account (shared by the run). */
  accounts: Set<string>;
  /** Real time at the start of the run (seconds). */
  nowSeconds: number;
  /** A short random pause between a customer's actions, so customers interleave. */
  pause(): Promise<void>;
}

/** What the run keeps of a played customer, to compute Stripe's final state and match licenses. */
export interface PlayedCustomer {
  plan: CustomerPlan;
  customerId: string;
  clockId: string;
  subscriptionIds: string[];
  /** Every email a license of this customer may carry (billing, integrator, transfers). */
  emails: string[];
  /** The integrator.io email the license should be on now (as this player set it). */
  licenseEmail: string;
  /** Steps carried out / skipped (the subscription had ended, or did not allow it). */
  played: string[];
  error?: string;
}

const LIVE = new Set(["active", "trialing", "past_due"]);

async function control(origin: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok && !(path === "/_sim/users" && response.status === 409))
    throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

/** Creates the integrator.io account of `email` in the simulator, once per run. */
export async function createAccount(ctx: PlayerContext, email: string): Promise<void> {
  if (ctx.accounts.has(email)) return;
  await control(ctx.integratorOrigin, "POST", "/_sim/users", { email });
  ctx.accounts.add(email);
}

const baseItem = (subscription: Stripe.Subscription, ctx: PlayerContext) => {
  const editionIds = new Set(
    Object.values(EDITION_PRICES).flatMap((byEdition) =>
      Object.values(byEdition).map((r) => ctx.priceIds[r]),
    ),
  );
  return subscription.items.data.find((item) => editionIds.has(item.price.id));
};

/** Plays one customer's plan to the end. Never throws: a failure is recorded on the result. */
export async function playCustomer(plan: CustomerPlan, ctx: PlayerContext): Promise<PlayedCustomer> {
  const { stripe } = ctx;
  const licenseEmail = plan.integratorEmail ?? plan.billingEmail;
  const played: PlayedCustomer = {
    plan,
    customerId: "",
    clockId: "",
    subscriptionIds: [],
    emails: [...new Set([plan.billingEmail, licenseEmail])],
    licenseEmail,
    played: [],
  };
  let frozen = ctx.nowSeconds - plan.startDaysAgo * DAY;
  const advanceTo = async (target: number) => {
    const to = Math.max(target, frozen + 1);
    await stripe.testHelpers.testClocks.advance(played.clockId, { frozen_time: to });
    frozen = to;
  };
  const paymentFails = (fails: boolean) =>
    control(ctx.stripeUrl, "POST", `/_sim/customers/${played.customerId}/payment`, { fails });
  const current = async () => {
    const id = played.subscriptionIds[played.subscriptionIds.length - 1] ?? "";
    return stripe.subscriptions.retrieve(id);
  };
  const purchase = async (declined: boolean) => {
    if (declined) await paymentFails(true);
    const items: Stripe.SubscriptionCreateParams.Item[] = [
      { price: ctx.priceIds[EDITION_PRICES[plan.interval][plan.edition]] ?? "" },
    ];
    if (plan.addons > 0) items.push({ price: ctx.priceIds[ADDON_PRICE] ?? "", quantity: plan.addons });
    const subscription = await stripe.subscriptions.create({
      customer: played.customerId,
      items,
      ...(plan.trialDays !== undefined && !declined ? { trial_period_days: plan.trialDays } : {}),
      ...(plan.integratorEmail ? { metadata: { integrator_email: played.licenseEmail } } : {}),
    });
    played.subscriptionIds.push(subscription.id);
    if (declined) await paymentFails(false);
    return subscription;
  };

  try {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozen, name: plan.label });
    played.clockId = clock.id;
    const customer = await stripe.customers.create({
      email: plan.billingEmail,
      name: `Chaos ${plan.label}`,
      test_clock: clock.id,
    });
    played.customerId = customer.id;
    if (plan.account === "now") await createAccount(ctx, licenseEmail);
    await ctx.pause();

    const first = await purchase(plan.firstPayment !== "ok");
    played.played.push(
      `purchase:${plan.interval}:${plan.edition}+${plan.addons}${plan.trialDays ? `:trial${plan.trialDays}` : ""}`,
    );
    if (plan.firstPayment === "declinedThenPaid") {
      await ctx.pause();
      await control(ctx.stripeUrl, "POST", `/_sim/subscriptions/${first.id}/pay`, {});
      played.played.push("declined:paid");
    } else if (plan.firstPayment === "declinedExpires") {
      await ctx.pause();
      await advanceTo(frozen + DAY);
      played.played.push("declined:expired");
      if (!plan.buysAgain) return played;
      await ctx.pause();
      await purchase(false);
      played.played.push("bought again");
    }

    for (const step of plan.steps) {
      await ctx.pause();
      played.played.push(
        await playStep(step, { ctx, played, current, advanceTo, paymentFails, frozen: () => frozen }),
      );
    }
  } catch (error) {
    played.error = error instanceof Error ? error.message : String(error);
  }
  return played;
}

interface StepTools {
  ctx: PlayerContext;
  played: PlayedCustomer;
  current(): Promise<Stripe.Subscription>;
  advanceTo(target: number): Promise<void>;
  paymentFails(fails: boolean): Promise<unknown>;
  frozen(): number;
}

/** Carries out one step; returns what was done (or why it was skipped). */
async function playStep(step: Step, tools: StepTools): Promise<string> {
  const { ctx, played, current, advanceTo, paymentFails, frozen } = tools;
  const { stripe } = ctx;
  if (step.kind === "createAccount") {
    await createAccount(ctx, played.licenseEmail);
    return "createAccount";
  }
  if (step.kind === "changeEmail") {
    const email = `${played.plan.label}-billing-${played.emails.length}@billing.chaos.example`;
    const subscription = await current();
    // The license follows the billing email only where no integrator.io email was given.
    const follows = !subscription.metadata?.integrator_email;
    if (follows) await createAccount(ctx, email);
    await stripe.customers.update(played.customerId, { email });
    played.emails.push(email);
    if (follows) played.licenseEmail = email;
    return `changeEmail${follows ? "" : ":billingOnly"}`;
  }
  if (step.kind === "advanceDays") {
    await advanceTo(frozen() + step.days * DAY);
    return `advance:${step.days}d`;
  }
  const subscription = await current();
  if (!LIVE.has(subscription.status)) return `${step.kind}:skipped(${subscription.status})`;
  const base = baseItem(subscription, ctx);
  const periodEnd = (base ?? subscription.items.data[0])?.current_period_end ?? frozen();
  const nextBilling = subscription.status === "trialing" ? (subscription.trial_end ?? periodEnd) : periodEnd;
  switch (step.kind) {
    case "renew":
      await advanceTo(nextBilling + 60);
      return "renew";
    case "paymentFails": {
      await paymentFails(true);
      await advanceTo(nextBilling + 60);
      const after = await current();
      if (after.status !== "past_due") {
        // Nothing was charged (a cancellation at period end came first).
        await paymentFails(false);
        return `paymentFails:${step.recovery}:skipped(${after.status})`;
      }
      switch (step.recovery) {
        case "pay":
          await paymentFails(false);
          await ctx.pause();
          await control(ctx.stripeUrl, "POST", `/_sim/subscriptions/${subscription.id}/pay`, {});
          break;
        case "retry":
          await paymentFails(false);
          await ctx.pause();
          await advanceTo(frozen() + 3600);
          break;
        case "never":
          for (const days of [3, 5, 7]) {
            await ctx.pause();
            await advanceTo(frozen() + days * DAY + 60);
          }
          break;
        case "stay":
          await advanceTo(frozen() + DAY);
          break;
      }
      return `paymentFails:${step.recovery}`;
    }
    case "changeEdition": {
      if (!base) return "changeEdition:skipped(no base item)";
      const interval: Interval = base.price.recurring?.interval === "year" ? "year" : "month";
      const now = Object.entries(EDITION_PRICES[interval]).find(
        ([, ref]) => ctx.priceIds[ref] === base.price.id,
      );
      const to: Edition = now?.[0] === "premium" ? "standard" : "premium";
      await stripe.subscriptions.update(subscription.id, {
        items: [{ id: base.id, price: ctx.priceIds[EDITION_PRICES[interval][to]] ?? "" }],
      });
      return `changeEdition:${to}`;
    }
    case "addons": {
      if (base?.price.recurring?.interval === "year") return "addons:skipped(yearly)";
      const addon = subscription.items.data.find((item) => item.price.id === ctx.priceIds[ADDON_PRICE]);
      if (step.quantity === 0 && !addon) return "addons:skipped(none to remove)";
      const item: Stripe.SubscriptionUpdateParams.Item =
        step.quantity === 0 && addon
          ? { id: addon.id, deleted: true }
          : addon
            ? { id: addon.id, quantity: step.quantity }
            : { price: ctx.priceIds[ADDON_PRICE] ?? "", quantity: step.quantity };
      await stripe.subscriptions.update(subscription.id, { items: [item] });
      return `addons:${step.quantity}`;
    }
    case "cancelAtPeriodEnd":
      await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
      if (step.undo) {
        await ctx.pause();
        await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false });
        return "cancelAtPeriodEnd:undone";
      }
      return "cancelAtPeriodEnd";
    case "cancelNow":
      await stripe.subscriptions.cancel(subscription.id);
      return "cancelNow";
    case "transfer": {
      const email = `${played.plan.label}-moved-${played.emails.length}@io.chaos.example`;
      await createAccount(ctx, email);
      await stripe.subscriptions.update(subscription.id, { metadata: { integrator_email: email } });
      played.emails.push(email);
      played.licenseEmail = email;
      return "transfer";
    }
  }
}
