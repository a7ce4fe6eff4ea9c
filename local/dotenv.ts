import { existsSync } from "node:fs";

/**
 * Reads settings from a `.env` file (default: `./.env`, e.g. a copy of `.env.example`) into
 * `process.env` for the local commands — `npm start`, `npm run demo`, the CLI. A variable already
 * set in the environment wins over the file. True when a file was read.
 */
export function loadDotEnv(path = ".env"): boolean {
  if (!existsSync(path)) return false;
  process.loadEnvFile(path);
  return true;
}
