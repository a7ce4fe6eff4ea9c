import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
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

/**
 * Powertools' Logger, whose child loggers tell the invocation's cold start as their parent does.
 * Powertools copies the parent's Lambda context into a child, but each child then asks its own
 * cold-start flag, which is true on its first use: every child created on a warm invocation (one
 * per event, reconcile run, customer, extension call) would say `cold_start: true`.
 */
class ProductLogger extends Logger {
  override addContext(context: Parameters<Logger["addContext"]>[0]): void {
    // A parent's stored context carries its `coldStart`; Lambda's own context never does.
    if ("coldStart" in context && typeof context.coldStart === "boolean") this.coldStart = context.coldStart;
    super.addContext(context);
  }

  protected override createLogger(options?: ConstructorParameters<typeof Logger>[0]): Logger {
    return new ProductLogger(options);
  }
}

/**
 * A Powertools logger for one function; `service` names the function in every line. Each
 * invocation adds Lambda's context (`addLambdaContext`: `httpFunction` does it, and the handlers
 * that are not HTTP): every line then carries the request id, function name and cold start.
 */
export function createLogger(service: string, config: Pick<Config, "logLevel">): Logger {
  return new ProductLogger({
    serviceName: `integrator-licensing.${service}`,
    logLevel: config.logLevel,
    jsonReplacerFn: boundFields,
  });
}

/**
 * Lambda's context of this invocation in every line `logger` (and each child created from now on)
 * writes: `function_request_id`, `function_name`, `cold_start`... — what Powertools'
 * `injectLambdaContext` does. Once per invocation: the cold start is told only to the first call.
 */
export function addLambdaContext(logger: Logger, context: Context | undefined): void {
  if (context) logger.addContext(context);
}
