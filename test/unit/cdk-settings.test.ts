import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "#lib/config.ts";
import { loadSettings, parseSettings, SETTING_NAMES, SettingsError } from "../../cdk/settings.ts";
import { stacksFromContext } from "../../cdk/stacks-from-context.ts";

// Deployment settings per environment (cdk/settings.ts, deploy/<env>.json): checked at synth,
// before anything deploys. The parser is tested directly; one synth of the sample, without bundling.

const ROOT = resolve(import.meta.dirname, "../..");
const sample = JSON.parse(readFileSync(join(ROOT, "deploy/sample.json"), "utf8")) as Record<string, unknown>;
const PROD = "deploy/prod.json";
const prod = {
  stripeLivemode: true,
  catalogPath: "local/catalog.json",
  integratorApiUrl: "https://api.eu.integrator.io/v1",
  alarmEmail: "ops@example.com",
};
const without = (name: string) => Object.fromEntries(Object.entries(prod).filter(([key]) => key !== name));
const failure = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error("expected a SettingsError");
};

describe("an environment's settings", () => {
  it("are read with their types and defaults", () => {
    const settings = parseSettings(PROD, prod);
    expect(settings).toMatchObject({
      stackName: "IntegratorLicensing",
      stripeLivemode: true,
      catalogPath: join(ROOT, "local/catalog.json"),
      integratorApiUrl: "https://api.eu.integrator.io/v1",
      alarmEmail: "ops@example.com",
      throttles: {},
    });
    expect(settings.retainData).toBeUndefined();
  });

  it("need stripeLivemode: a missing one fails, on one line naming it", () => {
    const message = failure(() => parseSettings(PROD, without("stripeLivemode")));
    expect(message).toBe("deploy/prod.json: stripeLivemode: required (true or false)");
    expect(message).not.toContain("\n");
    expect(failure(() => parseSettings(PROD, { ...prod, stripeLivemode: "yes" }))).toBe(
      "deploy/prod.json: stripeLivemode: must be true or false",
    );
  });

  it("need a catalog and an integrator.io API: never the demo catalog or a default silently", () => {
    expect(failure(() => parseSettings(PROD, without("catalogPath")))).toMatch(
      /^deploy\/prod\.json: catalogPath: required/,
    );
    expect(failure(() => parseSettings(PROD, { ...prod, catalogPath: "vendor/none.json" }))).toMatch(
      /^deploy\/prod\.json: catalogPath: .*vendor\/none\.json does not exist$/,
    );
    expect(failure(() => parseSettings(PROD, without("integratorApiUrl")))).toMatch(
      /^deploy\/prod\.json: integratorApiUrl: required/,
    );
  });

  it("name every missing required setting on the one line", () => {
    expect(failure(() => parseSettings(PROD, {}))).toMatch(
      /^deploy\/prod\.json: stripeLivemode: required .*; catalogPath: required .*; integratorApiUrl: required [^\n]*$/,
    );
  });

  it("fail on a bad URL, naming it, as the functions' cold start would (and on localhost)", () => {
    expect(failure(() => parseSettings(PROD, { ...prod, integratorApiUrl: "api.integrator.io/v1" }))).toBe(
      "deploy/prod.json: integratorApiUrl: must be an http(s) URL",
    );
    expect(() => loadConfig({ INTEGRATOR_API_URL: "api.integrator.io/v1" })).toThrow(ConfigError);
    expect(failure(() => parseSettings(PROD, { ...prod, stripeApiUrl: "ftp://stripe" }))).toBe(
      "deploy/prod.json: stripeApiUrl: must be an http(s) URL",
    );
    expect(failure(() => parseSettings(PROD, { ...prod, stripeApiUrl: "http://127.0.0.1:3200" }))).toMatch(
      /^deploy\/prod\.json: stripeApiUrl: http:\/\/127\.0\.0\.1:3200 is this machine/,
    );
  });

  it("check what becomes a function setting with the function's own rule", () => {
    const cases: [string, unknown, RegExp][] = [
      ["integratorRateShare", 1.5, /^deploy\/prod\.json: integratorRateShare: /],
      ["integratorRateShare", 0, /^deploy\/prod\.json: integratorRateShare: /],
      ["integratorBulkShare", 0, /^deploy\/prod\.json: integratorBulkShare: /],
      ["secretsMaxAgeSeconds", 2.5, /secretsMaxAgeSeconds: must be a whole number of seconds/],
      ["logLevel", "VERBOSE", /logLevel: must be DEBUG, INFO, WARN or ERROR/],
      ["logLevel", "SILENT", /logLevel: SILENT would leave/],
      ["workerMaxConcurrency", 1, /workerMaxConcurrency: must be a whole number from 2 to 1000/],
      ["alarmEmail", "ops", /alarmEmail: must be an e-mail address/],
      ["existingSecrets", { STRIPE_KEY: "x" }, /existingSecrets: STRIPE_KEY is not a secret/],
      ["throttleStack", "100", /throttleStack: "100" is not <requests per second>\/<burst>/],
      ["stackName", "my stack", /stackName: must be a CloudFormation stack name/],
    ];
    for (const [name, value, expected] of cases) {
      expect(
        failure(() => parseSettings(PROD, { ...prod, [name]: value })),
        name,
      ).toMatch(expected);
    }
    // The edge's own settings count with the edge on only.
    expect(failure(() => parseSettings(PROD, { ...prod, edge: true, edgeRatePerIp: 5 }))).toMatch(
      /edgeRatePerIp: /,
    );
    expect(parseSettings(PROD, { ...prod, edgeRatePerIp: 5 }).edgeRatePerIp).toBeUndefined();
    expect(
      parseSettings(PROD, {
        ...prod,
        integratorRateShare: 0.5,
        integratorBulkShare: 0.1,
        secretsMaxAgeSeconds: 60,
      }),
    ).toMatchObject({
      integratorRateShare: 0.5,
      integratorBulkShare: 0.1,
      secretsMaxAgeSeconds: 60,
    });
  });

  it("fail on a key that is not a setting (a typo)", () => {
    expect(failure(() => parseSettings(PROD, { ...prod, stripeLiveMode: true }))).toMatch(
      /^deploy\/prod\.json: stripeLiveMode: not a setting \(stackName, stripeLivemode, /,
    );
  });

  it("take a -c value over the file's, checked the same way", () => {
    const context: Record<string, unknown> = {
      stripeLivemode: "false",
      alarmEmail: "oncall@example.com",
      throttleWebhook: "300/600",
      existingSecrets: '{"STRIPE_SECRET_KEY":"vendor/stripe"}',
      retainData: "false",
    };
    const settings = parseSettings(PROD, prod, (name) => context[name]);
    expect(settings).toMatchObject({
      stripeLivemode: false,
      alarmEmail: "oncall@example.com",
      throttles: { webhook: { rateLimit: 300, burstLimit: 600 } },
      existingSecrets: { STRIPE_SECRET_KEY: "vendor/stripe" },
      retainData: false,
    });
    // An empty -c value is no override.
    expect(
      parseSettings(PROD, prod, (name) => (name === "stripeLivemode" ? "" : undefined)).stripeLivemode,
    ).toBe(true);
    expect(
      failure(() =>
        parseSettings(PROD, prod, (name) => (name === "integratorApiUrl" ? "localhost/v1" : undefined)),
      ),
    ).toBe("deploy/prod.json: integratorApiUrl: must be an http(s) URL (given with -c)");
    // A -c value supplies a required setting the file lacks.
    expect(
      parseSettings(PROD, without("stripeLivemode"), (name) =>
        name === "stripeLivemode" ? "true" : undefined,
      ),
    ).toMatchObject({ stripeLivemode: true });
  });

  it("come from deploy/<env>.json, sample by default, and an unknown environment fails", () => {
    expect(loadSettings(undefined)).toMatchObject({ env: "sample", stripeLivemode: false });
    const root = mkdtempSync(join(tmpdir(), "licensing-settings-"));
    mkdirSync(join(root, "deploy"));
    writeFileSync(join(root, "deploy/prod.json"), JSON.stringify(prod));
    writeFileSync(join(root, "deploy/broken.json"), "{ stripeLivemode: true");
    expect(loadSettings("prod", undefined, root)).toMatchObject({ env: "prod", stripeLivemode: true });
    expect(failure(() => loadSettings("staging", undefined, root))).toMatch(
      /^env: deploy\/staging\.json does not exist \(environments: (broken, prod|prod, broken)\)/,
    );
    expect(failure(() => loadSettings("broken", undefined, root))).toMatch(
      /^deploy\/broken\.json: not valid JSON/,
    );
    expect(failure(() => loadSettings("../secrets", undefined, root))).toMatch(/^env: /);
  });

  it("the sample sets every setting but the edge's own, an alarm e-mail included", () => {
    const edgeOnly = ["edgeOriginDomain", "edgeOriginCertificateArn", "webAclArn"];
    expect(Object.keys(sample).sort()).toEqual(
      SETTING_NAMES.filter((name) => !edgeOnly.includes(name)).sort(),
    );
    expect(sample.alarmEmail).toMatch(/@/);
    expect(sample.edge).toBe(false);
  });
});

describe("the synth", () => {
  let template: Template;
  beforeAll(() => {
    // No env: the sample.
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    template = Template.fromStack(stacksFromContext(app).product);
  }, 300_000);

  it("of the sample environment builds the stack with its settings", () => {
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.com",
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: { STRIPE_LIVEMODE: "false", INTEGRATOR_API_URL: "https://api.integrator.io/v1" },
      },
    });
  });

  it("fails on a bad setting with the setting's name, before building anything", () => {
    const app = new App({
      context: { "aws:cdk:bundling-stacks": [], integratorApiUrl: "https://api.integrator.io/v1 " },
    });
    expect(() => stacksFromContext(app)).toThrow(
      /^deploy\/sample\.json: integratorApiUrl: must be an http\(s\) URL \(given with -c\)$/,
    );
    expect(app.node.children).toHaveLength(0);
  });

  it("gives the origins parameters a pattern that rejects what the functions reject", () => {
    const parameters = template.toJSON().Parameters as Record<string, { AllowedPattern?: string }>;
    for (const name of ["CheckoutAllowedOrigins", "CorsAllowedOrigins"]) {
      const pattern = new RegExp(parameters[name]?.AllowedPattern as string);
      const good = [
        "https://shop.example.com",
        "http://localhost:3000",
        "https://shop.example.com,https://www.example.com",
        "https://shop.example.com, https://www.example.com:8443",
      ];
      const bad = [
        "",
        "https://shop.example.com/",
        "https://shop.example.com/checkout",
        "shop.example.com",
        "ftp://shop.example.com",
        "https://shop.example.com,",
        "https://shop.example.com,shop2.example.com",
        "https://shop example.com",
        "https://",
      ];
      const coldStart = (value: string) => {
        try {
          loadConfig({ CHECKOUT_ALLOWED_ORIGINS: value, CORS_ALLOWED_ORIGINS: value });
          return true;
        } catch {
          return false;
        }
      };
      for (const value of good) {
        expect(pattern.test(value), `${name} ${value}`).toBe(true);
        expect(coldStart(value), value).toBe(true);
      }
      for (const value of bad) {
        expect(pattern.test(value), `${name} ${JSON.stringify(value)}`).toBe(false);
        // What the pattern accepts, the functions accept (the empty and trailing-comma cases the
        // functions would quietly default or drop, CloudFormation refuses outright).
        if (!["", "https://shop.example.com,"].includes(value)) expect(coldStart(value), value).toBe(false);
      }
    }
  });
});
