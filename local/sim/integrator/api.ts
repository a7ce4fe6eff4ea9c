import type { ApiContext } from "./context.ts";
import { registerConnectorUpdate } from "./resources/connector-update.ts";
import { registerConnectors } from "./resources/connectors.ts";
import { registerInstall } from "./resources/install.ts";
import { registerIntegrationSettings } from "./resources/integration-settings.ts";
import { registerIntegrations } from "./resources/integrations.ts";
import { registerJobs } from "./resources/jobs.ts";
import { registerLicenses } from "./resources/licenses.ts";
import { registerPlainResources } from "./resources/plain.ts";
import { registerStacks } from "./resources/stacks.ts";
import { registerState } from "./resources/state.ts";
import { registerTemplates } from "./resources/templates.ts";
import { registerTokenInfo } from "./resources/token-info.ts";
import { Router } from "./router.ts";

/** Every `/v1` route of the simulated integrator.io API. */
export function apiRouter(): Router<ApiContext> {
  const router = new Router<ApiContext>();
  registerTokenInfo(router);
  registerConnectors(router);
  registerConnectorUpdate(router);
  registerLicenses(router);
  registerTemplates(router);
  registerStacks(router);
  registerIntegrations(router);
  registerInstall(router);
  registerIntegrationSettings(router);
  registerState(router);
  registerPlainResources(router);
  registerJobs(router);
  return router;
}
