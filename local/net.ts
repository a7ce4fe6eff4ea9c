import { createServer } from "node:net";

/** Asks the OS for a free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Retries `probe` until it resolves, or fails after `timeoutMs` with the last error. */
export async function waitFor(
  probe: () => Promise<unknown>,
  { timeoutMs, what, intervalMs = 100 }: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await probe();
      return;
    } catch (error) {
      if (error instanceof Error && /exited/.test(error.message)) throw error;
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `${what} did not become ready in ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`,
  );
}

/** Starts a service on `port`; a taken port fails naming the setting that chose it. */
export async function namingTakenPort<T>(port: number, setting: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new Error(`port ${port} is taken (${setting})`);
    throw error;
  }
}
