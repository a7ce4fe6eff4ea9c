/**
 * The event queue and its dead-letter queue, defined once for CDK and the local stack.
 * FIFO, grouped by Stripe customer, so one customer's events are processed one at a time.
 */
export const queueDefinition = {
  queueName: "integrator-licensing-events.fifo",
  deadLetterQueueName: "integrator-licensing-events-dlq.fifo",
  /** Receives before a message moves to the DLQ. */
  maxReceiveCount: 5,
  /** The worker's Lambda timeout; the queue's visibility timeout is 6 × this, as AWS advises. */
  workerTimeoutSeconds: 60,
  visibilityTimeoutSeconds: 6 * 60,
  /** Lambda's SQS batch size for FIFO queues (at most 10). */
  batchSize: 10,
  /** DLQ messages are kept 14 days (the SQS maximum) for replay. */
  retentionSeconds: 14 * 24 * 3600,
} as const;
