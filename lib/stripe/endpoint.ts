/** Where the Stripe SDK connects for an API URL (`STRIPE_API_URL`): host (an IPv6 one unbracketed), port, protocol. */
export function stripeEndpoint(url: URL): { host: string; port: number; protocol: "http" | "https" } {
  const https = url.protocol === "https:";
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port || (https ? 443 : 80)),
    protocol: https ? "https" : "http",
  };
}
