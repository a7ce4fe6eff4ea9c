import { useState } from "preact/hooks";
import { href, navigate } from "../router.ts";
import { useCan, useOperator } from "../session.ts";

const LINKS = [
  { page: "", label: "Overview" },
  { page: "search", label: "Search" },
  { page: "events", label: "Events" },
  { page: "dlq", label: "Dead letters" },
  { page: "reconcile", label: "Reconcile runs" },
  { page: "catalog", label: "Catalog" },
] as const;

/** The console's header: where to go, who is signed in, signing out, and a search box. */
export function Header({ page, onSignOut }: { page: string; onSignOut: () => void }) {
  const operator = useOperator();
  const admin = useCan("admin");
  const links = admin ? [...LINKS, { page: "operators", label: "Operators" }] : LINKS;
  return (
    <header class="header">
      <div class="header-top">
        <a class="brand" href="#/">
          Licensing console
        </a>
        <div class="who">
          <span>
            <span class="visually-hidden">Signed in as </span>
            <strong>{operator.name}</strong> <span class="role">{operator.role}</span>
          </span>
          <button type="button" class="small secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </div>
      <nav aria-label="Console">
        <ul class="nav">
          {links.map((link) => (
            <li key={link.page}>
              <a href={href(link.page)} aria-current={page === link.page ? "page" : undefined}>
                {link.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {page === "search" ? null : <HeaderSearch />}
    </header>
  );
}

/** The header's search box (not shown on the Search page, which has its own). */
function HeaderSearch() {
  const [q, setQ] = useState("");
  return (
    <search>
      <form
        class="header-search"
        onSubmit={(event) => {
          event.preventDefault();
          const text = q.trim();
          if (text) {
            setQ("");
            navigate(href("search", { q: text }));
          }
        }}
      >
        <label for="header-search">Search</label>
        <input
          id="header-search"
          type="search"
          value={q}
          maxLength={254}
          placeholder="email, cus_…, sub_…, license id"
          onInput={(event) => setQ(event.currentTarget.value)}
        />
      </form>
    </search>
  );
}
