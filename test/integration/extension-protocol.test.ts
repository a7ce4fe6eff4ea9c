import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ExtensionError } from "#lib/extension/errors.ts";
import { defineConnector } from "#lib/extension/types.ts";
import {
  type ExtensionHarness,
  SYSTEM_TOKEN,
  startExtensionHarness,
  TEST_APP,
} from "#test/helpers/extension-harness.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";

/** A connector module exercising every `type` of the protocol. */
const testApp = defineConnector({
  key: TEST_APP.key,
  functions: {
    echo: (options) => ({ echoed: options.value }),
    refuse: () => {
      throw new ExtensionError("netsuite_unreachable", "NetSuite did not answer.");
    },
    crash: (options) => {
      throw new TypeError(`cannot read ${String(options.bearerToken)}`);
    },
    big: (options) => "x".repeat(Number(options.size)),
    bigint: () => ({ n: 1n }),
    nothing: () => undefined,
  },
  installSteps: [
    {
      name: "Thing",
      installerFunction: "installThing",
      uninstallerFunction: "uninstallThing",
      install: async () => ({ made: "thing" }),
    },
  ],
  settings: { customSetting: (options) => ({ success: true, got: options.pending }) },
  hooks: { preSavePage: (options) => ({ data: options.data, errors: [] }) },
  wrappers: { ping: () => ({ statusCode: 200 }) },
  utilities: { sum: (options) => ({ sum: (options.values as number[]).reduce((a, b) => a + b, 0) }) },
});

let harness: ExtensionHarness;
beforeAll(async () => {
  harness = await startExtensionHarness([testApp]);
});
afterAll(async () => {
  await harness?.stop();
});

const auth = { authorization: `Bearer ${SYSTEM_TOKEN}`, "content-type": "application/json" };

async function post(body: unknown, headers: Record<string, string> = auth) {
  const event = httpEvent("POST /integrator/function", {
    headers,
    body: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const result = (await harness.handler(event, lambdaContext)) as {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
  };
  return {
    status: result.statusCode,
    headers: result.headers,
    body: result.body ? JSON.parse(result.body) : undefined,
  };
}

const call = (fn: string, extra: Record<string, unknown> = {}) => ({
  _connectorId: TEST_APP.id,
  function: fn,
  options: { bearerToken: "ott-secret-123", _integrationId: "int1", ...((extra.options as object) ?? {}) },
  ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== "options")),
});

describe("POST /integrator/function: authentication", () => {
  it.each([
    ["no token", { "content-type": "application/json" }],
    ["a wrong token", { authorization: "Bearer not-the-token", "content-type": "application/json" }],
    ["another scheme", { authorization: `Basic ${SYSTEM_TOKEN}`, "content-type": "application/json" }],
  ])("answers 401 with integrator.io's header and body for %s", async (_label, headers) => {
    const answer = await post(call("echo"), headers);
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toBe("invalid system token");
    expect(answer.body).toEqual({ errors: [{ code: "unauthorized", message: "Invalid system token." }] });
  });
});

describe("POST /integrator/function: envelope", () => {
  it("answers malformed JSON with 400 in integrator.io's error format", async () => {
    const answer = await post('{"_connectorId": ', auth);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { code: "invalid_json", message: expect.stringContaining("Malformed JSON") },
    ]);
  });

  it("answers a non-JSON content type with 415 in integrator.io's error format", async () => {
    const answer = await post("function=echo", {
      ...auth,
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(answer.status).toBe(415);
    expect(answer.body.errors[0].code).toBe("unsupported_media_type");
  });

  it("answers a body over 6 MB with 413 in integrator.io's error format", async () => {
    const answer = await post(JSON.stringify({ pad: "x".repeat(6 * 1024 * 1024) }), auth);
    expect(answer.status).toBe(413);
    expect(answer.body.errors[0].code).toBe("payload_too_large");
  });

  it("lists every missing field at once as missing_required_field (422)", async () => {
    const answer = await post({});
    expect(answer.status).toBe(422);
    expect(answer.body.errors.map((e: { code: string }) => e.code)).toEqual([
      "missing_required_field",
      "missing_required_field",
      "missing_required_field",
    ]);
    expect(answer.body.errors.map((e: { message: string }) => e.message).join(" ")).toMatch(
      /_connectorId.*function.*options/,
    );
  });

  it("treats a body that is not an object, or empty, as missing every field", async () => {
    expect((await post([1, 2])).body.errors).toHaveLength(3);
    expect((await post("")).status).toBe(422);
  });

  it("refuses a function name that is not a string (invalid_field)", async () => {
    const answer = await post({ ...call("echo"), function: 42 });
    expect(answer.status).toBe(422);
    expect(answer.body.errors).toEqual([
      { code: "invalid_field", message: expect.stringContaining("function") },
    ]);
  });

  it("refuses an unknown connector (invalid_field)", async () => {
    const answer = await post({ ...call("echo"), _connectorId: "bbbbbbbbbbbbbbbbbbbbbbbb" });
    expect(answer.status).toBe(422);
    expect(answer.body.errors[0].code).toBe("invalid_field");
  });

  it("answers an unknown type with object_not_found, and a type the connector has no object for", async () => {
    expect((await post(call("echo", { type: "nonsense" }))).body.errors[0].code).toBe("object_not_found");
    const noWrappers = await post({
      ...call("anything", { type: "wrapper" }),
      _connectorId: "65f1c0a2b7d94e3a1c8b7d20",
    });
    expect(noWrappers.status).toBe(422);
    expect(noWrappers.body.errors[0].code).toBe("object_not_found");
  });

  it("answers an unknown function with invalid_function, including names every object has", async () => {
    for (const fn of ["missing", "constructor", "toString", "__proto__"]) {
      const answer = await post(call(fn));
      expect(answer.status, fn).toBe(422);
      expect(answer.body.errors[0].code, fn).toBe("invalid_function");
    }
    expect((await post(call("echo", { type: "hook" }))).body.errors[0].code).toBe("invalid_function");
  });

  it("refuses a maxResponseSize that is not a positive whole number", async () => {
    const answer = await post(call("echo", { maxResponseSize: "big" }));
    expect(answer.body.errors[0]).toEqual({
      code: "invalid_field",
      message: expect.stringContaining("maxResponseSize"),
    });
  });
});

describe("POST /integrator/function: dispatch by type", () => {
  it.each([
    [undefined, "echo", { value: 7 }, { echoed: 7 }],
    ["setting", "customSetting", { pending: { a: 1 } }, { success: true, got: { a: 1 } }],
    ["hook", "preSavePage", { data: [{ id: 1 }] }, { data: [{ id: 1 }], errors: [] }],
    ["wrapper", "ping", {}, { statusCode: 200 }],
    ["utility", "sum", { values: [1, 2, 3] }, { sum: 6 }],
  ])("type %s runs %s and answers 200 with its result", async (type, fn, options, expected) => {
    const answer = await post(call(fn, { ...(type ? { type } : {}), options }));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(expected);
  });

  it("answers null for a function that returns nothing", async () => {
    const answer = await post(call("nothing"));
    expect(answer.status).toBe(200);
    expect(answer.body).toBeNull();
  });

  it("a function's refusal is 422 {code: err.code, message}", async () => {
    const answer = await post(call("refuse"));
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({
      errors: [{ code: "netsuite_unreachable", message: "NetSuite did not answer." }],
    });
  });

  it("an error without a code is 422 with its name, and the one-time token is masked", async () => {
    const answer = await post(call("crash"));
    expect(answer.status).toBe(422);
    expect(answer.body.errors).toEqual([{ code: "TypeError", message: "cannot read ******" }]);
  });

  it("refuses a result over maxResponseSize (response_size_exceeded), and accepts one just under", async () => {
    const over = await post(call("big", { maxResponseSize: 100, options: { size: 99 } }));
    expect(over.status).toBe(422);
    expect(over.body.errors[0]).toEqual({
      code: "response_size_exceeded",
      message: "response stream exceeded limit of 100 bytes.",
    });
    const under = await post(call("big", { maxResponseSize: 100, options: { size: 98 } }));
    expect(under.status).toBe(200);
    expect(under.body).toHaveLength(98);
  });

  it("applies the default limit of 5 MiB when the call names none", async () => {
    const answer = await post(call("big", { options: { size: 5 * 1024 * 1024 } }));
    expect(answer.body.errors[0].code).toBe("response_size_exceeded");
  });

  it("refuses a result that is not JSON (invalid_extension_response)", async () => {
    const answer = await post(call("bigint"));
    expect(answer.status).toBe(422);
    expect(answer.body.errors[0].code).toBe("invalid_extension_response");
  });
});

describe("GET /integrator/healthCheck", () => {
  it("answers {success: true} without a token", async () => {
    const result = (await harness.handler(httpEvent("GET /integrator/healthCheck"), lambdaContext)) as {
      statusCode: number;
      body: string;
    };
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ success: true });
  });

  it("is what integrator.io reaches through the gateway", async () => {
    const response = await fetch(`${harness.api}/integrator/healthCheck`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
  });
});

describe("Lambda stack: a direct invoke", () => {
  const context = (clientContext: unknown) => ({ ...lambdaContext, clientContext }) as unknown as Context;
  const envelope = { _connectorId: TEST_APP.id, type: "utility", function: "sum" };

  it.each([
    ["at the top level", envelope],
    ["under Custom", { Custom: envelope }],
    ["as base64 JSON", Buffer.from(JSON.stringify(envelope)).toString("base64")],
  ])("reads the ClientContext %s and answers the result", async (_label, clientContext) => {
    await expect(harness.handler({ values: [2, 3] }, context(clientContext))).resolves.toEqual({ sum: 5 });
  });

  it("throws an Error whose message is {statusCode: 422, errors} on a refusal", async () => {
    const failure = harness.handler({}, context({ _connectorId: TEST_APP.id, function: "refuse" }));
    await expect(failure).rejects.toThrow(Error);
    const error = (await failure.catch((e: unknown) => e)) as Error;
    expect(error.name).toBe("LambdaStackError");
    expect(JSON.parse(error.message)).toEqual({
      statusCode: 422,
      errors: [{ code: "netsuite_unreachable", message: "NetSuite did not answer." }],
    });
  });

  it("reports a missing ClientContext with the framework's codes", async () => {
    const error = await harness.handler({}, context(undefined)).catch((e: unknown) => e as Error);
    const body = JSON.parse((error as Error).message);
    expect(body.statusCode).toBe(422);
    expect(body.errors.map((e: { code: string }) => e.code)).toEqual([
      "missing_required_field",
      "missing_required_field",
    ]);
  });

  it("needs no system token (IAM authorises the invoke) and never mistakes the options for an HTTP event", async () => {
    const options = { values: [1], requestContext: { requestId: "x" } };
    await expect(harness.handler(options, context(envelope))).resolves.toEqual({ sum: 1 });
  });
});

describe("both dialects, over HTTP and a Lambda invoke (Celigo's framework conformance cases)", () => {
  type Answer = { status: number; body: unknown };
  const context = (clientContext: unknown) => ({ ...lambdaContext, clientContext }) as unknown as Context;
  const transports: Record<string, (envelope: Record<string, unknown>, options: object) => Promise<Answer>> =
    {
      http: async (envelope, options) => {
        const { status, body } = await post({ ...envelope, options });
        return { status, body };
      },
      "lambda invoke": async (envelope, options) => {
        try {
          return { status: 200, body: await harness.handler(options, context(envelope)) };
        } catch (error) {
          const { statusCode, errors } = JSON.parse((error as Error).message);
          return { status: statusCode, body: { errors } };
        }
      },
    };
  const base = { bearerToken: "ott-not-issued", _integrationId: "0123456789abcdef0123cafe" };
  const unbound = {
    status: 422,
    body: {
      errors: [
        {
          code: "license_not_found",
          message: `No license of connector ${TEST_APP.key} is bound to integration ${base._integrationId}.`,
        },
      ],
    },
  };
  /** The one-time token is not one integrator.io issued: a function that reached integrator.io says so. */
  const reachedIntegrator = {
    status: 422,
    body: { errors: [expect.objectContaining({ code: "unauthorized" })] },
  };
  const options = { ...base, opts: { connectorEdition: "standard" } };

  // [function, its typed `type`, options, expected answer]: typed and flat must answer alike.
  const cases: [string, string, object, unknown][] = [
    ["installerFunction", "installer", { ...options, _connectorId: TEST_APP.id }, unbound],
    ["updateFunction", "installer", options, reachedIntegrator],
    ["installThing", "installer", options, reachedIntegrator],
    ["preUninstallFunction", "uninstaller", options, reachedIntegrator],
    ["uninstallThing", "uninstaller", options, reachedIntegrator],
    ["uninstallerFunction", "uninstaller", options, { status: 200, body: { success: true } }],
    [
      "persistSettings",
      "setting",
      { ...options, pending: { a: 1 } },
      { status: 200, body: { success: true, pending: { a: 1 } } },
    ],
    ["refreshMetadata", "setting", options, { status: 200, body: { success: true } }],
    ["getMappingMetadata", "setting", options, { status: 200, body: {} }],
    ["changeEdition", "setting", options, unbound],
    [
      "customSetting",
      "setting",
      { pending: { b: 2 } },
      { status: 200, body: { success: true, got: { b: 2 } } },
    ],
    ["echo", "installer", { value: 3 }, { status: 200, body: { echoed: 3 } }],
  ];

  for (const [transport, send] of Object.entries(transports)) {
    it.each(cases)(
      `${transport}: %s answers alike typed (type %s) and flat`,
      async (fn, type, callOptions, expected) => {
        const typed = await send({ _connectorId: TEST_APP.id, type, function: fn }, callOptions);
        const flat = await send({ _connectorId: TEST_APP.id, function: fn }, callOptions);
        expect(typed, "typed").toEqual(expected);
        expect(flat, "flat").toEqual(expected);
      },
    );

    it(`${transport}: an integration or license id that is not an identifier is refused (invalid_field), never a 5xx`, async () => {
      const long = "a".repeat(3000);
      for (const [fn, type, callOptions] of [
        ["installerFunction", "installer", { ...options, _integrationId: long }],
        ["updateFunction", "installer", { ...options, _integrationId: "id\u0000nul" }],
        ["updateFunction", "installer", { ...options, _integrationId: "id\ud800" }],
        ["uninstallerFunction", undefined, { ...options, _integrationId: "a/../b" }],
        ["changeEdition", "setting", { ...options, _integrationId: long }],
        ["installerFunction", undefined, { ...options, license: { _id: long } }],
      ] as const) {
        const answer = await send(
          { _connectorId: TEST_APP.id, ...(type ? { type } : {}), function: fn },
          callOptions,
        );
        expect(answer.status, fn).toBe(422);
        expect((answer.body as { errors: { code: string }[] }).errors[0]?.code, fn).toBe("invalid_field");
      }
    });

    it(`${transport}: a hook never reaches the lifecycle or the module's top level`, async () => {
      for (const fn of ["installerFunction", "echo"]) {
        const answer = await send({ _connectorId: TEST_APP.id, type: "hook", function: fn }, options);
        expect(answer.status).toBe(422);
        expect((answer.body as { errors: { code: string }[] }).errors[0]?.code).toBe("invalid_function");
      }
    });
  }
});

describe("logging", () => {
  it("never writes the one-time token", async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const spyErr = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const logLevel = harness.deps.logger.getLevelName();
    harness.deps.logger.setLogLevel("DEBUG");
    try {
      await post(call("crash"));
      await post(call("refuse"));
      await post(call("echo"));
    } finally {
      harness.deps.logger.setLogLevel(logLevel);
      spy.mockRestore();
      spyErr.mockRestore();
    }
    expect(written.join("").length).toBeGreaterThan(0);
    expect(written.join("")).not.toContain("ott-secret-123");
  });
});
