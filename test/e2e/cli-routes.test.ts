import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS, type CommandName } from "#lib/cli/args.ts";
import { matchRoute, routeKey, routes } from "#lib/routes.ts";
import { runCliBundle } from "#test/helpers/cli-bundle.ts";

/**
 * Every admin route of the route table has a CLI command, and each command sends its route: the
 * bundled CLI runs each command's help example against a server on 127.0.0.1 that records the
 * requests and answers whatever JSON the command needs to finish.
 */
const adminRoutes = routes.filter((route) => route.auth === "admin");
/** The commands that call this API (each names its route). */
const commands = (Object.entries(COMMANDS) as [CommandName, (typeof COMMANDS)[CommandName]][]).flatMap(
  ([name, spec]) => (spec.route ? [[name, { ...spec, route: spec.route }] as const] : []),
);

interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

let server: Server;
let url: string;
const recorded: Recorded[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
    });
    request.on("end", () => {
      const method = request.method ?? "";
      recorded.push({
        method,
        path: new URL(request.url ?? "/", "http://x").pathname,
        authorization: request.headers.authorization,
        body,
      });
      if (method === "DELETE") {
        response.writeHead(204).end();
        return;
      }
      // Enough for every command: lists end (no nextCursor), a started run is polled once and is done.
      response.writeHead(method === "POST" ? 201 : 200, { "content-type": "application/json" }).end(
        JSON.stringify({
          data: [],
          runId: "run-1",
          jobId: "job-1",
          moved: 0,
          state: "done",
          counts: { checked: 0 },
          itemCount: 0,
          url: "https://billing.example/s",
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("the CLI covers the admin API", () => {
  it("every admin route of the route table is some command's route, and every command's route is one", () => {
    const declared = new Set(commands.map(([, spec]) => spec.route));
    const missing = adminRoutes.map(routeKey).filter((key) => !declared.has(key));
    expect(missing, "admin routes without a CLI command").toEqual([]);
    const adminKeys = new Set(adminRoutes.map(routeKey));
    expect(
      commands.filter(([, spec]) => !adminKeys.has(spec.route)).map(([name]) => name),
      "commands whose route is not an admin route",
    ).toEqual([]);
  });

  it.each(commands)(
    "%s sends its route, with the token, and a body the route accepts",
    async (name, spec) => {
      const from = recorded.length;
      const result = await runCliBundle([...spec.example.split(" "), "--json"], {
        env: { PATH: process.env.PATH, INTEGRATOR_LICENSING_URL: url, ADMIN_TOKEN: "route-walk-token" },
      });
      expect(result.stderr.replace(/^reconcile run-1: .*\n/m, ""), name).toBe("");
      expect(result.code, name).toBe(0);
      const requests = recorded.slice(from);
      const sent = requests.find((request) => {
        const match = matchRoute(request.method, request.path);
        return match.kind === "found" && match.routeKey === spec.route;
      });
      expect(sent, `${name}: ${requests.map((r) => `${r.method} ${r.path}`).join(", ")}`).toBeDefined();
      expect(requests.every((request) => request.authorization === "Bearer route-walk-token")).toBe(true);
      const route = adminRoutes.find((candidate) => routeKey(candidate) === spec.route);
      const bodySchema = route?.request.body;
      if (bodySchema && sent) {
        const parsed = bodySchema.safeParse(sent.body ? JSON.parse(sent.body) : undefined);
        expect(parsed.success, `${name} sent ${sent.body}`).toBe(true);
      }
    },
  );
});
