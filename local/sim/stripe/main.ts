/** `npm run sim:stripe`: the Stripe simulator on the port of STRIPE_API_URL (default 3200). */
import { loadConfig, portOf } from "#lib/config.ts";
import { startStripeSimulator } from "./index.ts";

const config = loadConfig();
if (!config.stripeIsLocal) {
  console.error(
    "STRIPE_SECRET_KEY is a real Stripe key: the simulator runs only with the local key (unset or sk_test_local).",
  );
  process.exit(1);
}
const sim = await startStripeSimulator({ port: portOf(config.stripeApiUrl) });
console.log(`Stripe simulator: ${sim.url} (API under /v1, control under /_sim; any sk_test_ key)`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void sim.stop().then(() => process.exit(0));
  });
}
