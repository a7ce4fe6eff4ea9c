import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Secrets Manager at the process edge: a loopback HTTP server speaking its JSON protocol
 * (`X-Amz-Target: secretsmanager.GetSecretValue`, `application/x-amz-json-1.1`), so the real
 * Powertools Parameters provider and AWS SDK client run unchanged against it
 * (`SECRETS_MANAGER_ENDPOINT`). Tests rotate a secret with `put`, as `put-secret-value` would.
 */
export interface FakeSecretsManager {
  endpoint: string;
  /** `put-secret-value`: the secret's new current value. */
  put(secretId: string, value: string): void;
  /** The `SecretId` of every GetSecretValue received, in order. */
  reads: string[];
  /** While true, every call answers 500 (Secrets Manager unreachable). */
  failing: boolean;
  stop(): Promise<void>;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeSecretsManager(
  initial: Record<string, string> = {},
): Promise<FakeSecretsManager> {
  const values = new Map(Object.entries(initial));
  const versions = new Map<string, number>();
  const fake: FakeSecretsManager = {
    endpoint: "",
    put: (secretId, value) => {
      values.set(secretId, value);
      versions.set(secretId, (versions.get(secretId) ?? 0) + 1);
    },
    reads: [],
    failing: false,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const answer = (response: import("node:http").ServerResponse, status: number, body: unknown) =>
    response.writeHead(status, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(body));
  const server = createServer(async (request, response) => {
    const text = await bodyOf(request);
    if (request.headers["x-amz-target"] !== "secretsmanager.GetSecretValue") {
      answer(response, 400, { __type: "UnknownOperationException", message: "not faked" });
      return;
    }
    const { SecretId: secretId } = JSON.parse(text) as { SecretId: string };
    fake.reads.push(secretId);
    if (fake.failing) {
      answer(response, 500, { __type: "InternalServiceError", message: "the fake is failing" });
      return;
    }
    const value = values.get(secretId);
    if (value === undefined) {
      answer(response, 400, {
        __type: "ResourceNotFoundException",
        message: "Secrets Manager can't find the specified secret.",
      });
      return;
    }
    answer(response, 200, {
      ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}`,
      Name: secretId,
      SecretString: value,
      VersionId: `v${versions.get(secretId) ?? 0}`,
      VersionStages: ["AWSCURRENT"],
      CreatedDate: Date.now() / 1000,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
