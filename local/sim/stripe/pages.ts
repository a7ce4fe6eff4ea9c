/**
 * The pages behind the URLs the simulator hands out: a Checkout page (pay, or fail the payment,
 * then go to success_url) and a read-only customer portal. Enough for `npm run demo` in a browser.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { StripeSimError } from "./errors.ts";
import { decodeForm } from "./form.ts";
import { escapeHtml, readBody, sendText } from "./http-util.ts";
import { completeCheckout, currentSession } from "./resources/checkout.ts";
import type { Simulator } from "./simulator.ts";

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}
button{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}table{border-collapse:collapse}
td,th{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:left}</style></head>
<body><p><small>Stripe simulator — test mode</small></p>${body}</body></html>`;
}

function money(amount: number, currency: string): string {
  return `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;
}

function checkoutPage(sim: Simulator, id: string): string {
  const session = currentSession(sim, id);
  if (session.status !== "open") {
    return page("Checkout", `<h1>This Checkout Session is ${escapeHtml(session.status)}.</h1>`);
  }
  const rows = session.lineItems
    .map((line) => {
      const price = sim.store.prices.require(line.price);
      const name = sim.store.products.get(price.product)?.name ?? price.product;
      const per = price.recurring === null ? "" : ` / ${price.recurring.interval}`;
      return `<tr><td>${escapeHtml(name)}</td><td>× ${line.quantity}</td><td>${money(price.unitAmount * line.quantity, price.currency)}${per}</td></tr>`;
    })
    .join("");
  const trial =
    session.subscriptionData.trialPeriodDays === null
      ? ""
      : `<p>${session.subscriptionData.trialPeriodDays}-day free trial</p>`;
  const needsEmail = session.customer === null && session.customerEmail === null;
  const email = needsEmail
    ? `<p><label>Email <input name="email" type="email" required></label></p>`
    : `<p>Email: ${escapeHtml(session.customerEmail ?? sim.store.customers.get(session.customer ?? "")?.email ?? "")}</p>`;
  const cancel =
    session.cancelUrl === null ? "" : `<p><a href="${escapeHtml(session.cancelUrl)}">Cancel</a></p>`;
  return page(
    "Checkout",
    `<h1>Subscribe</h1><table>${rows}</table>${trial}
<form method="post">${email}
<button name="paymentSucceeds" value="true">Pay</button>
<button name="paymentSucceeds" value="false">Pay with a declined card</button></form>${cancel}`,
  );
}

function portalPage(sim: Simulator, id: string): string {
  const session = sim.store.portalSessions.require(id);
  const customer = sim.store.customers.require(session.customer);
  const rows = sim.store.subscriptions
    .values()
    .filter((subscription) => subscription.customer === customer.id)
    .map((subscription) => {
      const names = subscription.items
        .map((item) => {
          const price = sim.store.prices.get(item.price);
          return sim.store.products.get(price?.product ?? "")?.name ?? item.price;
        })
        .join(", ");
      const until = new Date(subscription.currentPeriodEnd * 1000).toISOString().slice(0, 10);
      return `<tr><td>${escapeHtml(names)}</td><td>${escapeHtml(subscription.status)}</td><td>${until}</td></tr>`;
    })
    .join("");
  const back =
    session.returnUrl === null ? "" : `<p><a href="${escapeHtml(session.returnUrl)}">Return</a></p>`;
  return page(
    "Customer portal",
    `<h1>${escapeHtml(customer.email ?? customer.id)}</h1><table><tr><th>Subscription</th><th>Status</th><th>Current period ends</th></tr>${rows}</table>${back}`,
  );
}

/** Serves `/checkout/{id}` and `/billing_portal/{id}`; returns false for other paths. */
export async function handlePage(
  sim: Simulator,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<boolean> {
  const checkout = /^\/checkout\/([^/]+)$/.exec(url.pathname);
  const portal = /^\/billing_portal\/([^/]+)$/.exec(url.pathname);
  if (checkout === null && portal === null) return false;
  const html = { "content-type": "text/html; charset=utf-8" };
  try {
    if (portal?.[1] !== undefined && request.method === "GET") {
      sendText(response, 200, portalPage(sim, decodeURIComponent(portal[1])), html);
    } else if (checkout?.[1] !== undefined && request.method === "GET") {
      sendText(response, 200, checkoutPage(sim, decodeURIComponent(checkout[1])), html);
    } else if (checkout?.[1] !== undefined && request.method === "POST") {
      const form = decodeForm(await readBody(request));
      const session = sim.store.checkoutSessions.require(decodeURIComponent(checkout[1]));
      const email = typeof form.email === "string" && form.email !== "" ? form.email : undefined;
      completeCheckout(sim, session, {
        paymentSucceeds: form.paymentSucceeds !== "false",
        ...(email === undefined ? {} : { email }),
      });
      const target = session.successUrl?.replaceAll("{CHECKOUT_SESSION_ID}", session.id);
      if (target === undefined)
        sendText(response, 200, page("Checkout", "<h1>Thanks! The session is complete.</h1>"), html);
      else sendText(response, 303, "", { location: target });
    } else {
      sendText(response, 405, page("Not allowed", "<h1>Method not allowed</h1>"), html);
    }
  } catch (error) {
    const status = error instanceof StripeSimError ? error.status : 500;
    const message = error instanceof Error ? error.message : String(error);
    sendText(response, status, page("Error", `<h1>${escapeHtml(message)}</h1>`), html);
  }
  return true;
}
