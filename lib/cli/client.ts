import { ApiError, AuthError, ConnectionError } from "./errors.ts";
import { isLoopback } from "./target.ts";

export interface AdminClientOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:3000` or a deployed stack's ApiUrl. */
  baseUrl: string;
  token: string;
  /** Per request; the API answers in well under a second, a reconcile is polled. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Why a request never got an answer, in an operator's words. */
function connectionProblem(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
    return "no answer in time";
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  switch (cause?.code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ECONNRESET":
      return "connection reset";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out";
    default:
      return cause?.message ?? (error instanceof Error ? error.message : String(error));
  }
}

/**
 * The admin API over HTTP with a bearer token: the admin token (root) or an operator's. Every
 * failure is a `CliError` with its exit code: no answer → `ConnectionError`, 401/403 (a missing,
 * wrong or revoked token, or a role too low for the action) → `AuthError`, any other error → `ApiError`.
 * The token never appears in an error message.
 */
export class AdminClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: AdminClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetch = options.fetch ?? fetch;
  }

  get url(): string {
    return this.baseUrl;
  }

  /** `GET` with a query (undefined values left out). */
  get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
    const search = new URLSearchParams(
      Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ).toString();
    return this.request<T>("GET", search ? `${path}?${search}` : path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  /** `DELETE`; a 204 resolves to undefined. */
  delete<T = undefined>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const problem = connectionProblem(error);
      const hint = isLoopback(new URL(this.baseUrl))
        ? "; is `npm start` running? Elsewhere, pass --url or set INTEGRATOR_LICENSING_URL"
        : "; check --url (or INTEGRATOR_LICENSING_URL)";
      throw new ConnectionError(`cannot reach the API at ${this.baseUrl} (${problem})${hint}`, {
        cause: error,
      });
    }
    const text = await response.text().catch(() => "");
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (response.ok) {
      if (json === undefined && text)
        throw new ApiError(
          `${method} ${path}: the answer is not JSON — is ${this.baseUrl} this product's API?`,
          response.status,
          undefined,
          undefined,
        );
      return json as T;
    }
    const error = (json as { error?: { code?: string; message?: string; details?: unknown[] } } | undefined)
      ?.error;
    if (response.status === 401) {
      throw new AuthError(
        `the API wants an admin token (401${error?.message ? `: ${error.message}` : ""}); set ADMIN_TOKEN, or pass --token-file or --token-stdin`,
        401,
      );
    }
    if (response.status === 403) {
      // A known token whose role is too low: the API's message names the role the action needs.
      const role = /\bneeds the (\w+) role\b/.exec(error?.message ?? "")?.[1];
      if (role) {
        throw new AuthError(
          `the API refused this action (403: ${error?.message}); it needs a token with the ${role} role or above`,
          403,
        );
      }
      throw new AuthError(
        `the API refused the admin token (403${error?.message ? `: ${error.message}` : ""}); pass the stack's admin token or an operator's token (ADMIN_TOKEN, --token-file or --token-stdin)`,
        403,
      );
    }
    const problems = (error?.details ?? [])
      .map((detail) => detail as { path?: unknown; message?: unknown })
      .filter((detail) => typeof detail.message === "string")
      .map((detail) => `\n  ${typeof detail.path === "string" ? `${detail.path}: ` : ""}${detail.message}`);
    const what =
      (error?.message ?? (text ? text.slice(0, 200) : response.statusText)) +
      (problems.length > 1 ? problems.join("") : "");
    throw new ApiError(
      `${method} ${path} answered ${response.status}${error?.code ? ` ${error.code}` : ""}: ${what}`,
      response.status,
      error?.code,
      error?.details,
    );
  }
}
