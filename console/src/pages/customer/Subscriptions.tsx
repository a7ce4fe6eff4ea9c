import { Dash } from "../../components/Dash.tsx";
import { TableWrap } from "../../components/TableWrap.tsx";
import { date } from "../../format.ts";
import type { SubscriptionSummary } from "../../types.ts";

export function Subscriptions({ subscriptions }: { subscriptions: SubscriptionSummary[] }) {
  return (
    <section aria-labelledby="subscriptions">
      <h2 id="subscriptions">Subscriptions</h2>
      {subscriptions.length === 0 ? (
        <p>No subscriptions.</p>
      ) : (
        <TableWrap label="Subscriptions">
          <table>
            <thead>
              <tr>
                <th scope="col">Subscription</th>
                <th scope="col">Status</th>
                <th scope="col">Price</th>
                <th scope="col">Quantity</th>
                <th scope="col">Period end</th>
                <th scope="col">Trial end</th>
                <th scope="col">Cancel</th>
                <th scope="col">License email</th>
              </tr>
            </thead>
            <tbody>
              {subscriptions.map((s) => (
                <tr key={s.subscriptionId}>
                  <td class="id">{s.subscriptionId}</td>
                  <td>
                    <span class={`badge status-${s.status}`}>{s.status}</span>
                  </td>
                  <td>
                    <Lines
                      values={s.items.map((i) => (i.lookupKey ? `${i.lookupKey} (${i.price})` : i.price))}
                    />
                  </td>
                  <td>
                    <Lines values={s.items.map((i) => String(i.quantity))} />
                  </td>
                  <td>
                    <Lines values={s.items.map((i) => date(i.currentPeriodEnd))} />
                  </td>
                  <td>{date(s.trialEnd)}</td>
                  <td>{cancelText(s)}</td>
                  <td>
                    <Dash value={s.integratorEmail} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

function cancelText(s: SubscriptionSummary): string {
  if (s.cancelAt) return `at ${date(s.cancelAt)}`;
  if (s.cancelAtPeriodEnd) return "at period end";
  return "—";
}

/** One value per subscription item, each on its own line. */
function Lines({ values }: { values: string[] }) {
  if (values.length === 0) return <>—</>;
  if (values.length === 1) return <>{values[0]}</>;
  return (
    <ul class="plain">
      {values.map((value, index) => (
        <li key={index}>{value}</li>
      ))}
    </ul>
  );
}
