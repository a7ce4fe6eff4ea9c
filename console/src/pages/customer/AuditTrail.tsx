import { TableWrap } from "../../components/TableWrap.tsx";
import { date, detail, text } from "../../format.ts";
import type { AuditEntry } from "../../types.ts";

/** License changes and admin actions, newest first, each with who took it. */
export function AuditTrail({ audit }: { audit: AuditEntry[] }) {
  return (
    <section aria-labelledby="audit">
      <h2 id="audit">Audit trail</h2>
      {audit.length === 0 ? (
        <p>No audit entries.</p>
      ) : (
        <TableWrap label="Audit trail">
          <table>
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Action</th>
                <th scope="col">Connector</th>
                <th scope="col">Actor</th>
                <th scope="col">Cause</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {audit.map((entry, index) => (
                <tr key={index}>
                  <td>{date(entry.at)}</td>
                  <td class="id">{entry.action}</td>
                  <td class="id">{text(entry.connectorKey)}</td>
                  <td class="id">{text(entry.actor)}</td>
                  <td class="id">{text(entry.cause)}</td>
                  <td class="wrap small">{detail(entry.detail)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
