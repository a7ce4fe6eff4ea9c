/**
 * The Stripe simulator: the subset of Stripe's API the project calls, in Stripe's wire format,
 * with test clocks, billing and signed webhook delivery. See README.md.
 *
 * @example
 * const sim = await startStripeSimulator({ webhookEndpoints: [{ url, secret: "whsec_local" }] });
 * const stripe = new Stripe("sk_test_local", { host: "127.0.0.1", port: sim.port, protocol: "http" });
 * await sim.stop();
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequestListener } from "./server.ts";
import { Simulator } from "./simulator.ts";

export interface StripeSimulatorOptions {
  /** 0 or undefined: any free port. */
  port?: number;
  /** Loopback only; default 127.0.0.1. */
  host?: string;
  /** Endpoints to deliver events to, each signed with its own secret, in its API version (default the pinned one). */
  webhookEndpoints?: { url: string; secret: string; enabledEvents?: string[]; apiVersion?: string }[];
  /** No warnings on stderr (failed deliveries). */
  quiet?: boolean;
}

export interface StripeSimulator {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

export async function startStripeSimulator(options: StripeSimulatorOptions = {}): Promise<StripeSimulator> {
  const host = options.host ?? "127.0.0.1";
  // The control API has no auth: it must never be reachable from another machine.
  if (!LOOPBACK.test(host)) throw new Error(`The Stripe simulator listens on loopback only, not on ${host}.`);
  const sim = new Simulator({ quiet: options.quiet ?? false });
  for (const endpoint of options.webhookEndpoints ?? []) {
    sim.addWebhookEndpoint({
      url: endpoint.url,
      secret: endpoint.secret,
      enabledEvents: endpoint.enabledEvents ?? ["*"],
      apiVersion: endpoint.apiVersion ?? null,
    });
  }
  const server = createServer({ keepAliveTimeout: 5000 }, createRequestListener(sim));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // A deep accept backlog: load tests open many connections at once.
    server.listen(options.port ?? 0, host, 2048, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  sim.baseUrl = url;
  sim.startSweeping();
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        sim.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
