import type { IntegratorSimulator } from "#local/sim/integrator/index.ts";

// Test bodies are read field by field and compared with expect(); a loose type keeps that readable.
// biome-ignore lint/suspicious/noExplicitAny: JSON from the simulator, asserted field by field
export type Body = any;

export interface SimResponse {
  status: number;
  headers: Headers;
  body: Body;
}

async function call(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<SimResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? undefined : JSON.parse(text),
  };
}

/** Calls into a running simulator: `api` as a token holder (or none), `control` for `/_sim`. */
export function simClient(sim: IntegratorSimulator) {
  return {
    /** `path` is relative to `/v1` (or an absolute URL, e.g. a `Link` target). */
    api(token: string | undefined, method: string, path: string, body?: unknown): Promise<SimResponse> {
      const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
      return call(path.startsWith("http") ? path : `${sim.url}${path}`, method, headers, body);
    },
    control(method: string, path: string, body?: unknown): Promise<SimResponse> {
      return call(`${sim.origin}/_sim${path}`, method, {}, body);
    },
    /** Sets the simulator's faults (`PUT /_sim/faults`); answers what it now injects. */
    async faults(faults: object): Promise<Body> {
      const response = await call(`${sim.origin}/_sim/faults`, "PUT", {}, faults);
      if (response.status !== 200)
        throw new Error(`PUT /_sim/faults: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    },
    /** A new integrator.io account; answers its `_id`, email and token. */
    async user(email: string, name?: string): Promise<{ _id: string; email: string; token: string }> {
      const created = await call(
        `${sim.origin}/_sim/users`,
        "POST",
        {},
        name === undefined ? { email } : { email, name },
      );
      if (created.status !== 201)
        throw new Error(`creating ${email}: ${created.status} ${JSON.stringify(created.body)}`);
      return created.body;
    },
  };
}

export type SimClient = ReturnType<typeof simClient>;

/** A year from now, as license `expires`. */
export const nextYear = () => new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();

/** The `rel="next"` URL of a `Link` header, if any. */
export function nextLinkOf(headers: Headers): string | undefined {
  const link = headers.get("link");
  return link ? /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] : undefined;
}
