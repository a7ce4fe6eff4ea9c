import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { LOCAL_DEFAULTS } from "#lib/config.ts";
import { startLocalStack } from "#local/stack.ts";

// A second `npm start` (or anything else on a configured port) fails naming the setting to change.
const holders: Server[] = [];

/** Holds `port` (0 = a free one) for the test; a port something else holds already is taken too. */
async function takePort(port: number): Promise<number> {
  const server = createServer();
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    server.once("error", resolve);
    server.listen(port, "127.0.0.1", () => resolve(undefined));
  });
  if (error?.code === "EADDRINUSE") return port;
  if (error) throw error;
  holders.push(server);
  return (server.address() as AddressInfo).port;
}
afterAll(() => Promise.all(holders.map((s) => new Promise((resolve) => s.close(resolve)))));

const free = { PORT: "0", INTEGRATOR_API_URL: "http://127.0.0.1:0/v1", STRIPE_API_URL: "http://127.0.0.1:0" };

describe("local stack on a taken port", () => {
  it("names INTEGRATOR_API_URL when the simulator's default port is taken", { timeout: 60_000 }, async () => {
    const port = await takePort(Number(new URL(LOCAL_DEFAULTS.INTEGRATOR_API_URL).port));
    await expect(
      startLocalStack({ ...free, INTEGRATOR_API_URL: LOCAL_DEFAULTS.INTEGRATOR_API_URL }),
    ).rejects.toThrow(`port ${port} is taken (INTEGRATOR_API_URL)`);
  });

  it.each([
    ["STRIPE_API_URL", (port: number) => ({ STRIPE_API_URL: `http://127.0.0.1:${port}` })],
    ["PORT", (port: number) => ({ PORT: String(port) })],
  ])("names %s", { timeout: 60_000 }, async (setting, override) => {
    const port = await takePort(0);
    await expect(startLocalStack({ ...free, ...override(port) })).rejects.toThrow(
      `port ${port} is taken (${setting})`,
    );
  });
});
