import type { AddressInfo } from "node:net";
import { LOCAL_DEFAULTS } from "#lib/config.ts";
import { SimRuntime } from "./runtime.ts";
import { createSimServer } from "./server.ts";

export interface IntegratorSimulatorOptions {
  /** 0 or undefined: any free port. */
  port?: number;
  /** Loopback only; default 127.0.0.1. */
  host?: string;
  /** The vendor (partner) account's API token; default the local one. */
  vendorToken?: string;
  /** Per-account bucket size; integrator.io's is 1000. */
  capacity?: number;
  /** Per-account refill per second; integrator.io's is 300. */
  refillPerSecond?: number;
  /** No logging. */
  quiet?: boolean;
  /** Lifetime of the one-time tokens handed to the stack; integrator.io's is 15 minutes. */
  oneTimeTokenTtlMs?: number;
}

export interface IntegratorSimulator {
  /** `http://127.0.0.1:PORT`: the control API lives at `${origin}/_sim/...`. */
  origin: string;
  /** `origin + "/v1"`: what INTEGRATOR_API_URL points at. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** integrator.io's account-wide limit: a bucket of 1000 requests refilled at 300 per second. */
export const INTEGRATOR_RATE_LIMIT = { capacity: 1000, refillPerSecond: 300 } as const;

const isLoopback = (host: string) =>
  host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);

/** Starts the integrator.io simulator (API under `/v1`, control API under `/_sim`) on loopback. */
export async function startIntegratorSimulator(
  options: IntegratorSimulatorOptions = {},
): Promise<IntegratorSimulator> {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopback(host))
    throw new Error(`The integrator.io simulator listens on loopback only, not ${host}.`);
  const lifetime = new AbortController();
  const sim = new SimRuntime(
    options.vendorToken ?? LOCAL_DEFAULTS.INTEGRATOR_TOKEN,
    {
      capacity: options.capacity ?? INTEGRATOR_RATE_LIMIT.capacity,
      refillPerSecond: options.refillPerSecond ?? INTEGRATOR_RATE_LIMIT.refillPerSecond,
    },
    options.oneTimeTokenTtlMs,
    lifetime.signal,
  );
  let origin = "";
  const server = createSimServer(sim, { origin: () => origin, quiet: options.quiet ?? false });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      lifetime.abort();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return stopping;
  };
  return { origin, url: `${origin}/v1`, port, stop };
}
