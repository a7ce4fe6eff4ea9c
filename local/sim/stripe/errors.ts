/** Stripe's error `type`s (https://docs.stripe.com/api/errors). */
export type StripeErrorType = "api_error" | "card_error" | "idempotency_error" | "invalid_request_error";

export interface StripeErrorDetails {
  type?: StripeErrorType;
  code?: string;
  param?: string;
  declineCode?: string;
}

/** An error the simulator answers in Stripe's wire format: `{"error":{type,code,message,param,...}}`. */
export class StripeSimError extends Error {
  override name = "StripeSimError";
  readonly type: StripeErrorType;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly declineCode: string | undefined;

  constructor(
    readonly status: number,
    message: string,
    details: StripeErrorDetails = {},
  ) {
    super(message);
    this.type = details.type ?? "invalid_request_error";
    this.code = details.code;
    this.param = details.param;
    this.declineCode = details.declineCode;
  }

  /** The response body, as Stripe shapes it. */
  body(requestId: string): { error: Record<string, string> } {
    const error: Record<string, string> = { type: this.type, message: this.message };
    if (this.code !== undefined) {
      error.code = this.code;
      error.doc_url = `https://stripe.com/docs/error-codes/${this.code.replaceAll("_", "-")}`;
    }
    if (this.param !== undefined) error.param = this.param;
    if (this.declineCode !== undefined) error.decline_code = this.declineCode;
    error.request_log_url = `https://dashboard.stripe.com/test/logs/${requestId}`;
    return { error };
  }
}

/** 404 `resource_missing`, worded as Stripe words it: "No such customer: 'cus_123'". */
export function resourceMissing(objectName: string, id: string, param = "id"): StripeSimError {
  return new StripeSimError(404, `No such ${objectName}: '${id}'`, { code: "resource_missing", param });
}

/** 400 for a parameter that is present but not acceptable. */
export function invalidParam(message: string, param: string, code = "parameter_invalid"): StripeSimError {
  return new StripeSimError(400, message, { code, param });
}

/** 400 for a request the object's state does not allow. */
export function invalidRequest(message: string, param?: string): StripeSimError {
  return new StripeSimError(400, message, param === undefined ? {} : { param });
}

/** 402 `card_declined`: the customer's payment failed (see `POST /_sim/customers/{id}/payment`). */
export function cardDeclined(): StripeSimError {
  return new StripeSimError(402, "Your card was declined.", {
    type: "card_error",
    code: "card_declined",
    declineCode: "generic_decline",
  });
}
