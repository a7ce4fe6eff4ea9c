import * as z from "zod/mini";

/**
 * `?limit=` of every list: a page size from 1 to `max`. A query string is text, so the value is
 * parsed as a number here, and the schema (with the OpenAPI document) says integer on every list.
 */
export function pageLimitParam(max: number) {
  const rule = `must be a whole number from 1 to ${max}`;
  return z.optional(
    z.coerce
      .number(rule)
      .check(z.int(rule), z.minimum(1, rule), z.maximum(max, rule), z.describe(`Page size, 1 to ${max}.`)),
  );
}

/** `?cursor=` of every list: the previous page's `nextCursor`, as given (checked where it is read). */
export const pageCursorParam = z.optional(
  z
    .string("must be the nextCursor of the previous page")
    .check(
      z.minLength(1, "must not be empty"),
      z.maxLength(2048, "must be at most 2048 characters"),
      z.describe("`nextCursor` of the previous page, as given, with the same filters."),
    ),
);
