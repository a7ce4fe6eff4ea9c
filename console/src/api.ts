import type { Session } from "./types.ts";

/** An error answer of the API (`{"error":{"code","message","details"?}}`), or a failure to reach it. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown[] = [],
  ) {
    super(message);
  }
}

/** The CSRF token of the current session: in memory only, never stored. */
let csrfToken: string | undefined;
let onSessionEnded: () => void = () => {};

/** Called once by the app: what to do when any call answers 401 (the session expired or was revoked). */
export function whenSessionEnds(handler: () => void): void {
  onSessionEnded = handler;
}

interface RequestOptions {
  method?: "GET" | "POST" | "DELETE";
  body?: unknown;
  /** A 401 is the caller's to show (signing in) rather than the end of the session. */
  own401?: boolean;
}

/** Every call of the console goes through here: same-origin cookie, JSON, the CSRF header on changes. */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch (error) {
    throw new ApiError(0, "network_error", `Could not reach the server (${describe(error)}).`);
  }
  if (response.status === 401 && !options.own401) {
    csrfToken = undefined;
    onSessionEnded();
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  if (text === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(response.status, "bad_response", `The server's answer to ${path} is not JSON.`);
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const fallback = `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}.`;
  try {
    const body = (await response.json()) as {
      error?: { code?: unknown; message?: unknown; details?: unknown };
    };
    const error = body.error;
    if (error && typeof error.message === "string") {
      return new ApiError(
        response.status,
        typeof error.code === "string" ? error.code : "error",
        error.message,
        Array.isArray(error.details) ? error.details : [],
      );
    }
  } catch {
    // not JSON: the status says what there is to say
  }
  return new ApiError(response.status, "error", fallback);
}

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The session of this browser, or undefined when there is none (401). */
export async function currentSession(): Promise<Session | undefined> {
  try {
    const session = await request<Session>("/console/session", { own401: true });
    csrfToken = session.csrfToken;
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return undefined;
    throw error;
  }
}

/** Exchanges an operator token for a session cookie; a wrong or revoked token throws the server's 401. */
export async function signIn(token: string): Promise<Session> {
  const session = await request<Session>("/console/session", {
    method: "POST",
    body: { token },
    own401: true,
  });
  csrfToken = session.csrfToken;
  return session;
}

export async function signOut(): Promise<void> {
  try {
    await request<void>("/console/session", { method: "DELETE", own401: true });
  } finally {
    csrfToken = undefined;
  }
}

/** Builds a path with a query string, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export const segment = (value: string) => encodeURIComponent(value);
