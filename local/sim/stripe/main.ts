/** `npm run sim:stripe`: the Stripe simulator on the port of STRIPE_API_URL (default 3200). */
import { loadConfig, portOf } from "#lib/config.ts";
import { namingTakenPort } from "../../net.ts";
import { startStripeSimulator } from "./index.ts";

const config = loadConfig();
if (!config.stripeIsLocal) {
  console.error(
    "STRIPE_SECRET_KEY is a real Stripe key: the simulator runs only with the local key (unset or sk_test_local).",
  );
  process.exit(1);
}
const port = portOf(config.stripeApiUrl);
const sim = await namingTakenPort(port, "STRIPE_API_URL", () => startStripeSimulator({ port })).catch(
  (error: Error) => {
    console.error(`sim:stripe failed: ${error.message}`);
    process.exit(1);
  },
);
console.log(`Stripe simulator: ${sim.url} (API under /v1, control under /_sim; any sk_test_ key)`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void sim.stop().then(() => process.exit(0));
  });
}
