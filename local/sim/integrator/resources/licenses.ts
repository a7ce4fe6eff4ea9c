import { z } from "zod";
import { requireConnectorAccess } from "../access.ts";
import type { ApiRouter } from "../context.ts";
import { invalidField, invalidUser, notFound } from "../errors.ts";
import { newId } from "../ids.ts";
import { isObject, type JsonObject, nowIso } from "../json.ts";
import { pageReply } from "../pagination.ts";
import type { License, SimStore } from "../store.ts";
import { parseBody } from "../validation.ts";
import { licenseView } from "../views.ts";
import { connectorOrNotFound } from "./connectors.ts";

const isoDateTime = z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" });
const opts = z.record(z.string(), z.unknown());

// POST: `email` and `expires` are required; `user`, `_integrationId` and the dates are read-only.
const createSchema = z.object({
  email: z.email(),
  expires: isoDateTime,
  opts: opts.optional(),
  sandbox: z.boolean().optional(),
});

// PUT replaces the writable fields; `email` cannot change (integrator.io's PUT does not take it).
const replaceSchema = z.object({
  expires: isoDateTime,
  opts: opts.optional(),
  sandbox: z.boolean().optional(),
});

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

function licenseOrNotFound(store: SimStore, connectorId: string, licenseId: string): License {
  const license = store.licensesOf(connectorId).get(licenseId);
  if (!license) throw notFound("License", licenseId);
  return license;
}

/** A PUT may repeat the license's email (clients often send the whole document), never change it. */
function rejectEmailChange(body: unknown, license: License): void {
  if (!isObject(body)) return;
  const candidates: [string, unknown][] = [
    ["email", body.email],
    ["user.email", isObject(body.user) ? body.user.email : undefined],
  ];
  for (const [field, value] of candidates) {
    if (value === undefined) continue;
    if (typeof value !== "string" || normalizeEmail(value) !== license.email) {
      throw invalidField(
        field,
        "A license's email cannot be changed; expire it and create one for the new email.",
      );
    }
  }
}

export function registerLicenses(router: ApiRouter): void {
  const base = "/v1/connectors/:connectorId/licenses";
  router
    .add("GET", base, ({ principal, store, params, query, url }) => {
      const connectorId = params.connectorId ?? "";
      requireConnectorAccess(principal, connectorId);
      connectorOrNotFound(store, connectorId);
      const licenses = [...store.licensesOf(connectorId).values()].map((license) =>
        licenseView(license, store),
      );
      return pageReply(licenses, query, url);
    })
    .add("POST", base, ({ principal, store, params, body, deferCommit }) => {
      const connectorId = params.connectorId ?? "";
      requireConnectorAccess(principal, connectorId);
      connectorOrNotFound(store, connectorId);
      const input = parseBody(createSchema, body);
      const email = normalizeEmail(input.email);
      if (!store.usersByEmail.has(email)) throw invalidUser(email);
      // The license comes into being (id, `created`) when it is committed.
      const commit = (): License => {
        const now = Date.now();
        const license: License = {
          _id: newId(now),
          _connectorId: connectorId,
          email,
          created: nowIso(now),
          lastModified: nowIso(now),
          expires: new Date(input.expires).toISOString(),
          opts: (input.opts ?? {}) as JsonObject,
          sandbox: input.sandbox ?? false,
        };
        store.licensesOf(connectorId).set(license._id, license);
        return license;
      };
      if (deferCommit) {
        // The `lateCommitRate` fault: no answer reaches the client. A connector deleted meanwhile
        // takes its licenses with it, so then nothing is committed.
        deferCommit(() => {
          if (store.connectors.has(connectorId)) commit();
        });
        return { status: 201 };
      }
      return { status: 201, body: licenseView(commit(), store) };
    })
    .add("GET", `${base}/:licenseId`, ({ principal, store, params }) => {
      const connectorId = params.connectorId ?? "";
      requireConnectorAccess(principal, connectorId);
      connectorOrNotFound(store, connectorId);
      return {
        status: 200,
        body: licenseView(licenseOrNotFound(store, connectorId, params.licenseId ?? ""), store),
      };
    })
    .add("PUT", `${base}/:licenseId`, ({ principal, store, params, body }) => {
      const connectorId = params.connectorId ?? "";
      requireConnectorAccess(principal, connectorId);
      connectorOrNotFound(store, connectorId);
      const license = licenseOrNotFound(store, connectorId, params.licenseId ?? "");
      rejectEmailChange(body, license);
      const input = parseBody(replaceSchema, body);
      license.expires = new Date(input.expires).toISOString();
      license.opts = (input.opts ?? {}) as JsonObject;
      if (input.sandbox !== undefined) license.sandbox = input.sandbox;
      license.lastModified = nowIso();
      return { status: 200, body: licenseView(license, store) };
    })
    .add("DELETE", `${base}/:licenseId`, ({ principal, store, params }) => {
      const connectorId = params.connectorId ?? "";
      requireConnectorAccess(principal, connectorId);
      connectorOrNotFound(store, connectorId);
      licenseOrNotFound(store, connectorId, params.licenseId ?? "");
      store.licensesOf(connectorId).delete(params.licenseId ?? "");
      return { status: 204 };
    });
}
