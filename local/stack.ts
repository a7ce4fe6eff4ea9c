import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import {
  type Config,
  LOCAL_DEFAULTS,
  loadConfig,
  portOf,
  SECRET_SETTINGS,
  type SecretSetting,
} from "#lib/config.ts";
import { functionTable } from "#lib/functions.ts";
import { loadCatalogFile } from "#lib/licensing/catalog-file.ts";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import { type Environment, loadEnvironment } from "#lib/runtime.ts";
import { webhookSecrets } from "#lib/webhook/receive.ts";
import {
  addCounts,
  countDynamoDbCalls,
  type DynamoDbCallCounts,
  dynamoDbCallCounts,
} from "./dynamodb-calls.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "./dynamodb-local.ts";
import { type HttpLambda, startGateway } from "./gateway.ts";
import { namingTakenPort } from "./net.ts";
import { QueuePoller } from "./poller.ts";
import { type LocalQueues, startLocalQueues } from "./queues.ts";
import { LocalScheduler } from "./scheduler.ts";
import { seedIntegratorSimulator, seedStripeSimulator } from "./seed.ts";

export interface LocalStackOptions {
  /** Queue timings: short in tests so a failed record comes back in seconds, not minutes. */
  visibilityTimeoutSeconds?: number;
  pollWaitSeconds?: number;
  workerConcurrency?: number;
  /** The worker's Lambda timeout locally (a longer batch is killed); default none. */
  workerTimeoutSeconds?: number;
  /** How often scheduled functions run (default 15 min). */
  scheduleIntervalMs?: number;
  log?: (line: string) => void;
  /** Every line the worker processes write (default: inherited stdout/stderr). */
  workerOutput?: (line: string, stream: "stdout" | "stderr") => void;
  /**
   * Benchmarks: count every DynamoDB call of the stack (local/dynamodb-calls.ts), so
   * `dynamoDbCalls()` tells them by operation and caller — `api` (this process: the in-process
   * HTTP and scheduled functions), `worker` (the worker processes), `limiter` (anyone's calls on
   * the shared rate-limit item). Counting only; off by default.
   */
  countDynamoDbCalls?: boolean;
  /** More Node options for the worker processes (profiling: `--cpu-prof`, `--cpu-prof-dir=…`). */
  workerNodeOptions?: string[];
}

export interface LocalStack {
  urls: { api: string; integrator: string; stripe: string; dynamodb: string; sqs: string };
  /** The environment every function of this stack runs with (secrets included). */
  env: Record<string, string>;
  config: Config;
  queueUrl: string;
  dlqUrl: string;
  poller: QueuePoller | undefined;
  /** DynamoDB requests so far by caller and operation; undefined unless `countDynamoDbCalls`. */
  dynamoDbCalls(): DynamoDbCallCounts | undefined;
  stop(): Promise<void>;
}

type Stoppable = { stop(): Promise<void> };

/** A URL with its port replaced (for a service bound on port 0). */
const withPort = (url: string, port: number) => {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString().replace(/\/$/, "");
};

/**
 * The whole backend on loopback: DynamoDB Local, the SQS emulator, the simulators, the real
 * handlers behind the local gateway, the queue poller and the scheduler. `overrides` are
 * environment variables (any port may be 0). Resolves once everything answers.
 */
export async function startLocalStack(
  overrides: Record<string, string | undefined> = {},
  options: LocalStackOptions = {},
): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const baseEnv = { ...overrides };
  const requested = loadConfig(baseEnv);
  const started: Stoppable[] = [];
  const stopAll = async () => {
    for (const service of started.reverse()) await service.stop().catch(() => undefined);
    started.length = 0;
  };
  try {
    let dynamo: DynamoDbLocal | undefined;
    if (!requested.dynamodbEndpoint) {
      dynamo = await startDynamoDbLocal();
      started.push(dynamo);
    }
    const dynamodbEndpoint = requested.dynamodbEndpoint ?? dynamo?.endpoint ?? "";
    await createTable(dynamodbEndpoint, requested.tableName);
    if (options.countDynamoDbCalls) countDynamoDbCalls("api");

    const queues: LocalQueues = await startLocalQueues({
      ...(options.visibilityTimeoutSeconds !== undefined
        ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }
        : {}),
    });
    started.push(queues);

    const simulators = await startSimulators(requested, baseEnv, started);

    const env: Record<string, string> = Object.fromEntries(
      Object.entries({
        ...baseEnv,
        TABLE_NAME: requested.tableName,
        DYNAMODB_ENDPOINT: dynamodbEndpoint,
        SQS_ENDPOINT: queues.endpoint,
        QUEUE_URL: queues.queueUrl,
        DLQ_URL: queues.dlqUrl,
        INTEGRATOR_API_URL: simulators.integratorUrl,
        STRIPE_API_URL: simulators.stripeUrl,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const environment = await loadEnvironment(env);
    const { config } = environment;
    const secrets = secretValues(environment);

    const handlers = await loadHttpHandlers(environment);
    const gateway = await startGateway({ port: requested.port, handlers });
    started.push({ stop: () => new Promise<void>((r) => gateway.server.close(() => r())) });
    gateway.server.closeIdleConnections?.();
    const api = `http://127.0.0.1:${gateway.port}`;
    env.PORT = String(gateway.port);

    await simulators.seed(api, environment);

    const workerEnv = { ...process.env, ...env, ...secretEnv(secrets) };
    let poller: QueuePoller | undefined;
    const queueFunction = Object.values(functionTable).find((f) => f.trigger === "queue");
    if (queueFunction) {
      poller = new QueuePoller({
        sqs: createSqsClient(config),
        queueUrl: queues.queueUrl,
        entry: resolve(queueFunction.entry),
        env: workerEnv,
        concurrency: options.workerConcurrency ?? 2,
        waitTimeSeconds: options.pollWaitSeconds ?? 1,
        ...(options.workerTimeoutSeconds === undefined
          ? {}
          : { timeoutSeconds: options.workerTimeoutSeconds }),
        log,
        ...(options.workerOutput ? { output: options.workerOutput } : {}),
        ...(options.workerNodeOptions ? { nodeOptions: options.workerNodeOptions } : {}),
        ...(options.countDynamoDbCalls ? { countDynamoDbCalls: true } : {}),
      });
      poller.start();
      started.push(poller);
    }
    const scheduler = new LocalScheduler(
      await loadScheduledJobs(environment),
      options.scheduleIntervalMs ?? 15 * 60_000,
      log,
    );
    scheduler.start();
    started.push(scheduler);

    // The queue must answer before we call the stack ready.
    await createSqsClient(config).send(
      new GetQueueAttributesCommand({ QueueUrl: queues.queueUrl, AttributeNames: ["QueueArn"] }),
    );

    return {
      urls: {
        api,
        integrator: simulators.integratorUrl,
        stripe: simulators.stripeUrl,
        dynamodb: dynamodbEndpoint,
        sqs: queues.endpoint,
      },
      env: { ...env, ...secretEnv(secrets) },
      config,
      queueUrl: queues.queueUrl,
      dlqUrl: queues.dlqUrl,
      poller,
      dynamoDbCalls: () =>
        options.countDynamoDbCalls
          ? addCounts(dynamoDbCallCounts(), poller?.usage().dynamodb ?? {})
          : undefined,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The values of the stack's secrets as read at its start (the environment's, or Secrets Manager's). */
function secretValues({ secrets }: Environment): Partial<Record<SecretSetting, string>> {
  return Object.fromEntries(SECRET_SETTINGS.map((name) => [name, secrets.get(name)]));
}

function secretEnv(secrets: Partial<Record<SecretSetting, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(secrets).filter((e): e is [string, string] => e[1] !== undefined));
}

interface FunctionModule {
  makeHandler(deps: unknown): HttpLambda | ((event: unknown, context: unknown) => Promise<unknown>);
  createDeps(environment: Environment): unknown;
}

async function importFunction(entry: string): Promise<FunctionModule> {
  return (await import(pathToFileURL(resolve(entry)).href)) as FunctionModule;
}

async function loadHttpHandlers(environment: Environment): Promise<Record<string, HttpLambda>> {
  const handlers: Record<string, HttpLambda> = {};
  for (const [name, definition] of Object.entries(functionTable)) {
    if (definition.trigger !== "http") continue;
    const module = await importFunction(definition.entry);
    handlers[name] = module.makeHandler(await module.createDeps(environment)) as HttpLambda;
  }
  return handlers;
}

async function loadScheduledJobs(environment: Environment) {
  const jobs: { name: string; run: () => Promise<unknown> }[] = [];
  for (const [name, definition] of Object.entries(functionTable)) {
    if (definition.trigger !== "schedule") continue;
    const module = await importFunction(definition.entry);
    const handler = module.makeHandler(await module.createDeps(environment)) as (
      event: unknown,
      context: unknown,
    ) => Promise<unknown>;
    jobs.push({
      name,
      run: () => handler({ source: "local.scheduler", "detail-type": "Scheduled Event", detail: {} }, {}),
    });
  }
  return jobs;
}

/**
 * Starts the integrator.io simulator while INTEGRATOR_API_URL is unset, its default or on port 0,
 * and the Stripe simulator while the Stripe key is the local one; returns the URLs the functions
 * use and a seeding step to run once the gateway's URL is known.
 */
async function startSimulators(
  requested: Config,
  env: Record<string, string | undefined>,
  started: Stoppable[],
) {
  const integratorIsLocal =
    env.INTEGRATOR_API_URL === undefined ||
    env.INTEGRATOR_API_URL === LOCAL_DEFAULTS.INTEGRATOR_API_URL ||
    portOf(requested.integratorApiUrl) === 0;
  let integratorUrl = requested.integratorApiUrl;
  let stripeUrl = requested.stripeApiUrl;
  const seeds: ((apiUrl: string, environment: Environment) => Promise<void>)[] = [];
  if (integratorIsLocal) {
    const { startIntegratorSimulator } = await import("#local/sim/integrator/index.ts");
    const port = portOf(requested.integratorApiUrl);
    const sim = await namingTakenPort(port, "INTEGRATOR_API_URL", () =>
      startIntegratorSimulator({ port, vendorToken: requested.secrets.INTEGRATOR_TOKEN, quiet: true }),
    );
    started.push(sim);
    integratorUrl = withPort(requested.integratorApiUrl, sim.port);
    seeds.push(async (apiUrl, { config, secrets }) =>
      seedIntegratorSimulator({
        simulatorUrl: integratorUrl,
        vendorToken: secrets.get("INTEGRATOR_TOKEN") ?? "",
        apiUrl,
        systemToken: secrets.get("INTEGRATOR_SYSTEM_TOKEN") ?? "",
        catalog: await loadCatalogFile(config.catalogPath),
      }),
    );
  }
  if (requested.stripeIsLocal) {
    const { startStripeSimulator } = await import("#local/sim/stripe/index.ts");
    const port = portOf(requested.stripeApiUrl);
    const sim = await namingTakenPort(port, "STRIPE_API_URL", () =>
      startStripeSimulator({ port, quiet: true }),
    );
    started.push(sim);
    stripeUrl = withPort(requested.stripeApiUrl, sim.port);
    seeds.push(async (apiUrl, { config, secrets }) =>
      seedStripeSimulator({
        simulatorUrl: stripeUrl,
        apiUrl,
        // The newest of a rolling rotation's secrets (the last listed) signs, as Stripe does once rolled.
        webhookSecret: webhookSecrets(secrets.get("STRIPE_WEBHOOK_SECRET")).at(-1) ?? "",
        catalog: await loadCatalogFile(config.catalogPath),
      }),
    );
  }
  return {
    integratorUrl,
    stripeUrl,
    seed: async (apiUrl: string, environment: Environment) => {
      for (const seed of seeds) await seed(apiUrl, environment);
    },
  };
}
