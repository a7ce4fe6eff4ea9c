import type { Logger } from "@aws-lambda-powertools/logger";
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { describeError } from "#lib/http/http-function.ts";

/** What of the EventBridge client the product uses (tests pass their own). */
export type BusClient = Pick<EventBridgeClient, "send">;

/**
 * One event at a time onto the stack's EventBridge bus: domain events, reconcile and redrive
 * requests. The client is loaded at the first put, so functions that only share a module with a
 * publisher never load it at cold start (bench/coldstart.ts).
 */
export class EventBus {
  constructor(
    private readonly busName: string,
    private client?: BusClient,
  ) {}

  /** Puts one event; throws naming `what` when EventBridge refuses it. */
  async put(event: { source: string; detailType: string; detail: unknown }, what: string): Promise<void> {
    const { EventBridgeClient, PutEventsCommand } = await import("../sdk/eventbridge.ts");
    this.client ??= new EventBridgeClient({});
    const output = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: event.source,
            DetailType: event.detailType,
            Detail: JSON.stringify(event.detail),
          },
        ],
      }),
    );
    if (output.FailedEntryCount)
      throw new Error(`EventBridge refused ${what}: ${output.Entries?.[0]?.ErrorCode ?? "unknown"}`);
  }
}

/**
 * The local stack's launcher (no bus, a long-lived process): the work goes on in the background of
 * the same process, the same code a function would run; the caller answers at once. A failure is
 * logged as `<what> failed` with the id under `idKey` (the work records its own state).
 */
export class InProcessLauncher {
  constructor(
    private readonly execute: (id: string) => Promise<unknown>,
    private readonly logger: Logger,
    private readonly what: string,
    private readonly idKey: string,
  ) {}

  async launch(id: string): Promise<void> {
    void this.execute(id).catch((error: unknown) =>
      this.logger.error(`${this.what} failed`, { [this.idKey]: id, error: describeError(error) }),
    );
  }
}
