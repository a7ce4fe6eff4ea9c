import { startFauxqs } from "fauxqs";
import { queueDefinition } from "#lib/queue/definition.ts";

export interface LocalQueues {
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts the SQS emulator in process with the event queue and its DLQ, named and redriven as in
 * CDK. `visibilityTimeoutSeconds` is overridable so tests don't wait minutes for a retry.
 */
export async function startLocalQueues(
  options: { port?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<LocalQueues> {
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, host: "127.0.0.1" });
  const fifo = { FifoQueue: "true", ContentBasedDeduplication: "false" };
  const dlq = server.createQueue(queueDefinition.deadLetterQueueName, {
    attributes: { ...fifo, MessageRetentionPeriod: String(queueDefinition.retentionSeconds) },
  });
  const queue = server.createQueue(queueDefinition.queueName, {
    attributes: {
      ...fifo,
      VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? queueDefinition.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.queueArn,
        maxReceiveCount: String(queueDefinition.maxReceiveCount),
      }),
    },
  });
  return {
    endpoint: server.address,
    queueUrl: queue.queueUrl,
    dlqUrl: dlq.queueUrl,
    stop: () => server.stop(),
  };
}
