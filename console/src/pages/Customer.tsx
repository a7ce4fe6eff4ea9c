import { useEffect, useRef } from "preact/hooks";
import { request, segment } from "../api.ts";
import { Show } from "../components/Loaded.tsx";
import { PageHead } from "../components/PageHead.tsx";
import { useLoad } from "../load.ts";
import { useCan } from "../session.ts";
import { useTitle } from "../title.ts";
import type { CustomerView } from "../types.ts";
import { AuditTrail } from "./customer/AuditTrail.tsx";
import { CustomerEvents } from "./customer/CustomerEvents.tsx";
import { Installs } from "./customer/Installs.tsx";
import { Licenses } from "./customer/Licenses.tsx";
import { Profile } from "./customer/Profile.tsx";
import { ReconcileCustomer } from "./customer/ReconcileCustomer.tsx";
import { Subscriptions } from "./customer/Subscriptions.tsx";

/** After a replay the worker takes a moment: the page looks again a few times. */
const LOOK_AGAIN_MS = [1500, 4000, 9000];

/** `#/customers/<id>`: Stripe's subscription, our license and integrator.io's side by side. */
export function Customer({ customerId }: { customerId: string }) {
  useTitle(customerId);
  const canAct = useCan("operator");
  const [state, reload] = useLoad(
    () => request<CustomerView>(`/admin/customers/${segment(customerId)}`),
    [customerId],
  );
  const timers = useRef<number[]>([]);
  const clearTimers = () => {
    for (const timer of timers.current) window.clearTimeout(timer);
  };
  useEffect(() => clearTimers, []);
  const reloadSoon = () => {
    reload();
    clearTimers();
    timers.current = LOOK_AGAIN_MS.map((ms) => window.setTimeout(reload, ms));
  };

  return (
    <>
      <PageHead onRefresh={reload}>
        Customer <span class="id">{customerId}</span>
      </PageHead>
      <Show state={state} what="the customer">
        {(view) => (
          <div class="stack">
            {state.status === "done" && state.reloading ? (
              <p class="muted small" role="status">
                Refreshing…
              </p>
            ) : null}
            <Profile profile={view.profile} />
            <Subscriptions subscriptions={view.subscriptions} />
            <Licenses
              customerId={view.customerId}
              licenses={view.licenses}
              integratorUnavailable={view.integratorUnavailable === true}
              onChanged={reload}
            />
            <Installs installs={view.installs} />
            {canAct ? <ReconcileCustomer customerId={view.customerId} onRepaired={reload} /> : null}
            <CustomerEvents events={view.events ?? []} onReplayed={reloadSoon} />
            <AuditTrail audit={view.audit} />
          </div>
        )}
      </Show>
    </>
  );
}
