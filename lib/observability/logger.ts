import { Logger } from "@aws-lambda-powertools/logger";
import type { Config } from "../config.ts";

/** A Powertools logger for one function; `service` names the function in every line. */
export function createLogger(service: string, config: Pick<Config, "logLevel">): Logger {
  return new Logger({ serviceName: `integrator-licensing.${service}`, logLevel: config.logLevel });
}
