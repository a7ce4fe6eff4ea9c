import { useState } from "preact/hooks";
import { request, segment } from "../../api.ts";
import { ErrorAlert } from "../../components/ErrorAlert.tsx";
import { Findings } from "../../components/Findings.tsx";
import { plural } from "../../format.ts";
import type { CustomerReconcile } from "../../types.ts";

type State =
  | { at: "idle" }
  | { at: "checking" }
  | { at: "checked"; dryRun: CustomerReconcile }
  | { at: "repairing"; dryRun: CustomerReconcile }
  | { at: "repaired"; repair: CustomerReconcile }
  | { at: "failed"; error: unknown; dryRun?: CustomerReconcile };

/** "Reconcile customer": a dry run shows the findings first; "Repair" then fixes them. */
export function ReconcileCustomer({
  customerId,
  onRepaired,
}: {
  customerId: string;
  onRepaired: () => void;
}) {
  const [state, setState] = useState<State>({ at: "idle" });
  const post = (dryRun: boolean) =>
    request<CustomerReconcile>(`/admin/customers/${segment(customerId)}/reconcile`, {
      method: "POST",
      body: { dryRun },
    });

  const check = async () => {
    setState({ at: "checking" });
    try {
      setState({ at: "checked", dryRun: await post(true) });
    } catch (error) {
      setState({ at: "failed", error });
    }
  };
  const repair = async (dryRun: CustomerReconcile) => {
    setState({ at: "repairing", dryRun });
    try {
      setState({ at: "repaired", repair: await post(false) });
      onRepaired();
    } catch (error) {
      setState({ at: "failed", error, dryRun });
    }
  };

  const shown = "dryRun" in state ? state.dryRun : undefined;
  return (
    <section aria-labelledby="reconcile-customer">
      <h2 id="reconcile-customer">Reconcile</h2>
      <p class="muted small">Compares this customer's licenses with Stripe and integrator.io.</p>
      <div class="buttons">
        <button type="button" disabled={state.at === "checking" || state.at === "repairing"} onClick={check}>
          Reconcile customer
        </button>
      </div>
      {state.at === "checking" ? (
        <p role="status" class="muted">
          Checking (dry run)…
        </p>
      ) : null}
      {shown ? (
        <div class="result-box">
          <p role="status">
            Dry run:{" "}
            {shown.findings.length === 0 ? "no drift found." : `${plural(shown.findings.length, "finding")}.`}
          </p>
          {shown.findings.length > 0 ? (
            <>
              <Findings items={shown.findings} label="Findings of the dry run" />
              <button type="button" disabled={state.at === "repairing"} onClick={() => repair(shown)}>
                Repair
              </button>
            </>
          ) : null}
        </div>
      ) : null}
      {state.at === "repairing" ? (
        <p role="status" class="muted">
          Repairing…
        </p>
      ) : null}
      {state.at === "repaired" ? (
        <div class="result-box">
          <p role="status" class="ok">
            Repaired {plural(state.repair.repaired, "finding")}.
          </p>
          {state.repair.findings.length > 0 ? (
            <Findings items={state.repair.findings} label="Findings of the repair" />
          ) : null}
        </div>
      ) : null}
      {state.at === "failed" ? <ErrorAlert error={state.error} /> : null}
    </section>
  );
}
