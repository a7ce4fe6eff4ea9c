import type { Logger } from "@aws-lambda-powertools/logger";
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { describeError } from "#lib/http/http-function.ts";
import { RECONCILE_REQUEST, type ReconcileRequestDetail } from "./request.ts";

/** Starts a recorded run somewhere that may outlive the HTTP request that asked for it. */
export interface RunLauncher {
  launch(runId: string): Promise<void>;
}

/** AWS: a `reconcile.requested` event on the bus; its rule invokes the reconcile function asynchronously. */
export class EventBridgeRunLauncher implements RunLauncher {
  constructor(
    private readonly busName: string,
    private client?: Pick<EventBridgeClient, "send">,
  ) {}

  async launch(runId: string): Promise<void> {
    // Loaded on the first launch: the reconcile function shares this module and never launches,
    // so it never loads the EventBridge client at cold start (bench/coldstart.ts).
    const { EventBridgeClient, PutEventsCommand } = await import("../sdk/eventbridge.ts");
    this.client ??= new EventBridgeClient({});
    const detail: ReconcileRequestDetail = { runId };
    const output = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: RECONCILE_REQUEST.source,
            DetailType: RECONCILE_REQUEST.detailType,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if (output.FailedEntryCount)
      throw new Error(
        `EventBridge refused the reconcile request: ${output.Entries?.[0]?.ErrorCode ?? "unknown"}`,
      );
  }
}

/**
 * The local stack (no bus, a long-lived process): the run goes on in the background of the same
 * process, exactly the code the reconcile function runs.
 */
export class InProcessRunLauncher implements RunLauncher {
  constructor(
    private readonly execute: (runId: string) => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  async launch(runId: string): Promise<void> {
    // Not awaited: the API answers 202 while the run goes on; the run records its own failure.
    void this.execute(runId).catch((error: unknown) =>
      this.logger.error("reconcile run failed", { runId, error: describeError(error) }),
    );
  }
}
