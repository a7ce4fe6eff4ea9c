import type { Route } from "../router.ts";
import { useCan } from "../session.ts";
import { useTitle } from "../title.ts";
import { Catalog } from "./Catalog.tsx";
import { Customer } from "./Customer.tsx";
import { DeadLetters } from "./DeadLetters.tsx";
import { Events } from "./Events.tsx";
import { Operators } from "./Operators.tsx";
import { Overview } from "./Overview.tsx";
import { ReconcileRun } from "./ReconcileRun.tsx";
import { ReconcileRuns } from "./ReconcileRuns.tsx";
import { Search } from "./Search.tsx";

/** The page a hash route names. */
export function Routes({ route }: { route: Route }) {
  const admin = useCan("admin");
  const [page = "", id] = route.parts;
  const { query } = route;
  const extra = route.parts.length > (id === undefined ? 1 : 2);
  if (extra) return <NotFound />;
  switch (page) {
    case "":
      return <Overview />;
    case "search":
      return <Search q={query.get("q") ?? ""} />;
    case "customers":
      return id ? <Customer key={id} customerId={id} /> : <Search q="" />;
    case "events":
      return (
        <Events key={query.toString()} status={query.get("status") ?? ""} type={query.get("type") ?? ""} />
      );
    case "dlq":
      return id ? <NotFound /> : <DeadLetters />;
    case "reconcile":
      return id ? <ReconcileRun key={id} runId={id} /> : <ReconcileRuns />;
    case "catalog":
      return id ? <NotFound /> : <Catalog />;
    case "operators":
      if (id) return <NotFound />;
      return admin ? <Operators /> : <Forbidden />;
    default:
      return <NotFound />;
  }
}

function NotFound() {
  useTitle("Not found");
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no such page in the console. <a href="#/">Go to the overview</a>.
      </p>
    </>
  );
}

function Forbidden() {
  useTitle("Operators");
  return (
    <>
      <h1>Operators</h1>
      <p class="alert" role="alert">
        Managing operators needs the admin role.
      </p>
    </>
  );
}
