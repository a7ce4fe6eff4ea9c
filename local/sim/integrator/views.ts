import { clone, type JsonObject } from "./json.ts";
import type { Integration, License, SimStore, Stack } from "./store.ts";

/** What integrator.io shows in place of a stack's system token. */
export const MASKED_SECRET = "******";

/**
 * A license as the API returns it. `user` is read-only: the email, plus the account's `_id` and
 * `name` while an account with that email exists.
 */
export function licenseView(license: License, store: SimStore): JsonObject {
  const account = store.usersByEmail.get(license.email);
  const user: JsonObject = { email: license.email };
  if (account) {
    user._id = account._id;
    if (account.name !== undefined) user.name = account.name;
  }
  const view: JsonObject = {
    _id: license._id,
    _connectorId: license._connectorId,
    created: license.created,
    lastModified: license.lastModified,
    expires: license.expires,
    opts: clone(license.opts),
    sandbox: license.sandbox,
    user,
  };
  if (license._integrationId !== undefined) view._integrationId = license._integrationId;
  return view;
}

/** A stack as the API returns it: the system token is never given back. */
export function stackView(stack: Stack): JsonObject {
  const view: JsonObject = {
    _id: stack._id,
    type: stack.type,
    server: { hostURI: stack.server.hostURI, systemToken: MASKED_SECRET },
    lastModified: stack.lastModified,
  };
  if (stack.name !== undefined) view.name = stack.name;
  return view;
}

export const integrationView = (integration: Integration): JsonObject => clone(integration.doc);
