import * as z from "zod/mini";

/**
 * Schemas of integrator.io's resources (docs/architecture.md §3). Objects are loose: fields integrator.io adds
 * later are kept, not stripped. Only `_id` is required; everything else integrator.io may omit.
 * Types are inferred from the schemas.
 */

const text = z.optional(z.string());
const flag = z.optional(z.boolean());
const ref = z.optional(z.nullable(z.string()));

export const tokenInfoSchema = z.looseObject({ _userId: z.string() });
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

export const connectorSchema = z.looseObject({
  _id: z.string(),
  name: text,
  description: text,
  imageURL: text,
  websiteURL: text,
  contactEmail: text,
  handle: text,
  published: flag,
  managed: flag,
  applications: z.optional(z.array(z.string())),
  _stackId: ref,
  _integrationId: ref,
  installerFunction: text,
  uninstallerFunction: text,
  updateFunction: text,
  preUninstallFunction: text,
  trialEnabled: flag,
});
export type Connector = z.infer<typeof connectorSchema>;
/** Fields of a connector create/update (everything but `_id`; unknown fields pass through). */
export type ConnectorInput = Partial<Omit<Connector, "_id">>;

/** One integration installed from a connector, as `GET /connectors/{id}/installBase` lists it. */
export const installBaseEntrySchema = z.looseObject({
  _id: z.string(),
  _integrationId: ref,
  _connectorId: text,
  email: text,
  name: text,
  version: text,
  sandbox: flag,
});
export type InstallBaseEntry = z.infer<typeof installBaseEntrySchema>;

export const addonLicenseSchema = z.looseObject({
  type: z.string(),
  licenses: z.array(z.looseObject({ addOnEdition: text })),
});

/** `opts` is vendor-defined; these are the fields this product writes. */
export const licenseOptsSchema = z.looseObject({
  connectorEdition: text,
  addonLicenses: z.optional(z.array(addonLicenseSchema)),
});
export type LicenseOpts = z.infer<typeof licenseOptsSchema>;

export const licenseSchema = z.looseObject({
  _id: z.string(),
  _connectorId: text,
  created: text,
  lastModified: text,
  /** ISO date-time; expiring shuts the customer's integration off. */
  expires: ref,
  opts: z.optional(z.nullable(licenseOptsSchema)),
  /** Read-only: only `email` until the customer installs. */
  user: z.optional(z.nullable(z.looseObject({ email: text, _id: text, name: text }))),
  _integrationId: ref,
  sandbox: flag,
});
export type License = z.infer<typeof licenseSchema>;

/**
 * `POST /connectors/{id}/licenses`: `email` (the account must exist, else `invalid_user`) and
 * `expires` (ISO date-time) are required.
 */
export interface LicenseCreate {
  email: string;
  expires: string;
  opts?: LicenseOpts;
  sandbox?: boolean;
  [field: string]: unknown;
}

/** `PUT /connectors/{id}/licenses/{id}` replaces the writable fields; it does not take `email`. */
export interface LicenseUpdate {
  expires: string;
  opts?: LicenseOpts;
  sandbox?: boolean;
  email?: never;
  [field: string]: unknown;
}

export const templateSchema = z.looseObject({
  _id: z.string(),
  name: text,
  description: text,
  imageURL: text,
  websiteURL: text,
  contactEmail: text,
  /** Read-only. */
  published: flag,
  lastModified: text,
  applications: z.optional(z.array(z.string())),
});
export type Template = z.infer<typeof templateSchema>;
export type TemplateInput = Partial<Omit<Template, "_id" | "published" | "lastModified">>;

export const installStepSchema = z.looseObject({
  name: text,
  description: text,
  completed: flag,
  installerFunction: text,
  uninstallerFunction: text,
  _connectionId: ref,
});
export type InstallStep = z.infer<typeof installStepSchema>;

export const integrationSchema = z.looseObject({
  _id: z.string(),
  name: text,
  _connectorId: ref,
  /** `install` | `settings` | `uninstall` for SmartConnector integrations. */
  mode: text,
  settings: z.optional(z.unknown()),
  version: text,
  updateInProgress: flag,
  install: z.optional(z.array(installStepSchema)),
  sandbox: flag,
  lastModified: text,
});
export type Integration = z.infer<typeof integrationSchema>;
export type IntegrationInput = Partial<Omit<Integration, "_id">>;

export const stackSchema = z.looseObject({
  _id: z.string(),
  name: text,
  /** `server` (HTTP) or `lambda`. */
  type: text,
  server: z.optional(z.looseObject({ hostURI: text, systemToken: text })),
  lambda: z.optional(z.looseObject({ accessKeyId: text, region: text, functionName: text })),
  lastModified: text,
});
export type Stack = z.infer<typeof stackSchema>;
export type StackInput = Partial<Omit<Stack, "_id">>;

/** The plain resources (iClients, connections, exports, imports, flows): any JSON plus `_id`. */
export const resourceSchema = z.looseObject({ _id: z.string(), name: text, lastModified: text });
export type Resource = z.infer<typeof resourceSchema>;
export type ResourceInput = Record<string, unknown>;

export const jobSchema = z.looseObject({
  _id: z.string(),
  type: text,
  status: text,
  _integrationId: ref,
  _flowId: ref,
  _exportId: ref,
  _importId: ref,
  _parentJobId: ref,
  startedAt: text,
  endedAt: text,
  numError: z.optional(z.number()),
  numSuccess: z.optional(z.number()),
  numIgnore: z.optional(z.number()),
});
export type Job = z.infer<typeof jobSchema>;

/** Filters of `GET /jobs` (integrator.io takes more; any string value passes through). */
export interface JobFilters {
  _integrationId?: string;
  _flowId?: string;
  _exportId?: string;
  _importId?: string;
  type?: string;
  status?: string;
  createdAt_gte?: string;
  createdAt_lte?: string;
  [filter: string]: string | undefined;
}

/** `GET /state`: the keys in use. */
export const stateKeysSchema = z.looseObject({ keys: z.array(z.string()) });

/** Results of actions (install, uninstall, settings, install steps, push update): whatever the stack answered. */
export const actionResultSchema = z.unknown();

/** integrator.io's error body. */
export const errorBodySchema = z.object({
  errors: z.array(
    z.looseObject({ code: z.string(), message: z.optional(z.string()), field: z.optional(z.string()) }),
  ),
});
