/** The exit codes scripts can rely on. */
export const EXIT = { ok: 0, api: 1, usage: 2, auth: 3, connection: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each exit code means, as `--help` prints it (the README's table says the same at length). */
export const EXIT_MEANINGS: Record<ExitCode, string> = {
  [EXIT.ok]: "done (a reconcile run that finished, with or without drift)",
  [EXIT.api]: "the API refused or failed (its code and message are printed), or a reconcile run failed",
  [EXIT.usage]:
    "usage or configuration: a wrong command line, --token, a bad URL (plain http to another host), an unreadable token file; nothing was sent",
  [EXIT.auth]:
    "authentication: no token for a remote API, or the token is wrong, revoked or its role too low",
  [EXIT.connection]: "the API could not be reached (connection refused, unknown host, timeout)",
};

/** A failure of the CLI that ends it with `exitCode` and a message for the operator. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The command line is wrong (exit 2). */
export class UsageError extends CliError {
  override name = "UsageError";
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** The API answered with an error (exit 1); `code` and `details` as the API gave them. */
export class ApiError extends CliError {
  override name = "ApiError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly details: unknown[] | undefined,
  ) {
    super(message, EXIT.api);
  }
}

/** The API refused the credentials (exit 3). */
export class AuthError extends CliError {
  override name = "AuthError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message, EXIT.auth);
  }
}

/** The API could not be reached at all (exit 4). */
export class ConnectionError extends CliError {
  override name = "ConnectionError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, EXIT.connection, options);
  }
}
