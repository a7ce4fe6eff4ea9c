import { describe, expect, it } from "vitest";
import { COMMANDS, parseCommandLine, usage } from "#lib/cli/args.ts";
import { AdminClient } from "#lib/cli/client.ts";
import { ApiError, AuthError, ConnectionError, EXIT, UsageError } from "#lib/cli/errors.ts";
import {
  catalogReport,
  customerReconcileReport,
  customersTable,
  listingsSyncReport,
  overviewReport,
  reconcileReport,
  reconcileRunsTable,
  table,
  time,
} from "#lib/cli/format.ts";
import { type CliDeps, runCli } from "#lib/cli/main.ts";
import { isLoopback, LOCAL_ADMIN_TOKEN, resolveToken, resolveUrl } from "#lib/cli/target.ts";
import { LOCAL_DEFAULTS } from "#lib/config.ts";

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
    [["dlq", "redrive"], { name: "dlq redrive", wait: false }],
    [["dlq", "redrive", "--wait"], { name: "dlq redrive", wait: true }],
    [["dlq", "show", "job-1"], { name: "dlq show", jobId: "job-1" }],
    [["overview"], { name: "overview" }],
    [
      ["customers", "search", "a@example.com", "--limit", "5"],
      { name: "customers search", query: "a@example.com", limit: "5", all: false },
    ],
    [
      ["customers", "reconcile", "cus_1", "--dry-run"],
      { name: "customers reconcile", customerId: "cus_1", dryRun: true },
    ],
    [
      ["customers", "reconcile", "cus_1"],
      { name: "customers reconcile", customerId: "cus_1", dryRun: false },
    ],
    [
      ["installs", "list", "--connector", "shopify-netsuite", "--email", "a@example.com", "--all"],
      { name: "installs list", connector: "shopify-netsuite", email: "a@example.com", all: true },
    ],
    [["reconcile", "list", "--cursor", "c"], { name: "reconcile list", cursor: "c", all: false }],
    [["catalog", "show"], { name: "catalog show" }],
    [["listings", "sync"], { name: "listings sync" }],
    [
      ["billing", "portal", "cus_1", "--return-url", "https://shop.example.com/account"],
      { name: "billing portal", customerId: "cus_1", returnUrl: "https://shop.example.com/account" },
    ],
    [["--version"], { name: "version" }],
    [["-V", "--json"], { name: "version" }],
    [[], { name: "help" }],
    [["help", "licenses", "list"], { name: "help", topic: "licenses list" }],
    [["licenses", "list", "--help"], { name: "help", topic: "licenses list" }],
  ])("%j", (argv, command) => {
    expect(parseCommandLine(argv).command).toEqual(command);
  });

  it("takes the global options anywhere on the line", () => {
    expect(
      parseCommandLine(["--url", "https://example.com", "dlq", "list", "--json", "--token-file", "/t"])
        .global,
    ).toEqual({ url: "https://example.com", tokenFile: "/t", tokenStdin: false, json: true });
    expect(parseCommandLine(["dlq", "list", "--token-stdin"]).global).toMatchObject({ tokenStdin: true });
  });

  it.each([
    [["dlq", "list", "--token", "s3cret-value"]],
    [["--token=s3cret-value", "dlq", "list"]],
    [["dlq", "list", "--token"]],
  ])("refuses a token in argv (%j), saying how to pass it, never repeating it", (argv) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(
      "--token is not accepted: a token on the command line is visible to other users (ps) and kept in the shell history. " +
        "Set ADMIN_TOKEN, or pass --token-file PATH, or pipe it with --token-stdin",
    );
    expect(() => parseCommandLine(argv)).not.toThrow(/s3cret-value/);
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
    [["reconcile", "list", "--all", "--cursor", "c"], /--all and --cursor do not go together/],
    [["billing", "portal", "cus_1"], /billing portal needs --return-url <return-url>/],
    [["billing", "portal", "cus_1", "--return-url", "shop"], /--return-url must be an http\(s\) URL/],
    [["customers", "search"], /customers search needs <query>/],
    [["dlq", "list", "--token-file", "/t", "--token-stdin"], /--token-file and --token-stdin do not go/],
    [["dlq", "list", "--version"], /--version goes alone/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });

  it("documents every command, the token's sources and the exit codes; each example parses", () => {
    const text = usage();
    for (const [name, spec] of Object.entries(COMMANDS)) {
      expect(text).toMatch(
        new RegExp(`^  ${name} +${spec.summary.slice(0, 20).replace(/[()|.]/g, "\\$&")}`, "m"),
      );
      expect(parseCommandLine(spec.example.split(" ")).command.name, spec.example).toBe(name);
      expect(usage(name)).toContain(`Example: integrator-licensing ${spec.example}`);
      if (spec.route) expect(usage(name)).toContain(`Calls: ${spec.route}\n`);
    }
    for (const code of Object.values(EXIT)) expect(text).toMatch(new RegExp(`^  ${code}  \\S`, "m"));
    expect(text).toContain("--token-file <path>");
    expect(text).toContain("ADMIN_TOKEN");
    expect(text).toContain("INTEGRATOR_LICENSING_URL");
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

describe("formatting the other reads", () => {
  it("overview: licenses by state, failures, DLQ, last run, the rate-limit bucket", () => {
    const overview = {
      licenses: { creating: 0, active: 12, pending_user: 1, expired: 3, deleted: 0 },
      licensesPartial: true as const,
      eventsFailed24h: 2,
      dlq: { approximateCount: 1 },
      lastReconcile: { ...RUN, requestedBy: "operator:ana" },
      rateLimit: { tokens: 950.5, capacity: 1000, refillPerSecond: 300, pausedUntil: null, updatedAt: null },
      generatedAt: "2026-11-15T12:00:05.000Z",
    };
    const text = overviewReport(overview);
    expect(text).toContain(
      "Licenses: creating 0, active 12, pending_user 1, expired 3, deleted 0 (lower bounds",
    );
    expect(text).toContain("Events failed in the last 24 h: 2");
    expect(text).toContain("DLQ: 1 message(s)");
    expect(text).toContain(
      `Last reconcile: ${RUN.runId} (dry run, admin) done, started 2026-11-15 12:00:00Z`,
    );
    expect(text).toContain("integrator.io rate limit: 950 of 1000 tokens, 300/s");
    expect(overviewReport({ ...overview, lastReconcile: null })).toContain("Last reconcile: none yet");
  });

  it("customers found, one customer's reconcile, reconcile runs", () => {
    expect(
      customersTable([
        {
          customerId: "cus_1",
          email: "a@example.com",
          matchedBy: "email",
          subscriptions: [{ subscriptionId: "sub_1", status: "active" }],
          licenses: [{ connectorKey: "shopify-netsuite", state: "active", email: "a@example.com" }],
        },
      ]),
    ).toMatch(/^cus_1\s+a@example.com\s+email\s+sub_1 active\s+shopify-netsuite active a@example.com$/m);
    expect(customersTable([])).toBe("(no customers found)");
    const findings = [
      { kind: "missing" as const, connectorKey: "shopify-netsuite", licenseId: "lic_1", detail: "gone" },
    ];
    expect(customerReconcileReport({ customerId: "cus_1", dryRun: false, findings, repaired: 1 })).toMatch(
      /^Reconciled cus_1 \(repair: 1 repaired\): 1 finding\(s\)\nKIND.*\nmissing\s+shopify-netsuite\s+lic_1\s+gone$/,
    );
    expect(
      customerReconcileReport({ customerId: "cus_1", dryRun: true, findings: [], repaired: 0 }),
    ).toContain("No drift found.");
    expect(reconcileRunsTable([{ ...RUN, requestedBy: "root" }])).toMatch(
      new RegExp(
        `^${RUN.runId}\\s+done\\s+dry run\\s+admin\\s+root\\s+2026-11-15 12:00:00Z\\s+2026-11-15 12:00:03Z\\s+3\\s+1$`,
        "m",
      ),
    );
  });

  it("the catalog: a line per edition and add-on, prices as ids, lookup keys or objects", () => {
    const text = catalogReport({
      connectors: [
        {
          key: "shopify-netsuite",
          connectorId: "c1",
          editions: [
            {
              key: "standard",
              name: "Standard",
              prices: ["price_1", { lookupKey: "std_yearly", amount: 9900 }],
            },
          ],
          addons: [{ key: "store", name: "Store", prices: ["store_month"] }],
        },
      ],
      policy: { onEnd: "expire" },
    });
    expect(text).toMatch(/^shopify-netsuite\s+c1\s+edition\s+standard\s+Standard\s+price_1, std_yearly$/m);
    expect(text).toMatch(/^shopify-netsuite\s+c1\s+add-on\s+store\s+Store\s+store_month$/m);
    expect(text).toContain('Policy: {"onEnd":"expire"}');
  });

  it("a listings sync: what is served and what was left out", () => {
    const text = listingsSyncReport({
      generation: "g2",
      changed: true,
      connectors: 1,
      templates: 4,
      syncedAt: "2026-11-15T12:00:00.000Z",
      problems: ["price_x: Stripe has no such price"],
    });
    expect(text).toBe(
      "Listings synced 2026-11-15 12:00:00Z: 1 connector(s), 4 template(s) served (changed, generation g2)\n" +
        "Left out (1):\n  price_x: Stripe has no such price",
    );
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
  /** The CLI's dependencies with nothing read from this machine (no ./.env, no stdin). */
  const deps = (output: CliDeps["output"], more: Partial<CliDeps> = {}): CliDeps => ({
    output,
    version: "9.9.9",
    env,
    localEnv: () => ({}),
    readFile: () => Promise.reject(Object.assign(new Error("no such file"), { code: "ENOENT" })),
    readStdin: () => Promise.resolve(""),
    ...more,
  });

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
    expect(await runCli(["licenses", "list", "--state", "active"], deps(io.output, { fetch }))).toBe(0);
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
    expect(await runCli(["events", "list", "--all", "--json"], deps(io.output, { fetch }))).toBe(0);
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
    expect(await runCli(["reconcile", "--dry-run"], deps(io.output, { fetch, pollMs: 0 }))).toBe(0);
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
    expect(await runCli(["reconcile"], deps(io.output, { fetch, pollMs: 0 }))).toBe(EXIT.api);
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
    expect(await runCli([...argv], deps(io.output, { fetch }))).toBe(code);
    expect(io.err.join("")).toMatch(message);
    expect(io.out).toEqual([]);
  });

  it("a bad environment is a usage error naming the variable", async () => {
    const io = capture();
    expect(await runCli(["dlq", "list"], deps(io.output, { env: { PORT: "abc" } }))).toBe(EXIT.usage);
    expect(io.err.join("")).toContain("PORT must be a port number (got abc)");
  });

  it("--version prints the version baked in (--json: an object), needing no URL or token", async () => {
    const io = capture();
    expect(await runCli(["--version"], deps(io.output, { env: {} }))).toBe(0);
    expect(await runCli(["--version", "--json"], deps(io.output, { env: {} }))).toBe(0);
    expect(io.out).toEqual(["9.9.9", '{"version":"9.9.9"}']);
  });

  it("takes the URL from INTEGRATOR_LICENSING_URL, --url first", async () => {
    const dlq: [number, unknown] = [200, { data: [], approximateTotal: 0 }];
    const { fetch, calls } = fakeFetch({ "GET /admin/dlq": dlq, "GET /prod/admin/dlq": dlq });
    const io = capture();
    const remote = { INTEGRATOR_LICENSING_URL: "https://api.example.com/", ADMIN_TOKEN: "t" };
    expect(await runCli(["dlq", "list"], deps(io.output, { env: remote, fetch }))).toBe(0);
    expect(
      await runCli(
        ["dlq", "list", "--url", "https://other.example.com/prod"],
        deps(io.output, { env: remote, fetch }),
      ),
    ).toBe(0);
    expect(calls.map((call) => call.url)).toEqual([
      "https://api.example.com/admin/dlq",
      "https://other.example.com/prod/admin/dlq",
    ]);
  });

  it("reads the token from --token-file, --token-stdin or --token-file - (before ADMIN_TOKEN)", async () => {
    const { fetch, calls } = fakeFetch({ "GET /admin/dlq": [200, { data: [], approximateTotal: 0 }] });
    const io = capture();
    const files: Record<string, string> = { "/run/token": "file-token\n" };
    const more = {
      fetch,
      readFile: async (path: string) => files[path] ?? "",
      readStdin: async () => "  stdin-token\r\n",
    };
    for (const argv of [["--token-file", "/run/token"], ["--token-stdin"], ["--token-file", "-"], []]) {
      expect(await runCli(["dlq", "list", ...argv], deps(io.output, more)), argv.join(" ")).toBe(0);
    }
    expect(calls.map((call) => call.headers.authorization)).toEqual([
      "Bearer file-token",
      "Bearer stdin-token",
      "Bearer stdin-token",
      "Bearer env-token",
    ]);
  });

  it.each([
    [["dlq", "list", "--token", "s3cret"], {}, EXIT.usage, /--token is not accepted/],
    [["dlq", "list", "--url", "http://api.example.com"], {}, EXIT.usage, /plain http to api.example.com/],
    [
      ["dlq", "list"],
      { INTEGRATOR_LICENSING_URL: "http://10.0.0.5:3000" },
      EXIT.usage,
      /^integrator-licensing: INTEGRATOR_LICENSING_URL: plain http/,
    ],
    [["dlq", "list", "--url", "ftp://x"], {}, EXIT.usage, /--url must be an https URL/],
    [["dlq", "list", "--url", "https://user:pw@api.example.com"], {}, EXIT.usage, /without credentials/],
    [
      ["dlq", "list", "--token-file", "/missing"],
      {},
      EXIT.usage,
      /cannot read --token-file \/missing \(ENOENT\)/,
    ],
    [["dlq", "list", "--token-stdin"], {}, EXIT.usage, /the token from stdin is empty/],
    [
      ["dlq", "list", "--url", "https://api.example.com"],
      { ADMIN_TOKEN: "" },
      EXIT.auth,
      /no admin token for api.example.com: set ADMIN_TOKEN/,
    ],
    [["dlq", "list"], { ADMIN_TOKEN: "two words" }, EXIT.usage, /not one word of printable ASCII/],
  ] as const)("%j with %j exits %i before any request", async (argv, env, code, message) => {
    const { fetch, calls } = fakeFetch({ "GET /admin/dlq": [200, { data: [], approximateTotal: 0 }] });
    const io = capture();
    expect(await runCli([...argv], deps(io.output, { env, fetch }))).toBe(code);
    expect(io.err.join("")).toMatch(message);
    expect(io.err.join("")).not.toContain("s3cret");
    expect(calls).toEqual([]);
  });
});

describe("the API's URL and the token", () => {
  const global = { url: undefined, tokenFile: undefined, tokenStdin: false, json: false };
  const sources = (env: Record<string, string> = {}, local: Record<string, string> = {}) => ({
    env,
    localEnv: () => local,
    readFile: async () => "",
    readStdin: async () => "",
  });

  it.each([
    ["http://localhost:3000", true],
    ["http://LOCALHOST:3000", true],
    ["http://127.0.0.1:3000", true],
    ["http://127.1.2.3", true],
    ["http://127.1", true],
    ["http://[::1]:3000", true],
    ["http://localhost.example.com", false],
    ["http://127.0.0.1.example.com", false],
    ["http://10.0.0.1", false],
    ["http://[::2]", false],
    ["http://0.0.0.0", false],
  ])("%s is loopback: %s", (url, loopback) => {
    expect(isLoopback(new URL(url))).toBe(loopback);
  });

  it("defaults to npm start here: PORT from the environment, else ./.env, else 3000", () => {
    expect(resolveUrl(global, sources()).href).toBe("http://127.0.0.1:3000/");
    expect(resolveUrl(global, sources({}, { PORT: "3100" })).href).toBe("http://127.0.0.1:3100/");
    expect(resolveUrl(global, sources({ PORT: "3200" }, { PORT: "3100" })).href).toBe(
      "http://127.0.0.1:3200/",
    );
    // A remote URL in the environment never looks at ./.env.
    expect(resolveUrl(global, sources({ INTEGRATOR_LICENSING_URL: "https://api.example.com" })).host).toBe(
      "api.example.com",
    );
  });

  it("sends the local default token to loopback only (./.env's ADMIN_TOKEN first)", async () => {
    const local = new URL("http://127.0.0.1:3000");
    const remote = new URL("https://api.example.com");
    expect(LOCAL_ADMIN_TOKEN).toBe(LOCAL_DEFAULTS.ADMIN_TOKEN);
    expect(await resolveToken(global, local, sources())).toBe(LOCAL_ADMIN_TOKEN);
    expect(await resolveToken(global, local, sources({}, { ADMIN_TOKEN: "dotenv-token" }))).toBe(
      "dotenv-token",
    );
    expect(await resolveToken(global, remote, sources({ ADMIN_TOKEN: "env-token" }))).toBe("env-token");
    await expect(resolveToken(global, remote, sources({}, { ADMIN_TOKEN: "dotenv-token" }))).rejects.toThrow(
      AuthError,
    );
  });
});
