import { describe, expect, it } from "vitest";
import { parseCommandLine, usage } from "#lib/cli/args.ts";
import { AdminClient } from "#lib/cli/client.ts";
import { ApiError, AuthError, ConnectionError, EXIT, UsageError } from "#lib/cli/errors.ts";
import { reconcileReport, table, time } from "#lib/cli/format.ts";
import { runCli } from "#lib/cli/main.ts";

/** A fetch that answers from a table of `METHOD path` → [status, body] (the network is the edge). */
function fakeFetch(answers: Record<string, (() => [number, unknown]) | [number, unknown]>) {
  const calls: { method: string; url: string; headers: Record<string, string>; body?: string }[] = [];
  const fetcher = (async (input: string | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    calls.push({
      method,
      url: String(input),
      headers: init?.headers as Record<string, string>,
      ...(typeof init?.body === "string" ? { body: init.body } : {}),
    });
    const answer = answers[`${method} ${url.pathname}`];
    if (!answer) throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
    const [status, body] = typeof answer === "function" ? answer() : answer;
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
  }) as typeof fetch;
  return { fetch: fetcher, calls };
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    output: {
      out: (text: string) => out.push(text),
      err: (text: string) => err.push(text),
      interactive: false,
    },
    out,
    err,
  };
}

const RUN = {
  runId: "20261115T120000Z-abc123",
  state: "done" as const,
  dryRun: true,
  trigger: "admin" as const,
  startedAt: "2026-11-15T12:00:00.000Z",
  finishedAt: "2026-11-15T12:00:03.000Z",
  counts: {
    checked: 3,
    missing: 1,
    wrongEdition: 0,
    wrongExpiry: 0,
    shouldBeExpired: 0,
    pendingRetried: 0,
    foreign: 0,
    notInStripe: 0,
    unreadable: 0,
    reenqueued: 0,
    adopted: 0,
    errors: 0,
  },
  itemCount: 1,
  items: [
    {
      kind: "missing" as const,
      customerId: "cus_1",
      connector: "shopify-netsuite",
      detail: "license lic_1 was deleted in integrator.io; would repair",
    },
  ],
  itemsTruncated: false,
};

describe("parseCommandLine", () => {
  it.each([
    [["customers", "show", "cus_1"], { name: "customers show", customerId: "cus_1" }],
    [["licenses", "list"], { name: "licenses list", all: false }],
    [
      [
        "licenses",
        "list",
        "--email",
        "a@example.com",
        "--connector",
        "shopify-netsuite",
        "--state",
        "active",
      ],
      {
        name: "licenses list",
        email: "a@example.com",
        connector: "shopify-netsuite",
        state: "active",
        all: false,
      },
    ],
    [["licenses", "list", "--all", "--limit", "100"], { name: "licenses list", limit: "100", all: true }],
    [
      ["licenses", "transfer", "cus_1", "shopify-netsuite", "b@example.com"],
      {
        name: "licenses transfer",
        customerId: "cus_1",
        connector: "shopify-netsuite",
        email: "b@example.com",
      },
    ],
    [
      ["events", "list", "--status", "failed", "--type", "invoice.paid"],
      { name: "events list", status: "failed", type: "invoice.paid", all: false },
    ],
    [["events", "replay", "evt_1"], { name: "events replay", eventId: "evt_1" }],
    [["reconcile"], { name: "reconcile", dryRun: false, wait: true }],
    [["reconcile", "--dry-run"], { name: "reconcile", dryRun: true, wait: true }],
    [["reconcile", "--no-wait"], { name: "reconcile", dryRun: false, wait: false }],
    [["reconcile", "show", "run-1"], { name: "reconcile show", runId: "run-1" }],
    [["dlq", "list"], { name: "dlq list" }],
    [["dlq", "redrive"], { name: "dlq redrive" }],
    [[], { name: "help" }],
    [["help", "licenses", "list"], { name: "help", topic: "licenses list" }],
    [["licenses", "list", "--help"], { name: "help", topic: "licenses list" }],
  ])("%j", (argv, command) => {
    expect(parseCommandLine(argv).command).toEqual(command);
  });

  it("takes the global options anywhere on the line", () => {
    expect(
      parseCommandLine(["--url", "http://example.com:8080", "dlq", "list", "--json", "--token", "t"]).global,
    ).toEqual({ url: "http://example.com:8080", token: "t", json: true });
  });

  it.each([
    [["licenses"], /unknown command "licenses"; licenses has: licenses list, licenses transfer/],
    [["licence", "list"], /unknown command "licence list"/],
    [["customers", "show"], /customers show needs <customerId>/],
    [["customers", "show", "a", "b"], /unexpected: b/],
    [["events", "replay", " "], /an argument is empty/],
    [["licenses", "list", "--status", "failed"], /licenses list does not take --status/],
    [["licenses", "list", "--state", "bogus"], /--state must be one of creating, active/],
    [["events", "list", "--status", "done"], /--status must be one of received/],
    [["dlq", "list", "--limit", "0"], /--limit must be a whole number from 1 to 100/],
    [["dlq", "list", "--limit", "101"], /--limit/],
    [["licenses", "list", "--all", "--cursor", "c"], /--all and --cursor do not go together/],
    [["dlq", "list", "--bogus"], /unknown option --bogus/],
    [["licenses", "list", "--email"], /--email/],
    [["dlq", "list", "--url", "ftp://x"], /--url must be an http\(s\) URL/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });

  it("documents every command and the exit codes", () => {
    const text = usage();
    for (const command of [
      "customers show",
      "licenses list",
      "licenses transfer",
      "events list",
      "events replay",
      "reconcile",
      "dlq list",
      "dlq redrive",
    ]) {
      expect(text).toContain(command);
    }
    expect(text).toContain(
      "0 ok, 1 the API refused or failed, 2 usage, 3 authentication, 4 cannot reach the API",
    );
    expect(usage("licenses transfer")).toContain("licenses transfer <customerId> <connector> <email>");
  });
});

describe("formatting", () => {
  it("pads columns to the widest cell, cuts long cells and leaves empty ones blank", () => {
    const rows = [
      { id: "a", note: "x".repeat(10), missing: undefined },
      { id: "longer-id", note: "short", missing: null },
    ];
    expect(
      table(rows, [
        { header: "ID", value: (r) => r.id },
        { header: "NOTE", value: (r) => r.note, max: 6 },
        { header: "M", value: (r) => r.missing },
      ]),
    ).toBe(["ID         NOTE    M", "a          xxxxx…", "longer-id  short"].join("\n"));
  });

  it("shows times in UTC to the second, from Unix seconds or ISO", () => {
    expect(time(1_795_262_400)).toBe("2026-11-21 12:00:00Z");
    expect(time("2026-11-15T12:00:00.123Z")).toBe("2026-11-15 12:00:00Z");
    expect(time(null)).toBe("");
    expect(time("not a time")).toBe("not a time");
  });

  it("reports a reconcile run: outcome, every count, each finding", () => {
    const text = reconcileReport(RUN);
    expect(text).toContain("Reconcile 20261115T120000Z-abc123 (dry run: nothing was changed, admin): done");
    expect(text).toMatch(/^checked\s+3$/m);
    expect(text).toMatch(/^missing\s+1$/m);
    expect(text).toMatch(/^missing\s+cus_1\s+shopify-netsuite\s+license lic_1 was deleted/m);
    expect(reconcileReport({ ...RUN, items: [], itemCount: 0 })).toContain("No drift found.");
  });
});

describe("AdminClient", () => {
  it("sends the bearer token and JSON, and returns the answer", async () => {
    const { fetch, calls } = fakeFetch({ "POST /admin/reconcile": [202, { runId: "r1" }] });
    const client = new AdminClient({ baseUrl: "http://api.test/", token: "tok", fetch });
    expect(await client.post("/admin/reconcile", { dryRun: true })).toEqual({ runId: "r1" });
    expect(calls[0]).toMatchObject({
      method: "POST",
      url: "http://api.test/admin/reconcile",
      headers: { authorization: "Bearer tok", "content-type": "application/json" },
      body: '{"dryRun":true}',
    });
  });

  it("leaves undefined query values out", async () => {
    const { fetch, calls } = fakeFetch({ "GET /admin/licenses": [200, { data: [] }] });
    await new AdminClient({ baseUrl: "http://api.test", token: "t", fetch }).get("/admin/licenses", {
      state: "active",
      email: undefined,
    });
    expect(calls[0]?.url).toBe("http://api.test/admin/licenses?state=active");
  });

  it.each([
    [401, AuthError, /wants an admin token/],
    [403, AuthError, /refused the admin token/],
    [404, ApiError, /answered 404 not_found: nothing here/],
    [500, ApiError, /answered 500/],
  ])("maps %i to %o", async (status, type, message) => {
    const { fetch } = fakeFetch({
      "GET /admin/dlq": [
        status,
        { error: { code: status === 404 ? "not_found" : "x", message: "nothing here" } },
      ],
    });
    const request = new AdminClient({ baseUrl: "http://api.test", token: "secret-token", fetch }).get(
      "/admin/dlq",
    );
    await expect(request).rejects.toThrow(type);
    await expect(request).rejects.toThrow(message);
    await expect(request).rejects.not.toThrow(/secret-token/);
  });

  it("lists each validation problem of a 400", async () => {
    const { fetch } = fakeFetch({
      "GET /admin/licenses": [
        400,
        {
          error: {
            code: "invalid_request",
            message: "Invalid query",
            details: [
              { path: "query.email", message: "must be an email address" },
              { path: "query.limit", message: "must be a whole number" },
            ],
          },
        },
      ],
    });
    const request = new AdminClient({ baseUrl: "http://api.test", token: "t", fetch }).get("/admin/licenses");
    await expect(request).rejects.toThrow(
      /query\.email: must be an email address\n {2}query\.limit: must be a whole number/,
    );
  });

  it("says when nothing answers, with a hint for the local stack", async () => {
    const { fetch } = fakeFetch({});
    const request = new AdminClient({ baseUrl: "http://127.0.0.1:3000", token: "t", fetch }).get(
      "/admin/dlq",
    );
    await expect(request).rejects.toThrow(ConnectionError);
    await expect(request).rejects.toThrow(
      "cannot reach the API at http://127.0.0.1:3000 (connection refused); is `npm start` running?",
    );
  });

  it("refuses an answer that is not JSON (another server behind --url)", async () => {
    const { fetch } = fakeFetch({ "GET /admin/dlq": [200, "<html>hello</html>"] });
    await expect(
      new AdminClient({ baseUrl: "http://api.test", token: "t", fetch }).get("/admin/dlq"),
    ).rejects.toThrow(/not JSON/);
  });
});

describe("runCli", () => {
  const env = { ADMIN_TOKEN: "env-token", PORT: "3456" };

  it("calls the API on PORT with ADMIN_TOKEN by default, and prints a table", async () => {
    const { fetch, calls } = fakeFetch({
      "GET /admin/licenses": [
        200,
        {
          data: [
            {
              customerId: "cus_1",
              connectorKey: "shopify-netsuite",
              connectorId: "c1",
              licenseId: "lic_1",
              email: "a@example.com",
              expires: "2026-12-01T00:00:00.000Z",
              opts: { connectorEdition: "standard" },
              state: "active",
              rev: 1,
              updatedAt: "2026-11-15T12:00:00.000Z",
            },
          ],
          nextCursor: "next",
        },
      ],
    });
    const io = capture();
    expect(await runCli(["licenses", "list", "--state", "active"], { output: io.output, env, fetch })).toBe(
      0,
    );
    expect(calls[0]?.url).toBe("http://127.0.0.1:3456/admin/licenses?state=active");
    expect(calls[0]?.headers.authorization).toBe("Bearer env-token");
    expect(io.out.join("\n")).toMatch(/^CUSTOMER\s+CONNECTOR\s+EMAIL\s+STATE\s+EDITION\s+EXPIRES\s+LICENSE/);
    expect(io.out.join("\n")).toMatch(
      /cus_1\s+shopify-netsuite\s+a@example.com\s+active\s+standard\s+2026-12-01 00:00:00Z\s+lic_1/,
    );
    expect(io.err.join("")).toContain("more: add --cursor next (or --all)");
  });

  it("follows every page with --all and prints the API's JSON with --json", async () => {
    let page = 0;
    const { fetch, calls } = fakeFetch({
      "GET /admin/events": () => {
        page += 1;
        return [
          200,
          page === 1 ? { data: [{ eventId: "e1" }], nextCursor: "c2" } : { data: [{ eventId: "e2" }] },
        ];
      },
    });
    const io = capture();
    expect(
      await runCli(["events", "list", "--all", "--json", "--token", "t"], { output: io.output, env, fetch }),
    ).toBe(0);
    expect(calls.map((c) => new URL(c.url).search)).toEqual(["", "?cursor=c2"]);
    expect(JSON.parse(io.out.join(""))).toEqual({ data: [{ eventId: "e1" }, { eventId: "e2" }] });
  });

  it("reconcile: starts a dry run, shows progress while it runs, then the report", async () => {
    let polls = 0;
    const { fetch, calls } = fakeFetch({
      "POST /admin/reconcile": [202, { runId: RUN.runId }],
      [`GET /admin/reconcile/${RUN.runId}`]: () => {
        polls += 1;
        return [
          200,
          polls < 3 ? { ...RUN, state: "running", finishedAt: null, items: [], itemCount: polls } : RUN,
        ];
      },
    });
    const io = capture();
    expect(await runCli(["reconcile", "--dry-run"], { output: io.output, env, fetch, pollMs: 0 })).toBe(0);
    expect(calls[0]?.body).toBe('{"dryRun":true}');
    expect(polls).toBe(3);
    expect(io.err.join("")).toMatch(/running, 3 license\(s\) checked, 1 finding\(s\)/);
    expect(io.err.join("")).toMatch(/done, 3 license\(s\) checked, 1 finding\(s\)/);
    expect(io.out.join("\n")).toContain("dry run: nothing was changed");
  });

  it("reconcile: a failed run exits 1 with its reason", async () => {
    const failed = { ...RUN, state: "failed", error: "StripeError: down", items: [] };
    const { fetch } = fakeFetch({
      "POST /admin/reconcile": [202, { runId: RUN.runId }],
      [`GET /admin/reconcile/${RUN.runId}`]: [200, failed],
    });
    const io = capture();
    expect(await runCli(["reconcile"], { output: io.output, env, fetch, pollMs: 0 })).toBe(EXIT.api);
    expect(io.err.join("")).toContain("failed: StripeError: down");
  });

  it.each([
    [["nope"], {}, EXIT.usage, /unknown command "nope"/],
    [
      ["dlq", "list"],
      { "GET /admin/dlq": [403, { error: { code: "forbidden", message: "Invalid admin token." } }] },
      EXIT.auth,
      /refused the admin token/,
    ],
    [["dlq", "list"], {}, EXIT.connection, /cannot reach the API/],
    [
      ["events", "replay", "evt_1"],
      {
        "POST /admin/events/evt_1/replay": [
          404,
          { error: { code: "not_found", message: "No event evt_1." } },
        ],
      },
      EXIT.api,
      /404 not_found: No event evt_1/,
    ],
  ] as const)("%j exits %#", async (argv, answers, code, message) => {
    const { fetch } = fakeFetch(answers as Record<string, [number, unknown]>);
    const io = capture();
    expect(await runCli([...argv], { output: io.output, env, fetch })).toBe(code);
    expect(io.err.join("")).toMatch(message);
    expect(io.out).toEqual([]);
  });

  it("a bad environment is a usage error naming the variable", async () => {
    const io = capture();
    expect(await runCli(["dlq", "list"], { output: io.output, env: { PORT: "abc" } })).toBe(EXIT.usage);
    expect(io.err.join("")).toContain("PORT");
  });
});
