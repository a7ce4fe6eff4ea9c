/** One entry of integrator.io's error envelope `{"errors":[{code,message,field?}]}`. */
export interface ApiErrorItem {
  code: string;
  message: string;
  field?: string;
}

/**
 * An error the simulator answers with, in integrator.io's envelope. `code` is stable (clients
 * branch on it), `message` is for humans.
 */
export class SimError extends Error {
  override name = "SimError";
  readonly errors: ApiErrorItem[];
  constructor(
    readonly status: number,
    errors: ApiErrorItem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(errors.map((error) => `${error.code}: ${error.message}`).join("; "));
    this.errors = errors;
  }
}

const single = (
  status: number,
  code: string,
  message: string,
  field?: string,
  headers?: Record<string, string>,
) => new SimError(status, [field === undefined ? { code, message } : { code, message, field }], headers);

export const unauthorized = () => single(401, "unauthorized", "Missing or invalid bearer token.");
export const accessRestricted = (message: string) => single(403, "access_restricted", message);
export const notFound = (what: string, id: string) =>
  single(404, "not_found", `${what} ${id} was not found.`);
export const routeNotFound = (method: string, path: string) =>
  single(404, "not_found", `There is no route ${method} ${path}.`);
export const methodNotAllowed = (allowed: string[]) =>
  single(405, "method_not_allowed", `Allowed methods: ${allowed.join(", ")}.`, undefined, {
    allow: allowed.join(", "),
  });
export const invalidQueryParams = (param: string, message: string) =>
  single(400, "invalid_query_params", message, param);
export const invalidJson = (message: string) => single(400, "invalid_json", message);
export const payloadTooLarge = (limit: number) =>
  single(413, "payload_too_large", `The body is over ${limit} bytes.`);
export const missingField = (field: string) =>
  single(422, "missing_required_field", `${field} is required.`, field);
export const invalidField = (field: string, message: string) => single(422, "invalid_field", message, field);
export const invalidRef = (field: string, message: string) => single(422, "invalid_ref", message, field);
export const invalidUser = (email: string) =>
  single(422, "invalid_user", `There is no integrator.io account for ${email}.`, "email");
export const fieldLocked = (field: string, message = `${field} is managed by the integration app.`) =>
  single(422, "field_locked_by_integration_app", message, field);
export const unprocessable = (code: string, message: string, field?: string) =>
  single(422, code, message, field);
export const conflict = (code: string, message: string, field?: string) => single(409, code, message, field);
export const rateLimited = (retryAfterSeconds: number) =>
  single(429, "rate_limited", `Rate limit exceeded; retry after ${retryAfterSeconds} s.`, undefined, {
    "retry-after": String(retryAfterSeconds),
  });

/** The envelope body of an error answer. */
export function errorBody(error: SimError): { errors: ApiErrorItem[] } {
  return { errors: error.errors };
}
