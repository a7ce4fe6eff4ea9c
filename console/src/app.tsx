import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, currentSession, signOut, whenSessionEnds } from "./api.ts";
import { ErrorAlert } from "./components/ErrorAlert.tsx";
import { ErrorBoundary } from "./components/ErrorBoundary.tsx";
import { GlobalErrors } from "./components/GlobalErrors.tsx";
import { Header } from "./components/Header.tsx";
import { Loading } from "./components/Loaded.tsx";
import { Routes } from "./pages/Routes.tsx";
import { SignIn } from "./pages/SignIn.tsx";
import { useRoute } from "./router.ts";
import { SessionContext } from "./session.ts";
import type { Session } from "./types.ts";

type Boot =
  | { status: "loading" }
  | { status: "error"; error: unknown }
  | { status: "signed-out"; notice?: string }
  | { status: "signed-in"; session: Session };

/** The console: the sign-in page until there is a session, then the pages. */
export function App() {
  const [boot, setBoot] = useState<Boot>({ status: "loading" });
  const load = () => {
    setBoot({ status: "loading" });
    currentSession().then(
      (session) => setBoot(session ? { status: "signed-in", session } : { status: "signed-out" }),
      (error: unknown) => setBoot({ status: "error", error }),
    );
  };
  useEffect(() => {
    whenSessionEnds(() =>
      setBoot({ status: "signed-out", notice: "Your session has ended. Sign in again to go on." }),
    );
    load();
  }, []);

  return (
    <>
      <GlobalErrors />
      {boot.status === "loading" ? (
        <main class="main narrow">
          <Loading />
        </main>
      ) : boot.status === "error" ? (
        <main class="main narrow">
          <h1>Licensing console</h1>
          <ErrorAlert error={boot.error} title="The console could not start." />
          <button type="button" onClick={load}>
            Try again
          </button>
        </main>
      ) : boot.status === "signed-out" ? (
        <SignIn
          {...(boot.notice ? { notice: boot.notice } : {})}
          onSignedIn={(session) => setBoot({ status: "signed-in", session })}
        />
      ) : (
        <Shell
          session={boot.session}
          onSignedOut={() => setBoot({ status: "signed-out", notice: "You are signed out." })}
        />
      )}
    </>
  );
}

function Shell({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const route = useRoute();
  const [signOutError, setSignOutError] = useState<unknown>();
  const main = useRef<HTMLElement>(null);
  const key = `${route.parts.join("/")}?${route.query.toString()}`;
  const first = useRef(true);
  useEffect(() => {
    // After a change of page, keyboard and screen-reader users start at the new page.
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [route.parts.join("/")]);

  const leave = async () => {
    setSignOutError(undefined);
    try {
      await signOut();
      onSignedOut();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) onSignedOut();
      else setSignOutError(error);
    }
  };

  return (
    <SessionContext.Provider value={session.operator}>
      <button type="button" class="skip" onClick={() => document.getElementById("main")?.focus()}>
        Skip to content
      </button>
      <Header page={route.parts[0] ?? ""} onSignOut={leave} />
      <main id="main" class="main" ref={main} tabIndex={-1}>
        {signOutError ? <ErrorAlert error={signOutError} title="Signing out failed." /> : null}
        <ErrorBoundary resetKey={key}>
          <Routes route={route} />
        </ErrorBoundary>
      </main>
    </SessionContext.Provider>
  );
}
