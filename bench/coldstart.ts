/**
 * `npm run bench -- coldstart [--no-synth] [--runs N] [--only a,b]`  (docs/architecture.md §8)
 *
 * What a cold request costs, per function of lib/functions.ts. In a fresh Node process with a
 * Lambda-like environment (the function's variables from the synthesized template, its secrets
 * behind a Secrets Manager endpoint, the NODE_OPTIONS the stack sets): `initMs` = `import()` of the
 * bundle, `coldMs` = init plus the first invocation of `handler` with a representative event of the
 * function's trigger (an API Gateway HTTP API v2 request on a real route, a signed Stripe delivery,
 * an SQS record of a recorded event, an EventBridge scheduled event) against local services this
 * benchmark starts on free ports: DynamoDB Local, the SQS emulator, the integrator.io and Stripe
 * simulators, the fake Secrets Manager. Every answer is checked (status, no failed record): a
 * failing invocation fails the benchmark instead of timing an error path. Then the RSS.
 *
 * Our bundle is the one `cdk synth` built (cdk.out: `index.mjs` and its split chunks, whose bytes
 * count as the bundle's); beside it, the naive bundle of the same entry
 * built in this run (esbuild, minified, ESM, every dependency bundled, nothing external, no
 * source map). Medians of N interleaved runs (default 9; which goes first alternates), the fastest
 * run beside them, and the load average: the machine is shared, other processes only ever add to
 * a wall-clock time. One untimed warm-up round first (DynamoDB Local's JVM, the listings cache).
 * Also reports what dominates each bundle (esbuild metafile of the same build).
 * Writes bench/results/coldstart.json.
 *
 * Targets (issue #22), per function, in one run: coldMs ≤ 0.8 × the naive bundle's coldMs,
 * bundle ≤ 1 MB, RSS after the first invocation ≤ 100 MB.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { build, type Metafile } from "esbuild";
import Stripe from "stripe";
import { ESM_REQUIRE_BANNER, esbuildEquivalent, functionConstructId } from "../cdk/bundling.ts";
import { LOCAL_DEFAULTS, SECRET_SETTINGS } from "../lib/config.ts";
import { type FunctionName, functionTable } from "../lib/functions.ts";
import { loadCatalogFile } from "../lib/licensing/catalog-file.ts";
import { createSqsClient } from "../lib/queue/sqs-client.ts";
import { loadEnvironment } from "../lib/runtime.ts";
import { createTable, startDynamoDbLocal } from "../local/dynamodb-local.ts";
import { startLocalQueues } from "../local/queues.ts";
import { seedIntegratorSimulator, seedStripeSimulator } from "../local/seed.ts";
import { startIntegratorSimulator } from "../local/sim/integrator/index.ts";
import { startStripeSimulator } from "../local/sim/stripe/index.ts";
import { startFakeSecretsManager } from "../test/helpers/fake-secrets-manager.ts";
import { httpEvent } from "../test/helpers/http-events.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cdkOut = join(root, "cdk.out");

export const TARGETS = { coldNaiveRatio: 0.8, bundleBytes: 1024 * 1024, rssMb: 100 } as const;

export interface FunctionResult {
  /** Module init (import of the bundle), median. */
  initMs: number;
  /** Init plus the first invocation, median. */
  coldMs: number;
  /** The fastest run's coldMs: the least disturbed by other processes. */
  coldMsMin: number;
  naiveInitMs: number;
  naiveColdMs: number;
  naiveColdMsMin: number;
  /** coldMs / naiveColdMs (of the medians: the target). */
  coldRatio: number;
  /** The median of each run's own ours/naive coldMs ratio (the two measured back to back). */
  pairedColdRatio: number;
  bundleBytes: number;
  naiveBundleBytes: number;
  /** CPU time of the process (start to first answer), median; the naive bundle's beside it. */
  cpuMs: number;
  naiveCpuMs: number;
  /** RSS after the first invocation, median. */
  rssMb: number;
  naiveRssMb: number;
  /** What the first invocation was. */
  event: string;
}

interface Measurement {
  initMs: number;
  coldMs: number;
  /** CPU time (user + system) of the process up to the end of the first invocation: less disturbed by other processes than wall time. */
  cpuMs: number;
  rssMb: number;
}

/** One invocation: its event, what its answer must be, and a check after it (e.g. in the store). */
interface Invocation {
  event: unknown;
  expect: (result: unknown) => string | undefined;
  after?: () => Promise<string | undefined>;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "no-synth": { type: "boolean", default: false },
      runs: { type: "string", default: "9" },
      only: { type: "string" },
      // A V8 CPU profile of every measured process into this directory (node --cpu-prof).
      "cpu-prof": { type: "string" },
    },
  });
  const cpuProf = values["cpu-prof"] ? resolve(values["cpu-prof"]) : undefined;
  const runs = Math.max(1, Number(values.runs));
  const only = values.only?.split(",").filter(Boolean);
  const names = (Object.keys(functionTable) as FunctionName[]).filter((name) => !only || only.includes(name));
  if (names.length === 0) throw new Error(`--only ${values.only}: no such function`);

  if (!values["no-synth"]) synth();
  const deployed = deployedFunctions();
  const work = join(tmpdir(), `coldstart-${process.pid}`);

  const prepared = [];
  for (const name of names) {
    const definition = functionTable[name];
    const found = deployed.get(functionConstructId(name));
    if (!found)
      throw new Error(
        `${name}: no function ${functionConstructId(name)} in cdk.out (synth first, or drop --no-synth)`,
      );
    const entry = join(root, definition.entry);
    const naive = join(work, name, "index.mjs");
    // The naive build: esbuild's defaults for Node plus what ESM output needs to run at all.
    await build({
      entryPoints: [entry],
      outfile: naive,
      bundle: true,
      minify: true,
      platform: "node",
      format: "esm",
      target: "node22",
      banner: { js: ESM_REQUIRE_BANNER },
      logLevel: "error",
    });
    const composition = await dominantInputs(entry);
    prepared.push({ name, ...found, naive, composition });
  }

  const services = await startServices();
  try {
    const loadBefore = loadavg()[0] ?? 0;
    type Samples = { ours: Measurement[]; naive: Measurement[] };
    const samples = new Map<string, Samples>();
    // Round 0 is the untimed warm-up.
    for (let run = 0; run <= runs; run++) {
      for (const fn of prepared) {
        const entry = samples.get(fn.name) ?? { ours: [], naive: [] };
        const env = services.lambdaEnvironment(fn.name, fn.variables, dirname(fn.bundle));
        const measure = async (bundle: string) => {
          const invocation = await services.invocation(fn.name);
          return measureCold(
            bundle,
            env,
            fn.name,
            invocation,
            functionTable[fn.name].timeoutSeconds,
            work,
            cpuProf,
          );
        };
        // Interleaved, the order alternating, so a noisy moment on this shared machine hits both alike.
        const pair =
          run % 2 === 0
            ? { ours: await measure(fn.bundle), naive: await measure(fn.naive) }
            : { naive: await measure(fn.naive), ours: await measure(fn.bundle) };
        if (run > 0) {
          entry.ours.push(pair.ours);
          entry.naive.push(pair.naive);
        }
        samples.set(fn.name, entry);
      }
      if (run === 0) console.log("warm-up round done");
    }

    const functions: Record<string, FunctionResult> = {};
    const composition: Record<string, { package: string; bytes: number }[]> = {};
    const rows = [];
    let allMet = true;
    for (const fn of prepared) {
      const s = samples.get(fn.name) as Samples;
      const med = (list: Measurement[], key: keyof Measurement) => round(median(list.map((m) => m[key])), 1);
      const result: FunctionResult = {
        initMs: med(s.ours, "initMs"),
        coldMs: med(s.ours, "coldMs"),
        coldMsMin: round(Math.min(...s.ours.map((m) => m.coldMs)), 1),
        naiveInitMs: med(s.naive, "initMs"),
        naiveColdMs: med(s.naive, "coldMs"),
        naiveColdMsMin: round(Math.min(...s.naive.map((m) => m.coldMs)), 1),
        coldRatio: 0,
        pairedColdRatio: round(
          median(s.ours.map((m, i) => m.coldMs / (s.naive[i] as Measurement).coldMs)),
          2,
        ),
        bundleBytes: javascriptBytes(dirname(fn.bundle)),
        naiveBundleBytes: statSync(fn.naive).size,
        cpuMs: med(s.ours, "cpuMs"),
        naiveCpuMs: med(s.naive, "cpuMs"),
        rssMb: med(s.ours, "rssMb"),
        naiveRssMb: med(s.naive, "rssMb"),
        event: services.describe(fn.name),
      };
      result.coldRatio = round(result.coldMs / result.naiveColdMs, 2);
      functions[fn.name] = result;
      composition[fn.name] = fn.composition;
      const misses = missedTargets(result);
      if (misses.length > 0) allMet = false;
      rows.push({
        function: fn.name,
        "cold ms": `${result.coldMs.toFixed(0)} (${result.coldMsMin.toFixed(0)})`,
        "naive cold ms": `${result.naiveColdMs.toFixed(0)} (${result.naiveColdMsMin.toFixed(0)})`,
        "× naive": result.coldRatio.toFixed(2),
        "(paired)": result.pairedColdRatio.toFixed(2),
        "init ms": result.initMs.toFixed(0),
        "naive init": result.naiveInitMs.toFixed(0),
        "init × naive": (result.initMs / result.naiveInitMs).toFixed(2),
        "CPU ms": `${result.cpuMs.toFixed(0)} / ${result.naiveCpuMs.toFixed(0)}`,
        KB: (result.bundleBytes / 1024).toFixed(0),
        "naive KB": (result.naiveBundleBytes / 1024).toFixed(0),
        "RSS MB": result.rssMb.toFixed(0),
        "naive RSS": result.naiveRssMb.toFixed(0),
        targets: misses.length === 0 ? "met" : `MISSED: ${misses.join(", ")}`,
        event: result.event,
      });
    }

    const path = join(root, "bench", "results", "coldstart.json");
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      `${JSON.stringify(
        {
          functions,
          targets: TARGETS,
          runs,
          node: process.version,
          loadAverage: {
            before: round(loadBefore, 2),
            after: round(loadavg()[0] ?? 0, 2),
            cpus: cpus().length,
          },
          composition,
        },
        null,
        2,
      )}\n`,
    );
    printTable(rows);
    console.log(
      `\n${runs} interleaved runs per function (medians; fastest in brackets; cold = init + first invocation), Node ${process.version}, load average ${loadBefore.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)} on ${cpus().length} CPUs; wrote ${path}`,
    );
    console.log(
      allMet
        ? "Every function meets every target (cold ≤ 0.8 × naive, bundle ≤ 1 MB, RSS ≤ 100 MB)."
        : "Some targets were missed (see the table).",
    );
    if (!allMet) process.exitCode = 1;
  } finally {
    await services.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Which targets a result misses (empty = all met). */
export function missedTargets(result: FunctionResult): string[] {
  const misses: string[] = [];
  if (result.coldMs > TARGETS.coldNaiveRatio * result.naiveColdMs) misses.push("cold > 0.8 × naive");
  if (result.bundleBytes > TARGETS.bundleBytes) misses.push("bundle > 1 MB");
  if (result.rssMb > TARGETS.rssMb) misses.push("RSS > 100 MB");
  return misses;
}

/**
 * The local services every measured process talks to, and the representative invocation of each
 * function (a fresh Stripe event where a repeat would only hit a deduplication).
 */
async function startServices() {
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stoppers.reverse()) await stopOne().catch(() => undefined);
  };
  try {
    const secrets = { ...LOCAL_DEFAULTS } as Record<string, string>;
    const tableName = "coldstart";
    const dynamo = await startDynamoDbLocal();
    stoppers.push(() => dynamo.stop());
    await createTable(dynamo.endpoint, tableName);
    const queues = await startLocalQueues();
    stoppers.push(() => queues.stop());
    const integrator = await startIntegratorSimulator({ vendorToken: secrets.INTEGRATOR_TOKEN, quiet: true });
    stoppers.push(() => integrator.stop());
    const stripeSim = await startStripeSimulator({ quiet: true });
    stoppers.push(() => stripeSim.stop());
    const secretsManager = await startFakeSecretsManager(
      Object.fromEntries(SECRET_SETTINGS.map((name) => [`coldstart/${name}`, secrets[name] as string])),
    );
    stoppers.push(() => secretsManager.stop());
    // Where the Stripe simulator delivers its (signed) events and integrator.io's stack points:
    // deliveries are kept for the webhook and worker invocations, and answered 200.
    const deliveries: { body: string; signature: string; event: Stripe.Event }[] = [];
    const sink = createServer(async (request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const signature = request.headers["stripe-signature"];
      if (typeof signature === "string")
        deliveries.push({ body, signature, event: JSON.parse(body) as Stripe.Event });
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
    stoppers.push(() => new Promise<void>((r) => sink.close(() => r())));
    sink.closeIdleConnections?.();
    const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;

    const local: Record<string, string> = {
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      SQS_ENDPOINT: queues.endpoint,
      QUEUE_URL: queues.queueUrl,
      DLQ_URL: queues.dlqUrl,
      INTEGRATOR_API_URL: integrator.url,
      STRIPE_API_URL: stripeSim.url,
      SECRETS_MANAGER_ENDPOINT: secretsManager.endpoint,
    };
    const catalog = await loadCatalogFile(join(root, "local", "catalog.json"));
    await seedIntegratorSimulator({
      simulatorUrl: integrator.url,
      vendorToken: secrets.INTEGRATOR_TOKEN as string,
      apiUrl: sinkUrl,
      systemToken: secrets.INTEGRATOR_SYSTEM_TOKEN as string,
      catalog,
    });
    await seedStripeSimulator({
      simulatorUrl: stripeSim.url,
      apiUrl: sinkUrl,
      webhookSecret: secrets.STRIPE_WEBHOOK_SECRET as string,
      catalog,
      seedPath: join(root, "local", "stripe-seed.json"),
    });

    // This process's own stripe-webhook, as the local stack runs it: it records the worker's events.
    const parentEnv = {
      ...local,
      ...secrets,
      CATALOG_PATH: join(root, "local", "catalog.json"),
      LOG_LEVEL: "ERROR",
    };
    // Its metrics would only interleave with the table.
    process.env.POWERTOOLS_METRICS_DISABLED = "true";
    const environment = await loadEnvironment(parentEnv);
    const webhookModule = await import("../functions/stripe-webhook.ts");
    const webhook = webhookModule.makeHandler(webhookModule.createDeps(environment));
    const sqs = createSqsClient(environment.config);
    const stripe = new Stripe(secrets.STRIPE_SECRET_KEY as string, {
      host: "127.0.0.1",
      port: stripeSim.port,
      protocol: "http",
      maxNetworkRetries: 0,
    });
    const { Inbox } = await import("../lib/store/inbox.ts");
    const { createTable: storeTable } = await import("../lib/engine/wiring.ts");
    const inbox = new Inbox(storeTable(environment.config));

    let serial = 0;
    /** A new buyer (with an integrator.io account) subscribing: the simulator's signed delivery of it. */
    const newSubscription = async (): Promise<(typeof deliveries)[number]> => {
      const email = `coldstart-${process.pid}-${++serial}@example.com`;
      const user = await fetch(`${integrator.origin}/_sim/users`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email }),
      });
      if (!user.ok) throw new Error(`integrator.io simulator: POST /_sim/users ${user.status}`);
      const customer = await stripe.customers.create({ email });
      await stripe.subscriptions.create({ customer: customer.id, items: [{ price: "price_std_month" }] });
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = deliveries.find(
          (d) =>
            d.event.type === "customer.subscription.created" &&
            (d.event.data.object as { customer?: string }).customer === customer.id,
        );
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no customer.subscription.created for ${customer.id}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const status =
      (...accepted: number[]) =>
      (result: unknown) => {
        const code = (result as { statusCode?: number } | undefined)?.statusCode;
        return code !== undefined && accepted.includes(code)
          ? undefined
          : `status ${code}, expected ${accepted.join("/")}: ${JSON.stringify(result).slice(0, 400)}`;
      };
    const completed = (result: unknown) =>
      result === undefined || (typeof result === "object" && result !== null && !("statusCode" in result))
        ? undefined
        : `unexpected result ${JSON.stringify(result).slice(0, 400)}`;
    const scheduled = () => ({
      version: "0",
      id: `coldstart-${++serial}`,
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "000000000000",
      time: new Date().toISOString(),
      region: "us-east-1",
      resources: ["arn:aws:events:us-east-1:000000000000:rule/coldstart"],
      detail: {},
    });
    const bearer = (token: string | undefined) => ({ authorization: `Bearer ${token}` });

    const invocations: Record<FunctionName, { describe: string; make: () => Promise<Invocation> }> = {
      health: {
        describe: "GET /health",
        make: async () => ({ event: httpEvent("GET /health"), expect: status(200) }),
      },
      fallback: {
        describe: "GET /no-such-route ($default)",
        make: async () => ({ event: httpEvent("$default", { path: "/no-such-route" }), expect: status(404) }),
      },
      "stripe-webhook": {
        describe: "POST /webhooks/stripe (signed customer.subscription.created, new)",
        make: async () => {
          const delivery = await newSubscription();
          return {
            event: httpEvent("POST /webhooks/stripe", {
              headers: { "content-type": "application/json", "stripe-signature": delivery.signature },
              body: delivery.body,
            }),
            expect: status(200),
            after: async () => {
              const stored = await inbox.get(delivery.event.id);
              return stored ? undefined : `event ${delivery.event.id} not in the inbox`;
            },
          };
        },
      },
      "provision-worker": {
        describe: "SQS record of a recorded customer.subscription.created (creates the license)",
        make: async () => {
          const delivery = await newSubscription();
          const answer = (await webhook(
            httpEvent("POST /webhooks/stripe", {
              headers: { "content-type": "application/json", "stripe-signature": delivery.signature },
              body: delivery.body,
            }),
            lambdaContextFor("stripe-webhook", 10),
          )) as { statusCode: number };
          if (answer.statusCode !== 200)
            throw new Error(`recording ${delivery.event.id}: ${answer.statusCode}`);
          const record = await receiveRecord(sqs, queues.queueUrl, delivery.event.id);
          return {
            event: { Records: [record] },
            expect: (result) => {
              const failures = (result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures;
              return Array.isArray(failures) && failures.length === 0
                ? undefined
                : `batch answer ${JSON.stringify(result)}`;
            },
            after: async () => {
              const stored = await inbox.get(delivery.event.id);
              return stored?.status === "processed"
                ? undefined
                : `event ${delivery.event.id} is ${stored?.status ?? "missing"}, not processed`;
            },
          };
        },
      },
      marketplace: {
        describe: "GET /marketplace/connectors",
        make: async () => ({ event: httpEvent("GET /marketplace/connectors"), expect: status(200) }),
      },
      "listings-sync": {
        describe: "EventBridge scheduled event",
        make: async () => ({ event: scheduled(), expect: completed }),
      },
      openapi: {
        describe: "GET /openapi.json",
        make: async () => ({ event: httpEvent("GET /openapi.json"), expect: status(200) }),
      },
      "integrator-extension": {
        describe: "POST /integrator/function (preSavePageOrders hook, system token)",
        make: async () => ({
          event: httpEvent("POST /integrator/function", {
            headers: { "content-type": "application/json", ...bearer(secrets.INTEGRATOR_SYSTEM_TOKEN) },
            body: JSON.stringify({
              _connectorId: catalog.connectors[0]?.connectorId,
              type: "hook",
              function: "preSavePageOrders",
              options: { data: [{ id: 1 }, { id: 2, test: true }], errors: [] },
            }),
          }),
          expect: status(200),
        }),
      },
      admin: {
        describe: "GET /admin/licenses (admin token)",
        make: async () => ({
          event: httpEvent("GET /admin/licenses", { headers: bearer(secrets.ADMIN_TOKEN) }),
          expect: status(200),
        }),
      },
      console: {
        describe: "GET /console (the page)",
        make: async () => ({ event: httpEvent("GET /console"), expect: status(200) }),
      },
      reconcile: {
        describe: "EventBridge scheduled event (a full run)",
        make: async () => ({ event: scheduled(), expect: completed }),
      },
    };

    return {
      stop,
      describe: (name: FunctionName) => invocations[name].describe,
      invocation: (name: FunctionName) => invocations[name].make(),
      /**
       * The function's environment as CDK sets it (the template's literal variables), with what
       * CDK resolves at deploy time pointed at the local services, the bundle's files where
       * `/var/task` would be, and the secret ids it is granted.
       */
      lambdaEnvironment: (name: FunctionName, template: Record<string, unknown>, taskRoot: string) => {
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? "",
          AWS_REGION: "us-east-1",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "local",
          AWS_SECRET_ACCESS_KEY: "local",
          AWS_SESSION_TOKEN: "local",
          AWS_LAMBDA_FUNCTION_NAME: `IntegratorLicensing-${name}`,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(functionTable[name].memoryMb),
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          LAMBDA_TASK_ROOT: taskRoot,
        };
        for (const [key, value] of Object.entries(template)) {
          if (key.endsWith("_SECRET_ID")) env[key] = `coldstart/${key.slice(0, -"_SECRET_ID".length)}`;
          else if (typeof value === "string") env[key] = value.replace(/^\/var\/task(?=\/|$)/, taskRoot);
        }
        for (const [key, value] of Object.entries(local))
          if (key in template || key.endsWith("_ENDPOINT") || key.endsWith("_URL")) env[key] = value;
        return env;
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The queue's message of `eventId` as the SQS trigger hands it to the worker. */
async function receiveRecord(sqs: ReturnType<typeof createSqsClient>, queueUrl: string, eventId: string) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["All"],
        WaitTimeSeconds: 1,
      }),
    );
    let found: (typeof Messages)[number] | undefined;
    for (const message of Messages) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      if ((JSON.parse(message.Body ?? "{}") as { eventId?: string }).eventId === eventId) found = message;
    }
    if (found)
      return {
        messageId: found.MessageId,
        receiptHandle: found.ReceiptHandle,
        body: found.Body,
        attributes: found.Attributes ?? {},
        messageAttributes: {},
        md5OfBody: found.MD5OfBody,
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:coldstart.fifo",
        awsRegion: "us-east-1",
      };
  }
  throw new Error(`no queue message for ${eventId}`);
}

function lambdaContextFor(name: string, timeoutSeconds: number) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    functionName: name,
    awsRequestId: `coldstart-${Date.now()}`,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as import("aws-lambda").Context;
}

/** `cdk synth` exactly as `npm run synth` runs it (offline, cdk-nag included). */
function synth(): void {
  console.log("cdk synth …");
  const result = spawnSync("npx", ["cdk", "synth", "--no-notices", "--quiet"], {
    cwd: root,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: "true" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (result.status !== 0) throw new Error(`cdk synth failed (exit ${result.status})`);
}

/** Construct id → the bundle and environment variables of each Lambda function in the synthesized stack. */
function deployedFunctions(): Map<string, { bundle: string; variables: Record<string, unknown> }> {
  const manifest = JSON.parse(readFileSync(join(cdkOut, "manifest.json"), "utf8")) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const found = new Map<string, { bundle: string; variables: Record<string, unknown> }>();
  for (const artifact of Object.values(manifest.artifacts)) {
    if (artifact.type !== "aws:cloudformation:stack" || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(readFileSync(join(cdkOut, artifact.properties.templateFile), "utf8")) as {
      Resources: Record<
        string,
        { Type: string; Metadata?: Record<string, string>; Properties?: Record<string, unknown> }
      >;
    };
    for (const resource of Object.values(template.Resources)) {
      const path = resource.Metadata?.["aws:cdk:path"];
      const asset = resource.Metadata?.["aws:asset:path"];
      if (resource.Type !== "AWS::Lambda::Function" || !path || !asset) continue;
      const constructId = path.split("/").at(-3);
      const bundle = join(cdkOut, asset, "index.mjs");
      if (!constructId || !existsSync(bundle)) continue;
      const variables =
        (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables ?? {};
      found.set(constructId, { bundle, variables });
    }
  }
  return found;
}

/**
 * A cold request in a fresh Node process: import the bundle (initMs), invoke its handler once
 * with the event (coldMs, from the start of the import), then the RSS. The answer is checked.
 */
async function measureCold(
  bundle: string,
  env: Record<string, string>,
  name: string,
  invocation: Invocation,
  timeoutSeconds: number,
  work: string,
  cpuProf?: string,
): Promise<Measurement> {
  mkdirSync(work, { recursive: true });
  const eventFile = join(work, `event-${name}.json`);
  writeFileSync(eventFile, JSON.stringify(invocation.event));
  const marker = "COLDSTART-RESULT ";
  const script = [
    'import { readFileSync } from "node:fs";',
    `const event = JSON.parse(readFileSync(${JSON.stringify(eventFile)}, "utf8"));`,
    `const deadline = Date.now() + ${timeoutSeconds * 1000};`,
    `const context = { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: "$LATEST", memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, awsRequestId: "coldstart-request", invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:coldstart", logGroupName: "/aws/lambda/coldstart", logStreamName: "coldstart", callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => deadline - Date.now() };`,
    "const start = performance.now();",
    `const module = await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
    "const initMs = performance.now() - start;",
    'if (typeof module.handler !== "function") throw new Error("no handler export");',
    "const result = await module.handler(event, context);",
    "const coldMs = performance.now() - start;",
    "const cpu = process.cpuUsage();",
    "const cpuMs = (cpu.user + cpu.system) / 1000;",
    "const rssMb = process.memoryUsage().rss / 1048576;",
    `process.stdout.write("\\n${marker}" + JSON.stringify({ initMs, coldMs, cpuMs, rssMb, result: result ?? null }) + "\\n", () => process.exit(0));`,
  ].join("\n");
  const nodeOptions = (env.NODE_OPTIONS ?? "").split(" ").filter(Boolean);
  if (cpuProf)
    nodeOptions.push(
      "--cpu-prof",
      `--cpu-prof-dir=${cpuProf}`,
      `--cpu-prof-name=${name}-${bundle.startsWith(cdkOut) ? "ours" : "naive"}-${Date.now()}.cpuprofile`,
    );
  const { NODE_OPTIONS: _, ...childEnv } = env;
  // Asynchronously: the services the process talks to (simulators, queues, secrets) live in this one.
  const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [...nodeOptions, "--input-type=module", "-e", script], {
      cwd: dirname(bundle),
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: (timeoutSeconds + 30) * 1000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
  const line = result.stdout
    ?.split("\n")
    .reverse()
    .find((l) => l.startsWith(marker));
  if (result.status !== 0 || !line)
    throw new Error(
      `${name}: ${bundle} failed (exit ${result.status}):\n${result.stderr}\n${result.stdout?.slice(-2000)}`,
    );
  const measured = JSON.parse(line.slice(marker.length)) as Measurement & { result: unknown };
  const problem = invocation.expect(measured.result ?? undefined) ?? (await invocation.after?.());
  if (problem) throw new Error(`${name}: ${bundle}: ${problem}\n${result.stdout.slice(-2000)}`);
  return { initMs: measured.initMs, coldMs: measured.coldMs, cpuMs: measured.cpuMs, rssMb: measured.rssMb };
}

/** The JavaScript a function ships: its `index.mjs` and the chunks it may load (cdk/bundling.ts), not maps or assets. */
function javascriptBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".mjs"))
    .reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
}

/** The packages (or lib/ folders) contributing most bytes to the deployed build of `entry`. */
async function dominantInputs(entry: string): Promise<{ package: string; bytes: number }[]> {
  const result = await build({
    ...esbuildEquivalent,
    entryPoints: [entry],
    write: false,
    metafile: true,
    outdir: "out",
    logLevel: "error",
  });
  const output = Object.values((result.metafile as Metafile).outputs)[0];
  const bytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split("/").slice(0, 2).join("/");
    bytes.set(pkg, (bytes.get(pkg) ?? 0) + bytesInOutput);
  }
  return [...bytes]
    .map(([pkg, n]) => ({ package: pkg, bytes: n }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 6);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function printTable(rows: Record<string, string>[]): void {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
  console.log(line(columns));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => row[c] ?? "")));
}
