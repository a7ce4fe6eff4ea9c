/**
 * The addresses Stripe sends webhook deliveries from, as Stripe publishes them:
 * https://stripe.com/files/ips/ips_webhooks.json (documented at https://docs.stripe.com/ips#webhook-notifications).
 * Stripe announces changes seven days ahead on its api-announce list; update this list and
 * redeploy the edge's WAF stack (README, Deploy). Only the edge (`-c edge=true`) uses it.
 */
export const STRIPE_WEBHOOK_IPS: readonly string[] = [
  "3.18.12.63",
  "3.69.109.8",
  "3.120.168.93",
  "3.130.192.231",
  "13.235.14.237",
  "13.235.122.149",
  "18.211.135.69",
  "35.154.171.200",
  "35.157.207.129",
  "52.15.183.38",
  "54.88.130.119",
  "54.88.130.237",
  "54.187.174.169",
  "54.187.205.235",
  "54.187.216.72",
];
