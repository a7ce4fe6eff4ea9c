import { z } from "zod";
import { requireAccountToken, visibleIntegration } from "../access.ts";
import type { Principal } from "../auth.ts";
import type { ApiContext, ApiRouter } from "../context.ts";
import { invalidField, invalidRef, unprocessable } from "../errors.ts";
import { newId } from "../ids.ts";
import { applyStepsToUpdate, settleMode, stepsOf } from "../install-steps.ts";
import { isObject, type JsonObject, nowIso } from "../json.ts";
import type { Integration, License, SimStore } from "../store.ts";
import { objectBody, parseBody } from "../validation.ts";
import { integrationView } from "../views.ts";
import { connectorOrNotFound } from "./connectors.ts";
import { requireSmartConnector } from "./integrations.ts";

const installSchema = z.object({ sandbox: z.boolean().optional() });

/**
 * The license the caller installs with: theirs (by email), unexpired and not yet attached to an
 * integration. Each way of not having one has its own code, all 422.
 */
function licenseToInstall(
  store: SimStore,
  principal: Principal,
  connectorId: string,
  sandbox?: boolean,
): License {
  const email = principal.kind === "user" ? principal.email : undefined;
  const theirs = [...store.licensesOf(connectorId).values()].filter(
    (license) => license.email === email && (sandbox === undefined || license.sandbox === sandbox),
  );
  if (theirs.length === 0) {
    throw unprocessable(
      "license_not_found",
      `There is no license of connector ${connectorId} for this account.`,
    );
  }
  const live = theirs.filter((license) => Date.parse(license.expires) > Date.now());
  if (live.length === 0)
    throw unprocessable("license_expired", `The license of connector ${connectorId} has expired.`);
  const free = live.find(
    (license) => license._integrationId === undefined || !store.integrations.has(license._integrationId),
  );
  if (!free)
    throw unprocessable("license_in_use", `The license of connector ${connectorId} is already installed.`);
  return free;
}

/** The connector an installed integration came from (`invalid_ref` once it is gone). */
export function connectorOfIntegration(store: SimStore, integration: Integration): JsonObject {
  const connectorId = requireSmartConnector(integration);
  const connector = store.connectors.get(connectorId);
  if (!connector) throw invalidRef("_connectorId", `Connector ${connectorId} no longer exists.`);
  return connector;
}

const functionOf = (connector: JsonObject, field: string) =>
  typeof connector[field] === "string" && connector[field] !== "" ? (connector[field] as string) : undefined;

function releaseLicense(store: SimStore, integration: Integration): void {
  const license = store.findLicense(integration.licenseId);
  if (license && license._integrationId === integration.doc._id) {
    delete license._integrationId;
    license.lastModified = nowIso();
  }
}

async function install({
  principal,
  store,
  stack,
  params,
  body,
}: ApiContext & { params: Record<string, string> }) {
  requireAccountToken(principal);
  const connectorId = params.connectorId ?? "";
  const connector = connectorOrNotFound(store, connectorId);
  const input = parseBody(installSchema, body);
  const license = licenseToInstall(store, principal, connectorId, input.sandbox);
  stack.hasStack(connector); // a broken _stackId fails before anything is created
  const now = nowIso();
  const integration: Integration = {
    owner: principal.accountId,
    licenseId: license._id,
    edition: typeof license.opts.connectorEdition === "string" ? license.opts.connectorEdition : undefined,
    doc: {
      _id: newId(),
      name: typeof connector.name === "string" ? connector.name : connectorId,
      _connectorId: connectorId,
      mode: "install",
      install: [],
      settings: {},
      version: typeof connector.version === "string" ? connector.version : "1.0.0",
      updateInProgress: false,
      sandbox: license.sandbox,
      lastModified: now,
    },
  };
  const id = String(integration.doc._id);
  store.integrations.set(id, integration);
  license._integrationId = id;
  license.lastModified = now;
  const installer = functionOf(connector, "installerFunction");
  if (installer) {
    try {
      const outcome = await stack.call({ connector, role: "installer", function: installer, integration });
      if (outcome.called) applyStepsToUpdate(integration, outcome.result);
    } catch (error) {
      // A failed installer leaves nothing behind: the license can be installed again.
      store.integrations.delete(id);
      releaseLicense(store, integration);
      throw error;
    }
  }
  settleMode(integration);
  return { status: 201, body: integrationView(integration) };
}

async function installStep({
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
  if (integration.doc.mode !== "install")
    throw invalidField("mode", "The integration is not being installed.");
  const step = stepsOf(integration).find((candidate) => candidate.installerFunction === fn);
  if (!step) throw invalidField("function", `No install step runs ${fn}.`);
  // The request body (the step's form, if any) is passed through in the options.
  const outcome = await stack.call({
    connector,
    role: "step",
    function: fn,
    integration,
    extraOptions: objectBody(body),
  });
  let result: unknown;
  if (outcome.called) {
    result = outcome.result;
    const applied = applyStepsToUpdate(integration, result);
    if (!applied && isObject(result) && result.success === true) step.completed = true;
  } else {
    step.completed = true;
    result = { success: true, stepsToUpdate: [{ ...step }] };
  }
  settleMode(integration);
  integration.doc.lastModified = nowIso();
  return { status: 200, body: result };
}

async function uninstall({
  principal,
  store,
  stack,
  params,
}: ApiContext & { params: Record<string, string> }) {
  requireAccountToken(principal);
  const id = params.integrationId ?? "";
  const integration = visibleIntegration(principal, store.integrations.get(id), id);
  const connector = connectorOfIntegration(store, integration);
  integration.doc.mode = "uninstall";
  integration.doc.lastModified = nowIso();
  const preUninstall = functionOf(connector, "preUninstallFunction");
  if (preUninstall) {
    const outcome = await stack.call({
      connector,
      role: "preUninstall",
      function: preUninstall,
      integration,
    });
    if (outcome.called) applyStepsToUpdate(integration, outcome.result);
  }
  // Steps as they stand after pre-uninstall (it may reorder them), in order.
  const stepFunctions = stepsOf(integration)
    .map((step) => step.uninstallerFunction)
    .filter((fn): fn is string => typeof fn === "string" && fn !== "");
  for (const fn of stepFunctions) {
    const outcome = await stack.call({ connector, role: "stepUninstaller", function: fn, integration });
    if (outcome.called) applyStepsToUpdate(integration, outcome.result);
  }
  const uninstaller = functionOf(connector, "uninstallerFunction");
  if (uninstaller) await stack.call({ connector, role: "uninstaller", function: uninstaller, integration });
  store.integrations.delete(id);
  store.state.delete(`integrations:${id}`);
  releaseLicense(store, integration);
  return { status: 204 };
}

export function registerInstall(router: ApiRouter): void {
  router
    .add("POST", "/v1/integrations/:connectorId/install", install)
    .add("DELETE", "/v1/integrations/:integrationId/install", uninstall)
    .add("PUT", "/v1/integrations/:integrationId/installer/:function", installStep);
}
