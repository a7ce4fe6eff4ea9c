import { Logger } from "@aws-lambda-powertools/logger";
import { App, type CfnElement } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { beforeAll, describe, expect, it } from "vitest";
import type { ProvisioningContext } from "#lib/engine/context.ts";
import { type FunctionDefinition, functionTable } from "#lib/functions.ts";
import { type ReconcileDeps, runScheduled } from "#lib/reconcile/run.ts";
import type { Leases } from "#lib/store/leases.ts";
import type { ReconcileRuns } from "#lib/store/reconcile-runs.ts";
import { EXTENSION_FUNCTION, LicensingStack } from "../../cdk/licensing-stack.ts";

// Issue 23: a failed first create can be retried, alarms reach their e-mail, scheduled functions
// run once per start, the stack function answers before API Gateway. One synth without bundling.

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

const functions = Object.entries(functionTable) as [string, FunctionDefinition][];
let stack: LicensingStack;
let resources: Record<string, Resource>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalId = (construct: IConstruct) =>
  stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnElement)) as string;

beforeAll(() => {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  stack = new LicensingStack(app, "Licensing", { alarmEmail: "ops@example.com", lambdaStack: true });
  resources = Template.fromStack(stack).toJSON().Resources;
}, 120_000);

describe("stateful resources a failed first create does not leave behind", () => {
  it("retains the secrets, the table and the log groups on delete and replacement, never after a failed create", () => {
    const stateful = [
      ...ofType("AWS::SecretsManager::Secret"),
      ...ofType("AWS::DynamoDB::GlobalTable"),
      ...ofType("AWS::Logs::LogGroup"),
    ];
    expect(ofType("AWS::SecretsManager::Secret").length).toBeGreaterThan(0);
    expect(ofType("AWS::Logs::LogGroup").length).toBeGreaterThan(functions.length - 1);
    for (const [id, resource] of stateful) {
      expect(resource.DeletionPolicy, id).toBe("RetainExceptOnCreate");
      expect(resource.UpdateReplacePolicy, id).toBe("Retain");
    }
    // A protected table cannot be deleted by the rollback of its own create.
    const [[, table] = []] = ofType("AWS::DynamoDB::GlobalTable");
    expect(JSON.stringify(table?.Properties)).not.toMatch(/"DeletionProtectionEnabled":true/);
  });

  it("keeps the readable secret names when the data is retained", () => {
    for (const [, secret] of ofType("AWS::SecretsManager::Secret"))
      expect(secret.Properties.Name).toMatch(/^Licensing\/[a-z-]+$/);
  });

  it("keeps the Lambda stack's IAM user and its invoke policy when lambdaStack is turned off", () => {
    const user = logicalId(stack.invokeUser as IConstruct);
    expect(resources[user]?.DeletionPolicy).toBe("RetainExceptOnCreate");
    expect(resources[user]?.UpdateReplacePolicy).toBe("Retain");
    const policies = ofType("AWS::IAM::Policy").filter(([, p]) =>
      JSON.stringify(p.Properties.Users ?? []).includes(user),
    );
    expect(policies).toHaveLength(1);
    for (const [, policy] of policies) expect(policy.DeletionPolicy).toBe("RetainExceptOnCreate");
  });

  it("names a throwaway stack's secrets per stack creation (no clash with a deleted one's recovery window)", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const throwaway = new LicensingStack(app, "Throwaway", {
      retainData: false,
      functions: { fallback: functionTable.fallback, "provision-worker": functionTable["provision-worker"] },
      routes: [],
    });
    const template = Template.fromStack(throwaway).toJSON();
    const all = Object.entries(template.Resources as Record<string, Resource>);
    const secrets = all.filter(([, r]) => r.Type === "AWS::SecretsManager::Secret");
    expect(secrets.length).toBeGreaterThan(0);
    for (const [id, secret] of secrets) {
      expect(secret.DeletionPolicy, id).toBe("Delete");
      // `Throwaway/<name>-<first block of the stack id's UUID>`: a fresh name for every creation.
      const name = JSON.stringify(secret.Properties.Name);
      expect(typeof secret.Properties.Name, id).not.toBe("string");
      expect(name).toContain("AWS::StackId");
      expect(name).toMatch(/Throwaway\/[a-z-]+-/);
    }
    // The functions still get each secret's id (its ARN) in `*_SECRET_ID`.
    const worker = all.find(
      ([, r]) =>
        r.Type === "AWS::Lambda::Function" &&
        JSON.stringify(r.Properties.Environment).includes("INTEGRATOR_TOKEN_SECRET_ID"),
    );
    expect(worker).toBeDefined();
    for (const [, r] of all.filter(([, r]) => r.Type === "AWS::Logs::LogGroup"))
      expect(r.DeletionPolicy).toBe("Delete");
  }, 120_000);
});

describe("alarms that reach their e-mail", () => {
  it("lets CloudWatch (of this account only) publish to the alarm topic, beside the TLS deny", () => {
    const [[, policy] = []] = ofType("AWS::SNS::TopicPolicy");
    if (!policy) throw new Error("no topic policy");
    const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
      .Statement;
    const topic = logicalId(stack.alarms.topic as IConstruct);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: "sns:Publish",
          Resource: { Ref: topic },
          Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
        }),
        expect.objectContaining({
          Effect: "Deny",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      ]),
    );
    expect(policy.Properties.Topics).toEqual([{ Ref: topic }]);
  });
});

describe("scheduled functions run once per schedule", () => {
  const started = functions.filter(([, f]) => f.trigger === "schedule" || (f.busEvents?.length ?? 0) > 0);

  it("turns off Lambda's async retries and sends a failure to a standard queue", () => {
    expect(started.map(([name]) => name)).toEqual(expect.arrayContaining(["reconcile", "listings-sync"]));
    const failures = logicalId(stack.asyncFailures);
    expect(resources[failures]?.Properties.FifoQueue).toBeUndefined();
    const configs = ofType("AWS::Lambda::EventInvokeConfig").map(([, r]) => r.Properties);
    expect(configs).toHaveLength(started.length);
    for (const [name] of started) {
      const fn = logicalId(stack.functions.get(name)?.function as IConstruct);
      const config = configs.find((c) => JSON.stringify(c.FunctionName) === JSON.stringify({ Ref: fn }));
      expect(config, name).toMatchObject({
        MaximumRetryAttempts: 0,
        Qualifier: "$LATEST",
        DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [failures, "Arn"] } } },
      });
    }
  });

  it("has an errors alarm for each of them", () => {
    const names = ofType("AWS::CloudWatch::Alarm").map(([, r]) => r.Properties.AlarmName);
    for (const [name] of started) expect(names, name).toContain(`Licensing-${name}-errors`);
  });

  it("a scheduled reconcile that finds the repair lease held exits without recording or doing anything", async () => {
    const calls: string[] = [];
    const record = (what: string) => async () => {
      calls.push(what);
      throw new Error(`${what} must not be called`);
    };
    const deps = {
      ctx: {
        logger: new Logger({ logLevel: "SILENT" }),
        now: () => new Date(),
        metrics: { count: record("metrics.count") },
        inbox: { stale: record("inbox.stale") },
      } as unknown as ProvisioningContext,
      runs: { create: record("runs.create"), claim: record("runs.claim") } as unknown as ReconcileRuns,
      leases: {
        take: async () => ({
          taken: false,
          heldBy: { holder: "run-working", expiresAt: "2099-01-01T00:00:00Z", about: {} },
        }),
        release: record("leases.release"),
      } as unknown as Leases,
      sqs: {},
      queueUrl: "https://sqs.example/queue",
      staleEventMinutes: 30,
    } as unknown as ReconcileDeps;
    await expect(runScheduled(deps)).resolves.toBeUndefined();
    expect(calls).toEqual([]);
  });
});

describe("the stack function answers before API Gateway's limit", () => {
  it("gives the integrator.io stack function a timeout under API Gateway's 30 s (with room to answer)", () => {
    const fn = logicalId(stack.functions.get(EXTENSION_FUNCTION)?.function as IConstruct);
    expect(resources[fn]?.Properties.Timeout).toBeLessThan(29);
  });
});
