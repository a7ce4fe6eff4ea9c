import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Body } from "./integrator-sim-client.ts";

/** One call integrator.io made to the stack. */
export interface StackCall {
  authorization: string | undefined;
  body: Body;
}

export type StackAnswer = { status: number; body?: unknown };
export type StackBehaviour = (call: StackCall) => StackAnswer | Promise<StackAnswer>;

export interface TestStack {
  /** The `hostURI` to register: integrator.io calls `${hostURI}/function`. */
  hostURI: string;
  calls: StackCall[];
  /** How the next calls are answered (default: 200 `{}`). */
  behave(behaviour: StackBehaviour): void;
  stop(): Promise<void>;
}

/** A tiny HTTP extension server that records every call and answers as told. */
export async function startTestStack(): Promise<TestStack> {
  const calls: StackCall[] = [];
  let behaviour: StackBehaviour = () => ({ status: 200, body: {} });
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "POST" || req.url !== "/function") {
      res.writeHead(404).end();
      return;
    }
    const call: StackCall = {
      authorization: req.headers.authorization,
      body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
    };
    calls.push(call);
    try {
      const answer = await behaviour(call);
      const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
      res.writeHead(answer.status, { "content-type": "application/json" }).end(text);
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    hostURI: `http://127.0.0.1:${port}`,
    calls,
    behave(next) {
      behaviour = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
