import { TableWrap } from "../../components/TableWrap.tsx";
import { date, text } from "../../format.ts";
import { useCan } from "../../session.ts";
import type { IntegratorCopy, License } from "../../types.ts";
import { addonsOf, editionOf, sameExpiry } from "./license-fields.ts";
import { TransferLicense } from "./TransferLicense.tsx";

/** Our licenses, with integrator.io's values beside ours where they differ. */
export function Licenses({
  customerId,
  licenses,
  integratorUnavailable,
  onChanged,
}: {
  customerId: string;
  licenses: License[];
  integratorUnavailable: boolean;
  onChanged: () => void;
}) {
  const canAct = useCan("operator");
  return (
    <section aria-labelledby="licenses">
      <h2 id="licenses">Licenses</h2>
      {integratorUnavailable ? (
        <p class="notice">integrator.io could not be reached: its copy of the licenses is not compared.</p>
      ) : null}
      {licenses.length === 0 ? (
        <p>No licenses.</p>
      ) : (
        <TableWrap label="Licenses">
          <table>
            <thead>
              <tr>
                <th scope="col">Connector</th>
                <th scope="col">State</th>
                <th scope="col">Email</th>
                <th scope="col">Edition</th>
                <th scope="col">Add-ons</th>
                <th scope="col">Expires</th>
                <th scope="col">integrator.io</th>
                {canAct ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {licenses.map((license) => (
                <LicenseRow
                  key={license.connectorKey}
                  license={license}
                  customerId={customerId}
                  compared={!integratorUnavailable && comparable(license)}
                  canAct={canAct}
                  onChanged={onChanged}
                />
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}

function LicenseRow({
  license,
  customerId,
  compared,
  canAct,
  onChanged,
}: {
  license: License;
  customerId: string;
  compared: boolean;
  canAct: boolean;
  onChanged: () => void;
}) {
  const theirs = copyOf(license.integrator);
  const missing = license.integrator?.missing === true;
  const ourAddons = addonsOf(license.opts).join("; ");
  const theirAddons = theirs ? addonsOf(theirs.opts).join("; ") : undefined;
  return (
    <tr class={missing ? "row-differs" : undefined}>
      <td class="id">
        {license.connectorKey}
        {license.licenseId ? <div class="muted small">{license.licenseId}</div> : null}
      </td>
      <td>
        <span class={`badge state-${license.state}`}>{license.state}</span>
        {license.reason ? <div class="muted small">{license.reason}</div> : null}
      </td>
      <Compared
        wide
        ours={text(license.email)}
        theirs={theirs ? text(theirs.email) : undefined}
        same={(a, b) => a.toLowerCase() === b.toLowerCase()}
      />
      <Compared
        ours={text(editionOf(license.opts))}
        theirs={theirs ? text(editionOf(theirs.opts)) : undefined}
      />
      <Compared ours={text(ourAddons)} theirs={theirAddons === undefined ? undefined : text(theirAddons)} />
      <Compared
        ours={date(license.expires)}
        theirs={theirs ? date(theirs.expires) : undefined}
        same={() => typeof theirs?.expires === "string" && sameExpiry(license.expires, theirs.expires)}
      />
      <td>
        {missing ? (
          <span class="differs">missing in integrator.io</span>
        ) : license.integrator ? (
          <span class="differs">differs</span>
        ) : compared ? (
          "same"
        ) : (
          "—"
        )}
      </td>
      {canAct ? (
        <td>
          <TransferLicense customerId={customerId} license={license} onTransferred={onChanged} />
        </td>
      ) : null}
    </tr>
  );
}

/**
 * The licenses the API compares with integrator.io's copy: those integrator.io should hold
 * (lib/admin/integrator-copies.ts). One still being created, or waiting for its user, is not "same".
 */
const comparable = (license: License) =>
  license.licenseId !== undefined && (license.state === "active" || license.state === "expired");

/** integrator.io's copy when it is there (not missing). */
function copyOf(copy: IntegratorCopy | undefined) {
  if (!copy || copy.missing === true) return undefined;
  return copy;
}

/** Our value; integrator.io's beneath it, highlighted, when it is known and differs. */
function Compared({
  ours,
  theirs,
  same = (a, b) => a === b,
  wide = false,
}: {
  ours: string;
  theirs: string | undefined;
  same?: (ours: string, theirs: string) => boolean;
  /** A column of emails: wider than the others. */
  wide?: boolean;
}) {
  const differs = theirs !== undefined && !same(ours, theirs);
  const classes = [wide ? "email" : "", differs ? "cell-differs" : ""].filter(Boolean).join(" ");
  return (
    <td class={classes || undefined}>
      {ours}
      {differs ? (
        <div class="theirs">
          <span class="label">integrator.io:</span> {theirs}
        </div>
      ) : null}
    </td>
  );
}
