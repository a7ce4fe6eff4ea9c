import { Logger } from "@aws-lambda-powertools/logger";
import { cutText } from "../bounded-text.ts";
import type { Config } from "../config.ts";

/**
 * The longest field of a log line once written, in characters. A logged value may hold what a
 * caller sent (a Stripe object with 15,000 metadata keys, a schema error naming each of them):
 * cut, one line stays a few KB instead of half a megabyte.
 */
export const MAX_LOG_FIELD_LENGTH = 2048;

/** A log line's fields, each cut to `MAX_LOG_FIELD_LENGTH`: a long text as text, a large object as its JSON. */
function boundFields(key: string, value: unknown): unknown {
  if (key !== "" || value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([name, field]) => [name, boundField(field)]));
}

function boundField(field: unknown): unknown {
  if (typeof field === "string") return cutText(field, MAX_LOG_FIELD_LENGTH);
  if (field === null || typeof field !== "object") return field;
  const json = jsonOf(field);
  return json.length <= MAX_LOG_FIELD_LENGTH ? field : cutText(json, MAX_LOG_FIELD_LENGTH);
}

/** `value` as the line would show it: errors with their name, message and stack, no cycles. */
function jsonOf(value: object): string {
  const seen = new WeakSet<object>();
  return (
    JSON.stringify(value, (_key, item: unknown) => {
      if (typeof item === "bigint") return item.toString();
      if (item instanceof Error) return { name: item.name, message: item.message, stack: item.stack };
      if (item !== null && typeof item === "object") {
        if (seen.has(item)) return undefined;
        seen.add(item);
      }
      return item;
    }) ?? ""
  );
}

/** A Powertools logger for one function; `service` names the function in every line. */
export function createLogger(service: string, config: Pick<Config, "logLevel">): Logger {
  return new Logger({
    serviceName: `integrator-licensing.${service}`,
    logLevel: config.logLevel,
    jsonReplacerFn: boundFields,
  });
}
