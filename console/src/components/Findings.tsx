import { detail, text } from "../format.ts";
import { href } from "../router.ts";
import type { DriftItem } from "../types.ts";
import { TableWrap } from "./TableWrap.tsx";

/** Reconcile findings: kind, customer (when asked), connector, what was found. */
export function Findings({
  items,
  label,
  showKind = true,
  showCustomer = false,
}: {
  items: DriftItem[];
  label: string;
  showKind?: boolean;
  showCustomer?: boolean;
}) {
  return (
    <TableWrap label={label}>
      <table>
        <thead>
          <tr>
            {showKind ? <th scope="col">Kind</th> : null}
            {showCustomer ? <th scope="col">Customer</th> : null}
            <th scope="col">Connector</th>
            <th scope="col">Detail</th>
            <th scope="col">Ids</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item, index) => (
            <tr key={index}>
              {showKind ? (
                <td>
                  <span class="badge drift">{item.kind}</span>
                </td>
              ) : null}
              {showCustomer ? (
                <td class="id">
                  {item.customerId ? <a href={href("customers", item.customerId)}>{item.customerId}</a> : "—"}
                </td>
              ) : null}
              <td class="id">{text(item.connectorKey ?? item.connector)}</td>
              <td class="wrap">{detail(item.detail)}</td>
              <td class="id small">{ids(item)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function ids(item: DriftItem): string {
  const parts = [item.licenseId, item.subscriptionId, item.eventId].filter(Boolean);
  return parts.length ? parts.join(" ") : "—";
}
