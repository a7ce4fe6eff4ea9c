import { TableWrap } from "../../components/TableWrap.tsx";
import { date, text } from "../../format.ts";

/** The customer's installs of the vendor's integration apps (found by their licenses' emails). */
export function Installs({ installs }: { installs: Record<string, unknown>[] | undefined }) {
  return (
    <section aria-labelledby="installs">
      <h2 id="installs">Installs</h2>
      {installs === undefined ? (
        <p class="muted">Installs are not available here.</p>
      ) : installs.length === 0 ? (
        <p>No installs.</p>
      ) : (
        <TableWrap label="Installs">
          <table>
            <thead>
              <tr>
                <th scope="col">Connector</th>
                <th scope="col">State</th>
                <th scope="col">Email</th>
                <th scope="col">Edition</th>
                <th scope="col">Version</th>
                <th scope="col">Integration</th>
                <th scope="col">Installed</th>
                <th scope="col">Removed</th>
              </tr>
            </thead>
            <tbody>
              {installs.map((install, index) => (
                <tr key={typeof install.integrationId === "string" ? install.integrationId : index}>
                  <td class="id">{text(install.connectorKey)}</td>
                  <td>
                    <span class="badge">{text(install.state)}</span>
                    {install.sandbox === true ? <span class="muted small"> sandbox</span> : null}
                  </td>
                  <td class="id">{text(install.email)}</td>
                  <td>{text(install.edition)}</td>
                  <td>{text(install.version)}</td>
                  <td class="id">{text(install.integrationId)}</td>
                  <td>{date(stringOr(install.installedAt ?? install.createdAt))}</td>
                  <td>{date(stringOr(install.removedAt))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

const stringOr = (value: unknown) => (typeof value === "string" ? value : undefined);
