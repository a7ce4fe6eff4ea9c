import { useEffect, useRef, useState } from "preact/hooks";
import { request, withQuery } from "../api.ts";
import { Show } from "../components/Loaded.tsx";
import { LoadMore } from "../components/LoadMore.tsx";
import { text } from "../format.ts";
import { usePaged } from "../load.ts";
import { href, navigate } from "../router.ts";
import { useTitle } from "../title.ts";
import type { CustomerMatch, Page } from "../types.ts";

const MATCHED_BY: Record<string, string> = {
  customerId: "customer id",
  email: "profile email",
  checkoutEmail: "checkout email",
  licenseEmail: "license email",
  subscriptionId: "subscription id",
  licenseId: "license id",
};

/** `#/search?q=`: one box finding a customer by email, customer, subscription or license id. */
export function Search({ q }: { q: string }) {
  useTitle(q ? `Search: ${q}` : "Search");
  const [value, setValue] = useState(q);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => setValue(q), [q]);
  useEffect(() => {
    if (!q) input.current?.focus();
  }, []);
  return (
    <>
      <h1>Search</h1>
      <search>
        <form
          class="search-form"
          onSubmit={(event) => {
            event.preventDefault();
            navigate(href("search", { q: value.trim() }));
          }}
        >
          <label for="search">Search</label>
          <div class="inline">
            <input
              id="search"
              ref={input}
              type="search"
              value={value}
              maxLength={254}
              aria-describedby="search-help"
              onInput={(event) => setValue(event.currentTarget.value)}
            />
            <button type="submit">Search</button>
          </div>
          <p id="search-help" class="muted small">
            An email (profile, checkout or license), a Stripe customer id (cus_…), a subscription id (sub_…)
            or a license id.
          </p>
        </form>
      </search>
      {q ? <Results key={q} q={q} /> : null}
    </>
  );
}

function Results({ q }: { q: string }) {
  const list = usePaged(
    (cursor?: string) => request<Page<CustomerMatch>>(withQuery("/admin/customers", { q, cursor })),
    [q],
  );
  return (
    <section aria-label="Results" class="results">
      <Show state={list.state} what="results">
        {({ items }) =>
          items.length === 0 ? (
            <p role="status">No customer matches “{q}”.</p>
          ) : (
            <>
              <p role="status" class="muted small">
                {items.length === 1 ? "1 customer" : `${items.length} customers`}
                {list.state.status === "done" && list.state.data.nextCursor ? " so far" : ""}
              </p>
              <ul class="result-list">
                {items.map((match) => (
                  <Result key={match.customerId} match={match} />
                ))}
              </ul>
            </>
          )
        }
      </Show>
      <LoadMore list={list} />
    </section>
  );
}

function Result({ match }: { match: CustomerMatch }) {
  return (
    <li class="card result">
      <a href={href("customers", match.customerId)} class="result-title">
        <span class="id">{match.customerId}</span>
        <span class="muted"> · {text(match.email)}</span>
      </a>
      <p class="small">
        Matched by {MATCHED_BY[match.matchedBy] ?? match.matchedBy}
        {". "}
        Subscriptions:{" "}
        {match.subscriptions.length === 0
          ? "—"
          : match.subscriptions.map((s) => `${s.subscriptionId} (${s.status})`).join(", ")}
        {". "}
        Licenses:{" "}
        {match.licenses.length === 0
          ? "—"
          : match.licenses.map((l) => `${l.connectorKey} ${l.state} (${l.email})`).join(", ")}
        .
      </p>
    </li>
  );
}
