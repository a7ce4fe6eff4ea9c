/**
 * A queue-triggered function for testing the local poller: records each message it sees in the
 * file named by ECHO_WORKER_LOG and reports the ones whose body asks to fail as batch item
 * failures, as a real function would.
 */
import { appendFileSync } from "node:fs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    const body = JSON.parse(record.body) as { id: string; fail?: boolean; sleepMs?: number };
    if (body.sleepMs) await new Promise((r) => setTimeout(r, body.sleepMs));
    appendFileSync(
      process.env.ECHO_WORKER_LOG ?? "/dev/null",
      `${JSON.stringify({ id: body.id, receiveCount: record.attributes.ApproximateReceiveCount, batch: event.Records.length })}\n`,
    );
    if (body.fail) failures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures: failures };
};
