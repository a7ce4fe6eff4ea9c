import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { apiRouter } from "./api.ts";
import { authenticate } from "./auth.ts";
import { type ControlContext, controlRouter } from "./control.ts";
import { methodNotAllowed, routeNotFound, SimError } from "./errors.ts";
import { drawFault, faultCode } from "./faults.ts";
import { errorReply, readJsonBody, sendReply } from "./http-io.ts";
import type { Reply, Router } from "./router.ts";
import type { SimRuntime } from "./runtime.ts";

export interface ServerOptions {
  /** The simulator's own origin (for `Link` headers), known once it listens. */
  origin: () => string;
  quiet: boolean;
}

/** The error an injected fault answers with, as integrator.io would send it for that status. */
function injectedFailure(status: number): SimError {
  const headers: Record<string, string> = status === 429 ? { "retry-after": "1" } : {};
  return new SimError(
    status,
    [{ code: faultCode(status), message: `Injected fault: HTTP ${status}.` }],
    headers,
  );
}

/** The HTTP server: `/v1/...` is the simulated integrator.io API, `/_sim/...` the control API. */
export function createSimServer(sim: SimRuntime, options: ServerOptions): Server {
  const api = apiRouter();
  const control = controlRouter();

  const report = (error: unknown) => {
    if (!options.quiet && !(error instanceof SimError))
      console.error("integrator.io simulator: internal error", error);
  };

  async function routeControl(req: IncomingMessage, method: string, url: URL): Promise<Reply> {
    const match = (control as Router<ControlContext>).match(method, url.pathname);
    if (match.kind === "none") throw routeNotFound(method, url.pathname);
    if (match.kind === "wrong-method") throw methodNotAllowed(match.allowed);
    const body = await readJsonBody(req);
    return match.handler({ sim, body, params: match.params });
  }

  /**
   * One `/v1` request, in integrator.io's order: counted, delayed by the latency fault,
   * authenticated, charged to its account's bucket, then failed by the error fault or handled.
   * A dropped response is handled (its change applied) but the connection is reset instead. A late
   * commit (a license create only) resets the connection before its change is applied, and applies
   * it `lateCommitMs` later.
   */
  async function routeApi(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
  ): Promise<void> {
    const match = api.match(method, url.pathname);
    const route = match.kind === "route" ? `${method} ${match.template}` : `${method} (unmatched)`;
    sim.stats.request(route);
    const fault = drawFault(sim.faults);
    const lateCommitMs = fault.lateCommitMs;
    let lateCommit: (() => void) | undefined;
    let reply: Reply;
    try {
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      const principal = authenticate(req.headers.authorization, {
        vendorToken: sim.vendorToken,
        store: sim.store,
        oneTimeTokens: sim.oneTimeTokens,
      });
      try {
        sim.buckets.take(principal.bucketId);
      } catch (error) {
        sim.stats.rateLimited(route);
        throw error;
      }
      if (fault.failWith !== undefined) throw injectedFailure(fault.failWith);
      if (match.kind === "none") throw routeNotFound(method, url.pathname);
      if (match.kind === "wrong-method") throw methodNotAllowed(match.allowed);
      const body = await readJsonBody(req);
      reply = await match.handler({
        principal,
        url,
        query: url.searchParams,
        body,
        store: sim.store,
        stack: sim.stack,
        params: match.params,
        deferCommit:
          lateCommitMs === undefined
            ? undefined
            : (commit) => {
                lateCommit = commit;
              },
      });
    } catch (error) {
      lateCommit = undefined;
      report(error);
      reply = errorReply(error);
    }
    if (lateCommit !== undefined && lateCommitMs !== undefined) {
      req.socket.resetAndDestroy();
      sim.lateCommits.schedule(lateCommitMs, lateCommit);
      return;
    }
    if (fault.drop) {
      req.socket.resetAndDestroy();
      return;
    }
    sendReply(res, reply);
  }

  const server = createServer((req, res) => {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", options.origin());
    const path = url.pathname;
    const handled =
      path === "/v1" || path.startsWith("/v1/")
        ? routeApi(req, res, method, url)
        : (path === "/_sim" || path.startsWith("/_sim/")
            ? routeControl(req, method, url)
            : Promise.reject(routeNotFound(method, path))
          ).then(
            (reply) => sendReply(res, reply),
            (error: unknown) => {
              report(error);
              sendReply(res, errorReply(error));
            },
          );
    handled.catch((error: unknown) => {
      report(error);
      if (!res.headersSent) sendReply(res, errorReply(error));
      else res.destroy();
    });
  });
  // A closed server commits nothing more, so its process can exit.
  server.on("close", () => sim.lateCommits.cancelAll());
  return server;
}
