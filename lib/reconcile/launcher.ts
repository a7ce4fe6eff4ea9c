import { type BusClient, EventBus } from "#lib/events/bus.ts";
import { RECONCILE_REQUEST, type ReconcileRequestDetail } from "./request.ts";

/** Starts a recorded run somewhere that may outlive the HTTP request that asked for it. */
export interface RunLauncher {
  launch(runId: string): Promise<void>;
}

/** AWS: a `reconcile.requested` event on the bus; its rule invokes the reconcile function asynchronously. */
export class EventBridgeRunLauncher implements RunLauncher {
  private readonly bus: EventBus;

  constructor(busName: string, client?: BusClient) {
    this.bus = new EventBus(busName, client);
  }

  async launch(runId: string): Promise<void> {
    const detail: ReconcileRequestDetail = { runId };
    await this.bus.put({ ...RECONCILE_REQUEST, detail }, "the reconcile request");
  }
}
