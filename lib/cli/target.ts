import type { GlobalOptions } from "./args.ts";
import { AuthError, UsageError } from "./errors.ts";

/** `npm start` serves here unless PORT says otherwise (PORT=0 picks a free port: pass --url then). */
const DEFAULT_PORT = 3000;

/** The local stack's admin token (lib/config.ts LOCAL_DEFAULTS): sent only to a loopback URL. */
export const LOCAL_ADMIN_TOKEN = "local-admin-token";

/** Where the URL and the token may come from besides the command line. */
export interface TargetSources {
  /** The process environment: INTEGRATOR_LICENSING_URL, ADMIN_TOKEN, PORT. */
  env: Record<string, string | undefined>;
  /** The settings of `./.env` (the local stack's, as `npm start` reads them): consulted for a loopback URL only. */
  localEnv: () => Record<string, string | undefined>;
  /** Reads `--token-file PATH`. */
  readFile: (path: string) => Promise<string>;
  /** Reads all of stdin (`--token-stdin`, `--token-file -`). */
  readStdin: () => Promise<string>;
}

export interface Target {
  url: string;
  token: string;
}

/**
 * True for this machine: `localhost`, 127.0.0.0/8 and `[::1]` (the hostname as WHATWG URL
 * normalizes it, so `127.1` and `LOCALHOST` count too).
 */
export function isLoopback(url: URL): boolean {
  const host = url.hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The API's base URL: `--url`, else `INTEGRATOR_LICENSING_URL`, else `npm start` on this machine
 * (`http://127.0.0.1:$PORT`). An https URL, or http to loopback only: the token must not cross a
 * network in clear. Anything else is a `UsageError`, before any request.
 */
export function resolveUrl(global: GlobalOptions, sources: Pick<TargetSources, "env" | "localEnv">): URL {
  const given = global.url ?? nonEmpty(sources.env.INTEGRATOR_LICENSING_URL);
  const source = global.url !== undefined ? "--url" : "INTEGRATOR_LICENSING_URL";
  if (given === undefined) {
    const port = nonEmpty(sources.env.PORT) ?? nonEmpty(sources.localEnv().PORT);
    if (port !== undefined && !/^\d{1,5}$/.test(port)) {
      throw new UsageError(`PORT must be a port number (got ${port}); or pass --url`);
    }
    return new URL(`http://127.0.0.1:${Number(port ?? 0) || DEFAULT_PORT}`);
  }
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    url = new URL("invalid:");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UsageError(
      `${source} must be an https URL such as https://abc123.execute-api.us-east-1.amazonaws.com (got ${given})`,
    );
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new UsageError(`${source} must be the API's base URL, without credentials, query or fragment`);
  }
  if (url.protocol === "http:" && !isLoopback(url)) {
    throw new UsageError(
      `${source}: plain http to ${url.hostname} would send the token unencrypted; use https:// (http only to this machine: localhost, 127.0.0.0/8, [::1])`,
    );
  }
  return url;
}

/**
 * The bearer token: `--token-file PATH` (`-` for stdin) or `--token-stdin`, else `ADMIN_TOKEN`;
 * for a loopback URL only, else `./.env`'s ADMIN_TOKEN, else the local stack's default. Never from
 * argv. No token for another host is an `AuthError` (exit 3); an unreadable file a `UsageError`.
 */
export async function resolveToken(global: GlobalOptions, url: URL, sources: TargetSources): Promise<string> {
  let token: string | undefined;
  let source: string;
  if (global.tokenFile !== undefined && global.tokenFile !== "-") {
    source = `--token-file ${global.tokenFile}`;
    try {
      token = (await sources.readFile(global.tokenFile)).trim();
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new UsageError(`cannot read --token-file ${global.tokenFile}${code ? ` (${code})` : ""}`);
    }
  } else if (global.tokenFile === "-" || global.tokenStdin) {
    source = "stdin";
    token = (await sources.readStdin()).trim();
  } else {
    source = "ADMIN_TOKEN";
    token = nonEmpty(sources.env.ADMIN_TOKEN);
    if (token === undefined && isLoopback(url)) {
      token = nonEmpty(sources.localEnv().ADMIN_TOKEN) ?? LOCAL_ADMIN_TOKEN;
    }
    if (token === undefined) {
      throw new AuthError(
        `no admin token for ${url.host}: set ADMIN_TOKEN, or pass --token-file PATH or --token-stdin (the local default is only sent to this machine)`,
        401,
      );
    }
  }
  if (!token) throw new UsageError(`the token from ${source} is empty`);
  // A header value: one word of visible ASCII (a pasted line break or space would break the request).
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError(
      `the token from ${source} is not one word of printable ASCII (spaces, line breaks?)`,
    );
  }
  return token;
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);
