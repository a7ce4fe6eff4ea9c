import { LOCAL_DEFAULTS, loadConfig, portOf } from "#lib/config.ts";
import { namingTakenPort } from "../../net.ts";
import { startIntegratorSimulator } from "./index.ts";

// Standalone (`npm run sim:integrator`): on the port of INTEGRATOR_API_URL, never PORT.
const config = loadConfig();
const vendorToken = config.secrets.INTEGRATOR_TOKEN ?? LOCAL_DEFAULTS.INTEGRATOR_TOKEN;
const port = portOf(config.integratorApiUrl);
const sim = await namingTakenPort(port, "INTEGRATOR_API_URL", () =>
  startIntegratorSimulator({ port, vendorToken }),
).catch((error: Error) => {
  console.error(`sim:integrator failed: ${error.message}`);
  process.exit(1);
});

console.log(`integrator.io simulator: API ${sim.url}, control ${sim.origin}/_sim`);
// A token is printed only while it is the built-in local default.
if (vendorToken === LOCAL_DEFAULTS.INTEGRATOR_TOKEN) console.log(`  vendor token: ${vendorToken}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void sim.stop().then(() => process.exit(0));
  });
}
