import { useRef, useState } from "preact/hooks";
import { signIn } from "../api.ts";
import { ErrorAlert } from "../components/ErrorAlert.tsx";
import type { Session } from "../types.ts";

/** Exchanges an operator token for a session. The token is read from the field once and kept nowhere. */
export function SignIn({ notice, onSignedIn }: { notice?: string; onSignedIn: (session: Session) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const field = input.current;
    if (!field || busy) return;
    const token = field.value.trim();
    field.value = "";
    if (!token) {
      setError(new Error("Enter your operator token."));
      field.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await signIn(token));
    } catch (failure) {
      setError(failure);
      setBusy(false);
      input.current?.focus();
    }
  };

  return (
    <main id="main" class="main narrow sign-in">
      <h1>Licensing console</h1>
      {notice && !error ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <form class="card form" method="post" onSubmit={submit}>
        <label for="operator-token">Operator token</label>
        <input
          id="operator-token"
          ref={input}
          type="password"
          name="operator-token"
          autocomplete="off"
          autocapitalize="off"
          spellcheck={false}
          required
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {busy ? (
          <p class="muted" role="status">
            Signing in…
          </p>
        ) : null}
      </form>
      {error ? <ErrorAlert error={error} bare /> : null}
    </main>
  );
}
