import { useState } from "preact/hooks";
import { request, segment } from "../api.ts";
import { ConfirmDialog } from "../components/Dialog.tsx";
import { ErrorAlert } from "../components/ErrorAlert.tsx";
import { Show } from "../components/Loaded.tsx";
import { TableWrap } from "../components/TableWrap.tsx";
import { date, text } from "../format.ts";
import { useAction, useLoad } from "../load.ts";
import { useOperator } from "../session.ts";
import { useTitle } from "../title.ts";
import type { NewOperator, OperatorRecord, Page, Role } from "../types.ts";

const ROLES: Role[] = ["viewer", "operator", "admin"];
const NAME = "^[a-z0-9][a-z0-9._\\-]{0,63}$";

/** `#/operators` (admin): who may use the console, adding one (its token shown once), revoking one. */
export function Operators() {
  useTitle("Operators");
  const [state, reload] = useLoad(() => request<Page<OperatorRecord>>("/admin/operators"), []);
  return (
    <>
      <h1>Operators</h1>
      <AddOperator onAdded={reload} />
      <section aria-labelledby="operator-list">
        <h2 id="operator-list">Operators</h2>
        <Show state={state} what="operators">
          {(page) =>
            page.data.length === 0 ? (
              <p>No operators yet: only the bootstrap admin token signs in.</p>
            ) : (
              <OperatorTable operators={page.data} onRevoked={reload} />
            )
          }
        </Show>
      </section>
    </>
  );
}

function AddOperator({ onAdded }: { onAdded: () => void }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [state, add, clear] = useAction((body: { name: string; role: Role }) =>
    request<NewOperator>("/admin/operators", { method: "POST", body }),
  );
  return (
    <section aria-labelledby="add-operator" class="card">
      <h2 id="add-operator">Add operator</h2>
      <form
        class="filters"
        onSubmit={async (event) => {
          event.preventDefault();
          if (await add({ name: name.trim(), role })) {
            setName("");
            onAdded();
          }
        }}
      >
        <div class="field">
          <label for="operator-name">Name</label>
          <input
            id="operator-name"
            type="text"
            required
            pattern={NAME}
            maxLength={64}
            autocomplete="off"
            aria-describedby="operator-name-help"
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="operator-role">Role</label>
          <select
            id="operator-role"
            value={role}
            onChange={(event) => setRole(event.currentTarget.value as Role)}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <button type="submit" disabled={state.status === "running"}>
            Add operator
          </button>
        </div>
      </form>
      <p id="operator-name-help" class="muted small">
        Lowercase letters, digits, dots, dashes and underscores. A viewer reads; an operator also replays,
        redrives, transfers and reconciles; an admin also manages operators.
      </p>
      {state.status === "error" ? <ErrorAlert error={state.error} /> : null}
      {state.status === "done" ? <NewToken created={state.data} onDone={clear} /> : null}
    </section>
  );
}

/** The new operator's token, shown this once. */
function NewToken({ created, onDone }: { created: NewOperator; onDone: () => void }) {
  return (
    <div class="result-box">
      <p class="ok" role="status">
        Added {created.name} ({created.role}).
      </p>
      <label for="new-token">Token for {created.name}</label>
      <input
        id="new-token"
        type="text"
        readOnly
        value={created.token}
        class="mono"
        aria-describedby="new-token-note"
        onFocus={(event) => event.currentTarget.select()}
      />
      <p id="new-token-note" class="notice">
        Copy this token now and hand it over safely: it is not shown again. Only its hash is kept.
      </p>
      <button type="button" class="small secondary" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

function OperatorTable({ operators, onRevoked }: { operators: OperatorRecord[]; onRevoked: () => void }) {
  const me = useOperator();
  return (
    <TableWrap label="Operators">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">Created by</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {operators.map((operator) => (
            <tr key={operator.name}>
              <td class="id">
                {operator.name}
                {operator.name === me.name ? <span class="muted small"> (you)</span> : null}
              </td>
              <td>{operator.role}</td>
              <td>{date(operator.createdAt)}</td>
              <td class="id">{text(operator.createdBy)}</td>
              <td>
                <Revoke name={operator.name} onRevoked={onRevoked} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function Revoke({ name, onRevoked }: { name: string; onRevoked: () => void }) {
  const [asking, setAsking] = useState(false);
  const [state, revoke] = useAction(async () => {
    await request<void>(`/admin/operators/${segment(name)}`, { method: "DELETE" });
    return true;
  });
  return (
    <>
      <button type="button" class="small danger" onClick={() => setAsking(true)}>
        Revoke<span class="visually-hidden"> {name}</span>
      </button>
      {state.status === "error" ? <ErrorAlert error={state.error} /> : null}
      {asking ? (
        <ConfirmDialog
          title={`Revoke ${name}`}
          confirmLabel="Confirm revoke"
          danger
          onConfirm={async () => {
            setAsking(false);
            if (await revoke()) onRevoked();
          }}
          onCancel={() => setAsking(false)}
        >
          <p>Revoke the operator {name}? Their token and sessions stop working.</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
