import type { z } from "zod/mini";
import { IntegratorError, IntegratorResponseError } from "./errors.ts";
import {
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  type HttpContext,
  type HttpMethod,
  type IntegratorHooks,
  type RetryPolicy,
  send,
} from "./http.ts";
import type { Lane } from "./lanes.ts";
import type { Limiter } from "./limiter.ts";
import { nextLink } from "./link.ts";
import {
  actionResultSchema,
  type Connector,
  type ConnectorInput,
  connectorSchema,
  type InstallBaseEntry,
  type Integration,
  type IntegrationInput,
  installBaseEntrySchema,
  integrationSchema,
  type Job,
  type JobFilters,
  jobSchema,
  type License,
  type LicenseCreate,
  type LicenseUpdate,
  licenseSchema,
  type Resource,
  type ResourceInput,
  resourceSchema,
  type Stack,
  type StackInput,
  stackSchema,
  stateKeysSchema,
  type Template,
  type TemplateInput,
  type TokenInfo,
  templateSchema,
  tokenInfoSchema,
} from "./schemas.ts";
import { nodeTransport, type Transport } from "./transport.ts";

/** integrator.io's API base URLs per region. */
export const INTEGRATOR_BASE_URLS = {
  us: "https://api.integrator.io/v1",
  eu: "https://api.eu.integrator.io/v1",
} as const;
export type IntegratorRegion = keyof typeof INTEGRATOR_BASE_URLS;

/** The API base URL of a region: `integratorBaseUrl("eu")` → `https://api.eu.integrator.io/v1`. */
export function integratorBaseUrl(region: IntegratorRegion): string {
  return INTEGRATOR_BASE_URLS[region];
}

export interface IntegratorClientOptions {
  /** API base including `/v1` (`config.integratorApiUrl`, or `integratorBaseUrl("us")`). */
  baseUrl: string;
  /**
   * The vendor account's API token (`INTEGRATOR_TOKEN`), or how to read its current value (asked
   * at every call, so a rotated token takes over on the same client). Never logged.
   */
  token: string | (() => Promise<string>);
  /** Every attempt waits for a token here: share one limiter per process. */
  limiter: Limiter;
  /**
   * Whose work this client's calls are (lib/integrator/lanes.ts): `interactive` when someone waits
   * on the answer, `background` for the provisioning worker, `bulk` for sweeps.
   */
  lane: Lane;
  /** Per-attempt timeout in ms (default 10 000). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  hooks?: IntegratorHooks;
  /**
   * How requests go out: defaults to `nodeTransport` (./transport.ts: node:http with keep-alive,
   * cheaper in CPU than the global `fetch`); the global `fetch`, or any function of the same
   * shape, works too.
   */
  fetch?: Transport;
  /** Jitter source (default `Math.random`). */
  random?: () => number;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
  /** NetSuite RESTlet proxying: sent as `Integrator-NetSuite-ScriptId` / `Integrator-NetSuite-DeployId`. */
  netSuite?: { scriptId: string; deployId: string };
}

export interface ListOptions extends CallOptions {
  /** Extra query parameters of the first page (later pages follow `Link` as given). */
  query?: Record<string, string | number | boolean | undefined>;
}

/** list/get/create/update/delete of one resource collection. */
export interface CrudApi<T, Input> {
  /** Every item, page after page (`Link: rel="next"`). */
  list(options?: ListOptions): AsyncGenerator<T, void, undefined>;
  get(id: string, options?: CallOptions): Promise<T>;
  create(body: Input, options?: CallOptions): Promise<T>;
  update(id: string, body: Input, options?: CallOptions): Promise<T>;
  delete(id: string, options?: CallOptions): Promise<void>;
}

export interface ConnectorsApi extends CrudApi<Connector, ConnectorInput> {
  /** The integrations installed from a connector. */
  installBase(connectorId: string, options?: ListOptions): AsyncGenerator<InstallBaseEntry, void, undefined>;
  /** `PUT /connectors/{id}/update`: push the connector's update to these integrations. */
  pushUpdate(connectorId: string, integrationIds: string[], options?: CallOptions): Promise<unknown>;
}

export interface LicensesApi {
  list(connectorId: string, options?: ListOptions): AsyncGenerator<License, void, undefined>;
  get(connectorId: string, licenseId: string, options?: CallOptions): Promise<License>;
  /** Not idempotent: a lost answer throws `OutcomeUnknownError`, never a second POST. */
  create(connectorId: string, body: LicenseCreate, options?: CallOptions): Promise<License>;
  update(
    connectorId: string,
    licenseId: string,
    body: LicenseUpdate,
    options?: CallOptions,
  ): Promise<License>;
  delete(connectorId: string, licenseId: string, options?: CallOptions): Promise<void>;
}

export interface TemplatesApi {
  /** Templates come as one flat array (no pagination). */
  list(options?: CallOptions): Promise<Template[]>;
  get(id: string, options?: CallOptions): Promise<Template>;
  create(body: TemplateInput, options?: CallOptions): Promise<Template>;
  update(id: string, body: TemplateInput, options?: CallOptions): Promise<Template>;
  delete(id: string, options?: CallOptions): Promise<void>;
}

export interface IntegrationsApi extends CrudApi<Integration, IntegrationInput> {
  /**
   * `POST /integrations/{connectorId}/install`: the token's user installs the connector with
   * their license (use `forToken(userToken)`); answers the new integration.
   */
  install(
    connectorId: string,
    body?: { sandbox?: boolean; [field: string]: unknown },
    options?: CallOptions,
  ): Promise<Integration>;
  /** `PUT /integrations/{id}/installer/{function}`: run one install step. */
  installStep(integrationId: string, fn: string, body?: unknown, options?: CallOptions): Promise<unknown>;
  /** `DELETE /integrations/{id}/install`: uninstall (runs the stack's uninstall functions). */
  uninstall(integrationId: string, options?: CallOptions): Promise<void>;
  /** `PUT /integrations/{id}/settings/{function}` (`persistSettings`, `changeEdition`...). */
  settings(integrationId: string, fn: string, body: unknown, options?: CallOptions): Promise<unknown>;
}

export interface StateApi {
  /** The keys stored in the account's (or, with a one-time token, the integration's) state. */
  keys(options?: CallOptions): Promise<string[]>;
  /** The JSON stored under `key`. */
  get(key: string, options?: CallOptions): Promise<unknown>;
  put(key: string, value: unknown, options?: CallOptions): Promise<unknown>;
  delete(key: string, options?: CallOptions): Promise<void>;
}

export interface JobsApi {
  list(filters?: JobFilters, options?: ListOptions): AsyncGenerator<Job, void, undefined>;
  get(id: string, options?: CallOptions): Promise<Job>;
}

export interface IntegratorClient {
  /** `GET /tokenInfo`: whose token this is. */
  tokenInfo(options?: CallOptions): Promise<TokenInfo>;
  connectors: ConnectorsApi;
  licenses: LicensesApi;
  templates: TemplatesApi;
  integrations: IntegrationsApi;
  stacks: CrudApi<Stack, StackInput>;
  state: StateApi;
  iClients: CrudApi<Resource, ResourceInput>;
  connections: CrudApi<Resource, ResourceInput>;
  exports: CrudApi<Resource, ResourceInput>;
  imports: CrudApi<Resource, ResourceInput>;
  flows: CrudApi<Resource, ResourceInput>;
  jobs: JobsApi;
  /**
   * The same client acting with another token (an extension call's one-time `bearerToken`),
   * sharing this client's limiter, retries and hooks.
   */
  forToken(bearerToken: string): IntegratorClient;
}

const seg = encodeURIComponent;

/**
 * The shared integrator.io client. Build it once per process with the process's limiter.
 *
 * @example
 * const client = createIntegratorClient({ baseUrl: config.integratorApiUrl, token, limiter, lane: "background" });
 * for await (const license of client.licenses.list(connectorId)) console.log(license._id);
 */
export function createIntegratorClient(options: IntegratorClientOptions): IntegratorClient {
  const ctx: HttpContext = {
    limiter: options.limiter,
    lane: options.lane,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    hooks: options.hooks ?? {},
    fetch: options.fetch ?? nodeTransport,
    random: options.random ?? Math.random,
  };
  return bind(ctx, options.baseUrl.replace(/\/+$/, ""), options.token);
}

function bind(ctx: HttpContext, baseUrl: string, token: string | (() => Promise<string>)): IntegratorClient {
  const origin = new URL(baseUrl).origin;
  const tokenNow = async () => (typeof token === "string" ? token : await token());

  function urlOf(path: string, query?: ListOptions["query"]): string {
    const url = new URL(`${baseUrl}${path}`);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  function headersOf(options: CallOptions | undefined): Record<string, string> | undefined {
    if (!options?.netSuite) return undefined;
    return {
      "Integrator-NetSuite-ScriptId": options.netSuite.scriptId,
      "Integrator-NetSuite-DeployId": options.netSuite.deployId,
    };
  }

  function parse<S extends z.ZodMiniType>(
    schema: S,
    method: HttpMethod,
    url: string,
    status: number,
    body: unknown,
  ): z.infer<S> {
    const result = schema.safeParse(body);
    if (result.success) return result.data as z.infer<S>;
    const path = new URL(url).pathname;
    const issue = result.error.issues[0];
    const where = issue ? ` at ${issue.path.join(".") || "(root)"}: ${issue.message}` : "";
    throw new IntegratorResponseError(
      `integrator.io ${method} ${path} answered ${status} with an unexpected body${where}`,
      {
        method,
        path,
        status,
        cause: result.error,
      },
    );
  }

  async function call<S extends z.ZodMiniType>(
    method: HttpMethod,
    path: string,
    schema: S,
    body?: unknown,
    options?: CallOptions,
  ): Promise<z.infer<S>> {
    const url = urlOf(path);
    const headers = headersOf(options);
    const response = await send(ctx, {
      method,
      url,
      token: await tokenNow(),
      body,
      signal: options?.signal,
      ...(headers ? { headers } : {}),
    });
    return parse(schema, method, url, response.status, response.body);
  }

  async function remove(path: string, options?: CallOptions): Promise<void> {
    const headers = headersOf(options);
    await send(ctx, {
      method: "DELETE",
      url: urlOf(path),
      token: await tokenNow(),
      signal: options?.signal,
      ...(headers ? { headers } : {}),
    });
  }

  async function* pages<S extends z.ZodMiniType>(
    path: string,
    item: S,
    options?: ListOptions,
  ): AsyncGenerator<z.infer<S>, void, undefined> {
    const headers = headersOf(options);
    let url: string | undefined = urlOf(path, options?.query);
    while (url !== undefined) {
      const response = await send(ctx, {
        method: "GET",
        url,
        token: await tokenNow(),
        signal: options?.signal,
        ...(headers ? { headers } : {}),
      });
      const body = response.body ?? [];
      if (!Array.isArray(body)) {
        throw new IntegratorResponseError(
          `integrator.io GET ${new URL(url).pathname} answered a list that is not an array`,
          {
            method: "GET",
            path: new URL(url).pathname,
            status: response.status,
          },
        );
      }
      for (const entry of body) yield parse(item, "GET", url, response.status, entry);
      const next = nextLink(response.headers.get("link"), url);
      // The token goes only to integrator.io: never follow a Link to another origin.
      if (next !== undefined && new URL(next).origin !== origin) {
        throw new IntegratorError(
          `integrator.io GET ${new URL(url).pathname}: Link rel="next" points at another origin`,
          {
            method: "GET",
            path: new URL(url).pathname,
            status: response.status,
          },
        );
      }
      url = next;
    }
  }

  function crud<S extends z.ZodMiniType, Input>(collection: string, schema: S): CrudApi<z.infer<S>, Input> {
    return {
      list: (options) => pages(`/${collection}`, schema, options),
      get: (id, options) => call("GET", `/${collection}/${seg(id)}`, schema, undefined, options),
      create: (body, options) => call("POST", `/${collection}`, schema, body, options),
      update: (id, body, options) => call("PUT", `/${collection}/${seg(id)}`, schema, body, options),
      delete: (id, options) => remove(`/${collection}/${seg(id)}`, options),
    };
  }

  const license = (connectorId: string, licenseId?: string) =>
    `/connectors/${seg(connectorId)}/licenses${licenseId === undefined ? "" : `/${seg(licenseId)}`}`;

  return {
    tokenInfo: (options) => call("GET", "/tokenInfo", tokenInfoSchema, undefined, options),
    connectors: {
      ...crud<typeof connectorSchema, ConnectorInput>("connectors", connectorSchema),
      installBase: (connectorId, options) =>
        pages(`/connectors/${seg(connectorId)}/installBase`, installBaseEntrySchema, options),
      pushUpdate: (connectorId, integrationIds, options) =>
        call(
          "PUT",
          `/connectors/${seg(connectorId)}/update`,
          actionResultSchema,
          { _integrationIds: integrationIds },
          options,
        ),
    },
    licenses: {
      list: (connectorId, options) => pages(license(connectorId), licenseSchema, options),
      get: (connectorId, licenseId, options) =>
        call("GET", license(connectorId, licenseId), licenseSchema, undefined, options),
      create: (connectorId, body, options) =>
        call("POST", license(connectorId), licenseSchema, body, options),
      update: (connectorId, licenseId, body, options) =>
        call("PUT", license(connectorId, licenseId), licenseSchema, body, options),
      delete: (connectorId, licenseId, options) => remove(license(connectorId, licenseId), options),
    },
    templates: {
      list: async (options) => {
        const all: Template[] = [];
        for await (const template of pages("/templates", templateSchema, options)) all.push(template);
        return all;
      },
      get: (id, options) => call("GET", `/templates/${seg(id)}`, templateSchema, undefined, options),
      create: (body, options) => call("POST", "/templates", templateSchema, body, options),
      update: (id, body, options) => call("PUT", `/templates/${seg(id)}`, templateSchema, body, options),
      delete: (id, options) => remove(`/templates/${seg(id)}`, options),
    },
    integrations: {
      ...crud<typeof integrationSchema, IntegrationInput>("integrations", integrationSchema),
      install: (connectorId, body, options) =>
        call("POST", `/integrations/${seg(connectorId)}/install`, integrationSchema, body ?? {}, options),
      installStep: (integrationId, fn, body, options) =>
        call(
          "PUT",
          `/integrations/${seg(integrationId)}/installer/${seg(fn)}`,
          actionResultSchema,
          body ?? {},
          options,
        ),
      uninstall: (integrationId, options) => remove(`/integrations/${seg(integrationId)}/install`, options),
      settings: (integrationId, fn, body, options) =>
        call(
          "PUT",
          `/integrations/${seg(integrationId)}/settings/${seg(fn)}`,
          actionResultSchema,
          body,
          options,
        ),
    },
    stacks: crud<typeof stackSchema, StackInput>("stacks", stackSchema),
    state: {
      keys: async (options) => (await call("GET", "/state", stateKeysSchema, undefined, options)).keys,
      get: (key, options) => call("GET", `/state/${seg(key)}`, actionResultSchema, undefined, options),
      put: (key, value, options) => call("PUT", `/state/${seg(key)}`, actionResultSchema, value, options),
      delete: (key, options) => remove(`/state/${seg(key)}`, options),
    },
    iClients: crud<typeof resourceSchema, ResourceInput>("iClients", resourceSchema),
    connections: crud<typeof resourceSchema, ResourceInput>("connections", resourceSchema),
    exports: crud<typeof resourceSchema, ResourceInput>("exports", resourceSchema),
    imports: crud<typeof resourceSchema, ResourceInput>("imports", resourceSchema),
    flows: crud<typeof resourceSchema, ResourceInput>("flows", resourceSchema),
    jobs: {
      list: (filters, options) =>
        pages("/jobs", jobSchema, { ...options, query: { ...filters, ...options?.query } }),
      get: (id, options) => call("GET", `/jobs/${seg(id)}`, jobSchema, undefined, options),
    },
    forToken: (bearerToken) => bind(ctx, baseUrl, bearerToken),
  };
}
