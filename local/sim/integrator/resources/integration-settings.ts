import { requireAccountToken, visibleIntegration } from "../access.ts";
import type { ApiContext, ApiRouter } from "../context.ts";
import { missingField } from "../errors.ts";
import { isObject, type JsonObject, nowIso } from "../json.ts";
import { dialectOf } from "../stack-caller.ts";
import { objectBody } from "../validation.ts";
import { integrationView } from "../views.ts";
import { connectorOfIntegration } from "./install.ts";

/**
 * `PUT /v1/integrations/{id}/settings/{function}`: a `setting` call on the stack. `persistSettings`
 * gets the body as `pending` and saves what the stack answers as pending (or the body); a
 * `changeEdition` moves the integration from its edition to the license's (in the flat dialect,
 * the body's `toEdition` when given); any other function gets the body's fields in its options.
 */
async function runSetting({
  principal,
  store,
  stack,
  params,
  body,
}: ApiContext & { params: Record<string, string> }) {
  requireAccountToken(principal);
  const id = params.integrationId ?? "";
  const fn = params.function ?? "";
  const integration = visibleIntegration(principal, store.integrations.get(id), id);
  const connector = connectorOfIntegration(store, integration);
  const input = objectBody(body);
  const license = store.findLicense(integration.licenseId);
  let extraOptions: JsonObject;
  let toEdition: string | undefined;
  if (fn === "persistSettings") {
    extraOptions = { pending: input };
  } else if (fn === "changeEdition") {
    const licensed =
      typeof license?.opts.connectorEdition === "string" ? license.opts.connectorEdition : undefined;
    const flat = dialectOf(connector) === "flat";
    // The typed dialect moves to the license's edition and says so only through `opts`; the flat
    // one names the edition (the body's `toEdition`, else the license's).
    toEdition = flat && typeof input.toEdition === "string" ? input.toEdition : licensed;
    if (toEdition === undefined) throw missingField("toEdition");
    extraOptions = flat
      ? { fromEdition: integration.edition, toEdition, integration: integrationView(integration) }
      : {};
  } else {
    extraOptions = { ...input };
  }
  const outcome = await stack.call({ connector, role: "setting", function: fn, integration, extraOptions });
  const result = outcome.called
    ? outcome.result
    : { success: true, ...(fn === "persistSettings" ? { pending: input } : {}) };
  const succeeded = !(isObject(result) && result.success === false);
  if (fn === "persistSettings" && succeeded) {
    const pending = isObject(result) && isObject(result.pending) ? result.pending : input;
    const settings = isObject(integration.doc.settings) ? integration.doc.settings : {};
    integration.doc.settings = { ...settings, ...pending };
  }
  if (fn === "changeEdition" && succeeded) integration.edition = toEdition;
  integration.doc.lastModified = nowIso();
  return { status: 200, body: result };
}

export function registerIntegrationSettings(router: ApiRouter): void {
  router.add("PUT", "/v1/integrations/:integrationId/settings/:function", runSetting);
}
