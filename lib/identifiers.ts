import * as z from "zod/mini";

/**
 * Identifiers taken from outside — Stripe's event, customer, subscription and other object ids,
 * integrator.io's ids, the admin API's path parameters — become DynamoDB keys, SQS FIFO group and
 * deduplication ids (at most 128 characters) and URL paths. Stripe's and integrator.io's ids are
 * all letters, digits, `_` and `-`, far shorter than 128: anything else is refused where it comes
 * in, so no store key, queue id or log line ever holds a NUL, a lone surrogate or a kilobyte of id.
 */
export const MAX_IDENTIFIER_LENGTH = 128;

const IDENTIFIER = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_IDENTIFIER_LENGTH}}$`);

/** What an identifier must be, for messages: "must be an id of …". */
export const IDENTIFIER_RULE = `must be an id of 1 to ${MAX_IDENTIFIER_LENGTH} letters, digits, _ or -`;

/** True when `value` is an identifier we take from outside (1–128 characters of `[A-Za-z0-9_-]`). */
export const isIdentifier = (value: unknown): value is string =>
  typeof value === "string" && IDENTIFIER.test(value);

/** The identifier check as a schema, for route parameters, queries and bodies. */
export const identifier = z.string().check(z.regex(IDENTIFIER, IDENTIFIER_RULE));

/** Stripe's event types: dotted lowercase words (`customer.subscription.updated`), at most 128 characters. */
const EVENT_TYPE = new RegExp(`^(?=.{1,${MAX_IDENTIFIER_LENGTH}}$)[a-z0-9_]+(?:\\.[a-z0-9_]+)*$`);

/** True when `value` reads as a Stripe event type. */
export const isEventType = (value: unknown): value is string =>
  typeof value === "string" && EVENT_TYPE.test(value);

/** The event type check as a schema (the admin event list's `type` filter). */
export const eventType = z.string().check(z.regex(EVENT_TYPE, "must be a Stripe event type"));
