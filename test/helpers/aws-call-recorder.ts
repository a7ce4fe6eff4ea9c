import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/** One AWS API call as IAM sees it: the action, and the partition keys of the items it names. */
export interface RecordedCall {
  /** `dynamodb:PutItem`, `sqs:SendMessage`, ... */
  action: string;
  partitionKeys: string[];
}

/** The IAM prefix of each JSON protocol's `X-Amz-Target` service name. */
const IAM_PREFIXES: Record<string, string> = { DynamoDB_20120810: "dynamodb", AmazonSQS: "sqs" };

/**
 * A loopback proxy in front of a local AWS service (DynamoDB Local, the SQS emulator) that
 * records every call passing through, as IAM would judge it: point a function's endpoint setting
 * at `endpoint`, and `calls` is what its role would have to allow.
 */
export async function startCallRecorder(target: string): Promise<{
  endpoint: string;
  calls: RecordedCall[];
  stop(): Promise<void>;
}> {
  const upstream = new URL(target);
  const calls: RecordedCall[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      const [service = "", operation = ""] = String(incoming.headers["x-amz-target"] ?? "").split(".");
      calls.push({
        action: `${IAM_PREFIXES[service] ?? service}:${operation}`,
        partitionKeys: partitionKeysOf(body),
      });
      const forwarded = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...incoming.headers, host: upstream.host },
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on("error", () => outgoing.destroy());
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The `pk` of the item a DynamoDB request names (`Key` or `Item`); none for other requests. */
function partitionKeysOf(body: Buffer): string[] {
  try {
    const input = JSON.parse(body.toString("utf8")) as {
      Key?: { pk?: { S?: string } };
      Item?: { pk?: { S?: string } };
    };
    const pk = input.Key?.pk?.S ?? input.Item?.pk?.S;
    return pk === undefined ? [] : [pk];
  } catch {
    return [];
  }
}
